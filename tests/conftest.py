"""Fixtures in the style of Flask's tutorial: ``app``, ``client``, ``runner``.

The test database is made once per run with the real migrations (so reference data
is there) and emptied between tests. With ``DATABASE_URL`` pointing at PostgreSQL a
fresh database with a unique name is created for this run and dropped afterwards,
so parallel runs never see each other's rows.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url

from config import database_url
from eventhub import create_app
from eventhub.directory import search
from eventhub.events.models import Organization
from eventhub.extensions import db, limiter

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"')


def _postgres_test_database() -> tuple[str, callable]:
    base = make_url(database_url())
    name = f"eventhub_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory):
    """A migrated, empty database for this test run."""
    if os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql")):
        uri, drop = _postgres_test_database()
    else:
        uri = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        drop = None
    app = create_app(_test_config(uri, tmp_path_factory.mktemp("inst")))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    yield uri
    if drop:
        drop()


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests (a real server outage, PostgreSQL → SQLite restores) belong to
    the PostgreSQL pass; the SQLite pass deselects them rather than skipping."""
    if database_url().startswith("postgresql"):
        return
    chosen, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("postgres_only") else chosen).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = chosen


def _test_config(uri: str, tmp: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": uri,
        "MAIL_BACKEND": "folder",
        "MAIL_FOLDER": str(tmp / "mail"),
        "BASE_URL": "http://localhost",
        "SERVER_NAME": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_DELIVER_IN_PROCESS": False,
    }


def empty_database() -> None:
    """Delete every row except the reference organizations."""
    for table in reversed(db.metadata.sorted_tables):
        if table.name == "organizations":
            db.session.execute(delete(Organization).where(Organization.code.is_(None)))
        else:
            db.session.execute(table.delete())
    search.rebuild_all(db.session.connection())  # the reference organizations' documents
    db.session.commit()


@pytest.fixture
def app(database_uri, tmp_path):
    """A fresh app on the shared test database; no context is left pushed, so every
    request gets its own (as in production). Use ``with app.app_context():`` for setup."""
    app = create_app(_test_config(database_uri, tmp_path))
    with app.app_context():
        limiter.reset()
    yield app
    with app.app_context():
        db.session.rollback()
        empty_database()
        db.engine.dispose()


class Client(FlaskClient):
    """A test client that sends the CSRF token with form posts, like a browser would."""

    def csrf_token(self) -> str:
        page = super().get("/login").get_data(as_text=True)
        match = CSRF_RE.search(page)
        assert match, "no CSRF token on /login"
        return match.group(1) or match.group(2)

    def post(self, *args, csrf: bool = True, **kwargs):
        data = kwargs.get("data")
        if csrf and isinstance(data, dict) and "csrf_token" not in data:
            kwargs["data"] = {**data, "csrf_token": self.csrf_token()}
        return super().post(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = Client
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def mail_dir(app) -> Path:
    return Path(app.config["MAIL_FOLDER"])
