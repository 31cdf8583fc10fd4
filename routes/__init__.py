"""HTTP routes, one module per area; each has register(app)."""

from routes import auth, docs, events, images, logs, pages, rooms, search, stats


def register_all(app) -> None:
    for area in (pages, docs, auth, rooms, logs, events, stats, images, search):
        area.register(app)
