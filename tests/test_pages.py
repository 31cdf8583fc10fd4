"""The page, the error pages, /healthz."""

import base64
import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

import webtest

MODULES = Path(__file__).parent.parent / "static" / "js"


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
    assert "script-src 'self' 'sha256-" in policy and "object-src 'none'" in policy and "unsafe-inline" not in policy
    entry = res.html.find("script", type="module")["src"]
    assert entry.startswith("/static/js/main.js?v=")
    assert "max-age" in client.get(entry, status=200).headers["Cache-Control"]
    assert res.html.find(id="app")["data-image-base"] == "/media"


def test_the_import_map_versions_every_module_and_its_hash_is_in_the_policy(client):
    res = client.get("/", status=200)
    inline = res.html.find("script", type="importmap").string
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in res.headers["Content-Security-Policy"]
    imports = json.loads(inline)["imports"]
    assert set(imports) == {f"chat/{path.stem}" for path in MODULES.glob("*.js")}
    assert [link["href"] for link in res.html.find_all("link", rel="modulepreload")] == list(imports.values())
    for name, url in imports.items():
        body = client.get(url, status=200).body
        assert url == f"/static/js/{name.removeprefix('chat/')}.js?v={hashlib.sha256(body).hexdigest()[:12]}"
    # Modules name each other only through the map, so a changed module changes its URL everywhere.
    for path in MODULES.glob("*.js"):
        for specifier in re.findall(r'^import .* from "([^"]+)";$', path.read_text(), re.M):
            assert specifier in imports, f"{path.name} imports {specifier}, which the import map does not name"


def test_a_changed_module_gets_a_new_url(tmp_path, monkeypatch):
    import routes.pages

    (tmp_path / "js").mkdir()
    module = tmp_path / "js" / "x.js"
    module.write_text("export const a = 1;\n")
    monkeypatch.setattr(routes.pages, "STATIC", str(tmp_path))
    before = json.loads(routes.pages.import_map())["imports"]["chat/x"]
    module.write_text("export const a = 22;\n")
    assert json.loads(routes.pages.import_map())["imports"]["chat/x"] != before


def test_favicon(client):
    res = client.get("/favicon.ico", status=200)
    assert res.content_type == "image/svg+xml" and b"<svg" in res.body
    page = client.get("/", status=200)
    assert page.html.find("link", rel="icon")["href"].startswith("/static/favicon.svg?v=")


def test_image_store_origin_is_allowed_in_the_policy(make_app, settings):
    app = make_app(replace(settings, s3_bucket="pics", s3_public_url="https://cdn.example.com/chat"))
    res = webtest.TestApp(app).get("/", status=200)
    assert "img-src 'self' blob: https://cdn.example.com;" in res.headers["Content-Security-Policy"]
    assert res.html.find(id="app")["data-image-base"] == "https://cdn.example.com/chat"


def test_client_scripts_never_build_html_from_strings():
    scripts = list((Path(__file__).parent.parent / "static").rglob("*.js"))
    assert len(scripts) > 10
    for script in scripts:
        source = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in source, f"{script.name} uses {sink}"


def test_no_client_module_is_over_250_lines():
    for path in MODULES.glob("*.js"):
        assert len(path.read_text().splitlines()) <= 250, path.name
