"""HTTP routes, one module per area; each has register(app)."""

from routes import attention, auth, docs, events, images, logs, members, pages, people, push, rooms, stats


def register_all(app) -> None:
    for area in (pages, docs, auth, people, rooms, members, logs, events, stats, images, attention, push):
        area.register(app)
