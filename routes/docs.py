"""The API's OpenAPI 3.1 document, kept by hand in static/openapi.json."""

from pathlib import Path

from bottle import static_file

DOCUMENT = Path(__file__).resolve().parent.parent / "static" / "openapi.json"


def openapi_document():
    """GET /v1/openapi.json: the API document."""
    return static_file(DOCUMENT.name, root=str(DOCUMENT.parent), mimetype="application/json")


def register(app) -> None:
    app.get("/v1/openapi.json", callback=openapi_document)
