"""Schema fuzzing: schemathesis generates requests from the OpenAPI document, valid and invalid, for every
operation; the live app must never answer 5xx and every answer must match the document."""

import json
import os
from collections import Counter
from dataclasses import replace

import pytest
import schemathesis
import webtest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from routes.docs import DOCUMENT
from scripts.sample_images import png
from tests.helpers import PASSWORD, assert_clean

MAX_EXAMPLES = 100
IMAGE = png()
SCHEMA = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text()))
SCHEMA.config.generation.update(with_security_parameters=False)  # the test sends the session; test_hostile bad ones
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}
# A stream lasts about a second here (STREAM_MAX_SECONDS is tiny, but it waits 1 s for events): fewer of them.
EXAMPLES = {"GET /v1/events/{roomid}": 20}
# Any non-empty path is valid there: nothing to negate.
ONLY_POSITIVE = {"GET /static/{path}", "GET /media/{name}"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Invalid input may only be accepted where the server is documented to be lenient (it trims, ignores extras).
NEGATIVE_CHECKS = CHECKS + [negative_data_rejection]


def fuzz_cases():
    for label, operation in OPERATIONS.items():
        yield pytest.param(label, GenerationMode.POSITIVE, id=f"{label} positive")
        has_input = operation.body or any(p.name != "session" for p in operation.iter_parameters())
        if has_input and label not in ONLY_POSITIVE:
            yield pytest.param(label, GenerationMode.NEGATIVE, id=f"{label} negative")


@pytest.fixture
def target(make_app, memory_settings):
    """The app, its store, and the values that reach the happy paths: a user, a room that a second
    member keeps alive, with messages, an image (tasks run in-process: no worker needed), a static file."""
    app = make_app(
        replace(
            memory_settings, login_rate_per_address=(10_000, 300), upload_rate=(10_000, 600), stream_max_seconds=0.1
        )
    )
    store = app.config["chat.store"]
    user, other = "fuzz@example.com", "other@example.com"
    for email in (user, other):
        store.users.register(email, PASSWORD)
    roomid = store.rooms.create(other, "fuzz room")
    store.rooms.enter(user, roomid)
    for text in ("first", "second", "third"):  # messages to edit, delete, react and reply to
        store.messages.post(user, roomid, text)
    uploader = webtest.TestApp(app)
    uploader.post_json("/auth/login", {"username": user, "password": PASSWORD})
    url = uploader.post("/v1/image", upload_files=[("file", "a.png", IMAGE)]).json["url"]
    known = {
        "userid": user,
        "username": user,
        "password": PASSWORD,
        "roomid": roomid,
        "file": IMAGE,
        "name": url.removeprefix("/media/"),
        "path": "chat.css",
        "id": 2,
        "reply_to": 1,
        "emoji": "👍",
    }
    return app, store, known


def aim(case, known: dict) -> None:
    """Point a generated request at the fixture's user, room and image, so the happy paths are reached too."""
    for name in case.path_parameters or {}:
        if name in known:
            case.path_parameters[name] = known[name]
    if isinstance(case.body, dict):
        for name in case.body.keys() & known.keys():
            case.body[name] = known[name]


@pytest.mark.parametrize("label, mode", list(fuzz_cases()))
def test_fuzz(label, mode, target, artifacts):
    app, store, known = target
    operation, statuses = OPERATIONS[label], Counter()
    negative = mode is GenerationMode.NEGATIVE
    checks = NEGATIVE_CHECKS if negative else CHECKS

    # CI draws the same examples every run, so a landing is never decided by luck; elsewhere each run
    # explores new ones (a defect found that way gets a test of its own).
    @hypothesis_settings(
        max_examples=EXAMPLES.get(label, MAX_EXAMPLES),
        deadline=None,
        database=None,
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode), aimed=st.just(False) if negative else st.booleans())
    def run(case, aimed):
        if aimed:  # never a negative case: aiming could make it valid
            aim(case, known)
        store.rooms.enter(known["userid"], known["roomid"])  # an aimed leave may have taken the user out
        token = store.sessions.open(known["userid"])  # a fresh one: an example may have logged out
        response = case.call(app=app, cookies={"session": token})
        statuses[response.status_code] += 1
        case.validate_response(response, checks=checks)

    run()
    assert_clean(store.db)  # whatever was accepted, no operator keys and no NUL reached the database
    report = {
        "operation": label,
        "mode": mode.value,
        "examples": sum(statuses.values()),
        "statuses": dict(sorted(statuses.items())),
    }
    name = label.replace("/", "_").replace(" ", "").replace("{", "").replace("}", "")
    (artifacts / f"fuzz-{name}-{mode.value}.json").write_text(json.dumps(report))
