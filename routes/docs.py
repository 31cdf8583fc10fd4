"""The API's OpenAPI 3.1 document, kept by hand in static/openapi.json."""

from pathlib import Path

from bottle import static_file

from routes.pages import STATIC

DOCUMENT = Path(STATIC, "openapi.json")


def openapi_document():
    return static_file(DOCUMENT.name, root=STATIC, mimetype="application/json")


def register(app) -> None:
    app.get("/v1/openapi.json", callback=openapi_document)
