"""The OpenAPI document: valid 3.1, served, and describing every route the app has (and no other)."""

import json
import re

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from routes.docs import DOCUMENT
from routes.inputs import CID_MAX, MESSAGE_MAX
from routes.rooms import NAME_MAX

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def document() -> dict:
    return json.loads(DOCUMENT.read_text())


def documented_operations() -> set[tuple[str, str]]:
    return {
        (method.upper(), path) for path, item in document()["paths"].items() for method in item if method in METHODS
    }


def app_operations(app) -> set[tuple[str, str]]:
    """(method, path) of every bottle route, with `<name>` and `<name:filter>` written as `{name}`."""
    return {(route.method, re.sub(r"<([^:>]+)(:[^>]*)?>", r"{\1}", route.rule)) for route in app.routes}


def test_the_document_is_valid_openapi_3_1():
    validate(document(), cls=OpenAPIV31SpecValidator)


def test_the_document_is_served(client):
    res = client.get("/v1/openapi.json", status=200)
    assert res.content_type == "application/json"
    assert res.json == document()


def test_every_route_is_documented(wsgi_app):
    assert app_operations(wsgi_app) - documented_operations() == set()


def test_every_documented_operation_exists(wsgi_app):
    assert documented_operations() - app_operations(wsgi_app) == set()


@pytest.mark.parametrize(
    "where, limit",
    [
        (("NewMessage", "properties", "m"), MESSAGE_MAX),
        (("Message", "properties", "m"), MESSAGE_MAX),
        (("NewMessage", "properties", "cid"), CID_MAX),
        (("RoomName",), NAME_MAX),
    ],
)
def test_documented_lengths_are_the_codes(where, limit):
    schema = document()["components"]["schemas"]
    for key in where:
        schema = schema[key]
    assert schema["maxLength"] == limit


@pytest.mark.parametrize("path", sorted(document()["paths"]))
def test_undocumented_methods_are_405_and_allow_names_the_documented_ones(client, path):
    documented = {method.upper() for method in document()["paths"][path] if method in METHODS}
    url = re.sub(r"\{[^}]+\}", "x", path)
    for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - documented:
        res = client.request(url, method=method, status=405)
        assert set(res.headers["Allow"].split(",")) == documented
