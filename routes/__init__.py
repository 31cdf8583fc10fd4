"""HTTP routes, one module per area; each has register(app)."""

from routes import (
    attention,
    auth,
    docs,
    events,
    hooks,
    images,
    logs,
    members,
    pages,
    people,
    push,
    rooms,
    search,
    stats,
    user_stream,
)


def register_all(app) -> None:
    areas = (
        pages,
        docs,
        auth,
        people,
        rooms,
        members,
        logs,
        events,
        stats,
        images,
        attention,
        search,
        push,
        hooks,
        user_stream,
    )
    for area in areas:
        area.register(app)
