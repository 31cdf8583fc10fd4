"""HTTP routes, one module per area; each has register(app)."""

from routes import attention, auth, docs, events, images, logs, members, pages, people, rooms, search, stats


def register_all(app) -> None:
    for area in (pages, docs, auth, people, rooms, members, logs, events, stats, images, attention, search):
        area.register(app)
