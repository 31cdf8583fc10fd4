"""HTTP routes, one module per area; each has register(app)."""
from routes import auth, events, images, logs, pages, rooms, stats


def register_all(app) -> None:
    for area in (pages, auth, rooms, logs, events, stats, images):
        area.register(app)
