"""Fixtures in the style of Flask's tutorial: ``app``, ``client``, ``runner``.

The test database is made once per run with the real migrations (so reference data
is there) and emptied between tests. With ``DATABASE_URL`` pointing at PostgreSQL a
fresh database with a unique name is created for this run and dropped afterwards,
so parallel runs never see each other's rows.

Only fixtures (and collection hooks) live here; what tests share otherwise is in
``tests/support``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from eventhub import create_app
from eventhub.extensions import db, limiter
from tests.support.client import Client
from tests.support.config import app_config, on_postgres
from tests.support.db import empty_database, postgres_test_database
from tests.support.speedups import fast_password_hash, sqlite_without_fsync, template_cache


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory):
    """A migrated, empty database for this test run."""
    if on_postgres():
        uri, drop = postgres_test_database()
    else:
        uri = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        drop = None
    app = create_app(app_config(uri, tmp_path_factory.mktemp("inst")))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    yield uri
    if drop:
        drop()


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Passwords hashed in this process use one PBKDF2 round, not scrypt (see
    tests/support/speedups.py): signing in takes a millisecond instead of 0.1 s."""
    from eventhub.accounts import services

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(services, "generate_password_hash", fast_password_hash)
        patch.setattr(services, "_DUMMY_HASH", fast_password_hash("not-a-real-password"))
        yield


@pytest.fixture(scope="session", autouse=True)
def sqlite_no_fsync():
    """SQLite connections made in this process skip fsync (tests/support/speedups.py)."""
    event.listen(Engine, "connect", sqlite_without_fsync)
    yield
    event.remove(Engine, "connect", sqlite_without_fsync)


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests (a real server outage, PostgreSQL → SQLite restores) belong to
    the PostgreSQL pass; the SQLite pass deselects them rather than skipping."""
    if on_postgres():
        return
    chosen, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("postgres_only") else chosen).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = chosen


@pytest.fixture
def app(database_uri, tmp_path):
    """A fresh app on the shared test database; no context is left pushed, so every
    request gets its own (as in production). Use ``with app.app_context():`` for setup."""
    app = create_app(app_config(database_uri, tmp_path))
    app.jinja_env.bytecode_cache = template_cache  # (tests/support/speedups.py)
    with app.app_context():
        limiter.reset()
    yield app
    with app.app_context():
        db.session.rollback()
        empty_database()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A ``tests.support.client.Client``: form posts carry the CSRF token."""
    app.test_client_class = Client
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def mail_dir(app) -> Path:
    return Path(app.config["MAIL_FOLDER"])
