"""The test database: a fresh PostgreSQL database per run, emptied between tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url

from config import database_url
from eventhub.directory import search
from eventhub.events.models import Organization
from eventhub.extensions import db


def postgres_test_database() -> tuple[str, Callable[[], None]]:
    """A new, empty database on the server of ``DATABASE_URL``: (its URL, drop it)."""
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


def empty_database() -> None:
    """Delete every row except the reference organizations (in an app context)."""
    for table in reversed(db.metadata.sorted_tables):
        if table.name == "organizations":
            db.session.execute(delete(Organization).where(Organization.code.is_(None)))
        else:
            db.session.execute(table.delete())
    search.rebuild_all(db.session.connection())  # the reference organizations' documents
    db.session.commit()
