"""Fixtures: real servers per session, a fresh database per test, WebTest clients per user."""

import itertools
from dataclasses import replace
from pathlib import Path

import pymongo
import pytest
import webtest

from chat import create_app
from scripts.servers import S3, Mongo, Redis
from settings import Settings
from tests.helpers import PASSWORD, TEST_DB


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so a fixture can tell that its test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def mongo_server():
    server = Mongo()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    server = Redis()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server():
    server = S3()
    yield server
    server.stop()


@pytest.fixture
def fresh_db(mongo_server, redis_server):
    """Empty the test database and Redis before the test."""
    with pymongo.MongoClient(mongo_server.uri(TEST_DB)) as client:
        client.drop_database(TEST_DB)
    redis_server.flush()


@pytest.fixture
def settings(mongo_server, redis_server, fresh_db, tmp_path) -> Settings:
    """Test settings: the real database and Redis; images on local disk unless a test says S3."""
    return Settings(
        mongodb_uri=mongo_server.uri(TEST_DB),
        redis_url=redis_server.url,
        data_dir=tmp_path,
        admin_users=frozenset({"admin@example.com"}),
        register_rate=(10_000, 3600),
        message_rate=(10_000, 10),
    )


@pytest.fixture
def memory_settings(settings) -> Settings:
    """As `settings`, but with no Redis: in-process fan-out, limits and eager tasks."""
    return replace(settings, redis_url=None)


@pytest.fixture
def make_app():
    """Build apps from settings and close their stores afterwards."""
    built = []

    def build(settings):
        app = create_app(settings)
        built.append(app)
        return app

    yield build
    for app in built:
        app.config["chat.store"].close()


@pytest.fixture
def wsgi_app(make_app, settings):
    return make_app(settings)


@pytest.fixture
def client(wsgi_app):
    """An anonymous WebTest client."""
    return webtest.TestApp(wsgi_app)


_emails = itertools.count(1)


@pytest.fixture
def new_user(wsgi_app):
    """new_user(email=None) -> a WebTest client logged in as a newly registered user (client.user)."""

    def make(email: str | None = None, app=None) -> webtest.TestApp:
        email = email or f"user{next(_emails)}@example.com"
        user_client = webtest.TestApp(app or wsgi_app)
        user_client.post_json("/auth/register", {"username": email, "password": PASSWORD}, status=201)
        user_client.user = email
        return user_client

    return make


@pytest.fixture
def artifacts() -> Path:
    path = Path(__file__).parent / "artifacts"
    path.mkdir(exist_ok=True)
    return path
