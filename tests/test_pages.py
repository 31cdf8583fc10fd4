"""The page, the error pages, /healthz."""

from dataclasses import replace
from pathlib import Path

import webtest


def test_index_page(client):
    res = client.get("/", status=200)
    assert res.content_type == "text/html" and "<title>chat</title>" in res.text


def test_unknown_page_is_the_html_404(client):
    res = client.get("/no/such/page", status=404)
    assert res.content_type == "text/html" and "404 Not Found" in res.text


def test_missing_index_template_is_404(client, monkeypatch):
    import routes.pages

    monkeypatch.setattr(routes.pages, "INDEX_TEMPLATE", "no-such-template")
    res = client.get("/", status=404)
    assert "404" in res.text


def test_server_error_renders_the_error_page(wsgi_app):
    wsgi_app.get("/boom", callback=lambda: 1 / 0)
    res = webtest.TestApp(wsgi_app).get("/boom", status=500, expect_errors=True)
    assert "500 Internal Server Error" in res.text and "ZeroDivisionError" not in res.text


def test_healthz(client):
    assert client.get("/healthz", status=200).json == {"mongo": "ok", "redis": "ok"}


def test_healthz_without_redis(make_app, memory_settings):
    assert webtest.TestApp(make_app(memory_settings)).get("/healthz").json["redis"] == "off"


def test_static_has_cache_headers(client):
    res = client.get("/static/chat.css", status=200)
    assert "max-age" in res.headers["Cache-Control"]


def test_index_has_a_content_policy_and_versioned_assets(client):
    res = client.get("/", status=200)
    policy = res.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy and "unsafe-inline" not in policy
    script = res.html.find("script")["src"]
    assert script.startswith("/static/chat.js?v=")
    assert "max-age" in client.get(script, status=200).headers["Cache-Control"]
    assert res.html.find(id="app")["data-image-base"] == "/media"


def test_image_store_origin_is_allowed_in_the_policy(make_app, settings):
    app = make_app(replace(settings, s3_bucket="pics", s3_public_url="https://cdn.example.com/chat"))
    res = webtest.TestApp(app).get("/", status=200)
    assert "img-src 'self' blob: https://cdn.example.com;" in res.headers["Content-Security-Policy"]
    assert res.html.find(id="app")["data-image-base"] == "https://cdn.example.com/chat"


def test_client_script_never_builds_html_from_strings():
    source = (Path(__file__).parent.parent / "static" / "chat.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source
