"""HTTP routes, one module per area; each has register(app)."""

from routes import attention, auth, docs, events, hooks, images, logs, members, pages, people, rooms, stats


def register_all(app) -> None:
    for area in (pages, docs, auth, people, rooms, members, logs, events, stats, images, attention, hooks):
        area.register(app)
