"""The house rules that keep the code's rooms apart: checked, not just written down."""

import ast
from pathlib import Path

from chat import create_app

ROOT = Path(__file__).resolve().parent.parent
SHARED_ROUTE_MODULES = {"routes.common", "routes.inputs", "routes.sse"}


def imports(path: Path) -> set[str]:
    """The modules a file imports (absolute names)."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_every_route_handler_states_its_contract_in_one_line(make_app, settings):
    app = make_app(settings)
    missing = []
    for route in app.routes:
        doc = (route.callback.__doc__ or "").strip()
        if not doc or "\n" in doc:
            missing.append(f"{route.method} {route.rule} ({route.callback.__module__}.{route.callback.__name__})")
    assert not missing, missing


def test_route_modules_import_only_the_shared_ones():
    for path in (ROOT / "routes").glob("*.py"):
        if path.name == "__init__.py":
            continue
        others = {name for name in imports(path) if name.startswith("routes")} - SHARED_ROUTE_MODULES
        assert not others, (path.name, others)


def test_the_store_knows_neither_bottle_nor_celery_nor_routes():
    for path in (ROOT / "store").glob("*.py"):
        assert not {n.split(".")[0] for n in imports(path)} & {"bottle", "celery", "routes", "tasks"}, path.name


def test_nothing_imports_tests_but_tests():
    for folder in ("scripts", "bench", "routes", "store", "tasks"):
        for path in (ROOT / folder).glob("*.py"):
            assert not any(n == "tests" or n.startswith("tests.") for n in imports(path)), path


def test_no_test_module_imports_another():
    for path in (ROOT / "tests").glob("test_*.py"):
        assert not any(n.startswith("tests.test_") for n in imports(path)), path.name


def test_the_factory_builds_every_dependency(make_app, settings):
    app = make_app(settings)
    assert {"chat.settings", "chat.store", "chat.images", "chat.celery"} <= set(app.config)
    assert app.config["chat.celery"].chat_images is app.config["chat.images"]
    assert app.config["chat.celery"].chat_store is app.config["chat.store"]
    assert create_app.__doc__
