"""The page, the error pages, /healthz."""
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
