"""`eventhub backup` and `eventhub restore`: every row of every table comes back, also
across SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from eventhub import backup, create_app
from eventhub.extensions import db
from tests.support.config import app_config, on_postgres

ON_POSTGRES = on_postgres()


def fill(app) -> None:
    """The demo event (staff, participants, programme, polls) plus votes, a magic link,
    agenda entries, outbox mail: rows in as many tables as the app has."""
    from eventhub.demo import load_demo
    from eventhub.mail import OutboxMail
    from eventhub.polls.models import Poll, Vote

    with app.app_context():
        load_demo()
        db.session.flush()
        for poll in db.session.scalars(db.select(Poll)).all()[:3]:
            option = poll.options[0].id if poll.options else None
            value = [option] if option else "ord"
            for i in range(3):
                db.session.add(Vote(poll_id=poll.id, voter_key=f"v{i}-{poll.id}", value=value))
        db.session.add(OutboxMail(to_addr="x@example.com", subject="Æble ø å",
                                  body_text="hej", attachments=[{"filename": "a.ics",
                                  "content_type": "text/calendar", "data": "QUJD"}],
                                  next_attempt_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)))
        db.session.commit()


def snapshot(app) -> dict[str, list[dict]]:
    """Every row of every table, encoded as in a backup (comparable across databases)."""
    with app.app_context():
        rows = {t.name: list(backup._rows(t)) for t in backup.tables()}
        db.session.rollback()
        return rows


def other_database(kind: str, tmp_path) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / f'restored-{uuid.uuid4().hex[:6]}.sqlite'}", lambda: None
    base = make_url(os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
    name = f"eventhub_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def restore_into(uri: str, tmp_path, archive) -> object:
    target = create_app(app_config(uri, tmp_path / uuid.uuid4().hex[:6]))
    result = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    return target


def dispose(app) -> None:
    with app.app_context():
        db.engine.dispose()


def test_backup_and_restore_into_an_empty_database_keeps_every_row(app, runner, tmp_path):
    fill(app)
    before = snapshot(app)
    assert set(before) == {t.name for t in db.metadata.sorted_tables}
    filled = [name for name, rows in before.items() if rows]
    for name in ("users", "events", "registrations", "sessions", "polls", "votes",
                 "outbox_mails", "organizations"):
        assert name in filled

    archive = tmp_path / "eventhub-backup.zip"
    result = runner.invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(archive) as z:
        names = set(z.namelist())
    assert names == {"manifest.json"} | {f"tables/{t}.jsonl" for t in before}

    same_kind = "postgresql" if ON_POSTGRES else "sqlite"
    uri, drop = other_database(same_kind, tmp_path)
    try:
        target = restore_into(uri, tmp_path, archive)
        assert snapshot(target) == before
        # New rows get fresh ids after the restored ones (sequences moved on).
        with target.app_context():
            from eventhub.accounts.services import get_or_create_user

            user = get_or_create_user("ny@example.com")
            db.session.commit()
            assert user.id > max(r["id"] for r in before["users"])
        # A second restore into a database that holds data needs --replace.
        again = target.test_cli_runner().invoke(args=["restore", str(archive)])
        assert again.exit_code != 0 and "--replace" in again.output
        again = target.test_cli_runner().invoke(args=["restore", "--replace", str(archive)])
        assert again.exit_code == 0, again.output
        assert snapshot(target) == before
        dispose(target)
    finally:
        drop()


@pytest.mark.postgres_only
def test_postgresql_to_sqlite_and_back(app, runner, tmp_path):
    fill(app)
    before = snapshot(app)
    archive = tmp_path / "from-postgres.zip"
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0

    lite_uri, _ = other_database("sqlite", tmp_path)
    lite = restore_into(lite_uri, tmp_path, archive)
    assert snapshot(lite) == before
    archive2 = tmp_path / "from-sqlite.zip"
    assert lite.test_cli_runner().invoke(args=["backup", str(archive2)]).exit_code == 0
    dispose(lite)

    pg_uri, drop = other_database("postgresql", tmp_path)
    try:
        pg = restore_into(pg_uri, tmp_path, archive2)
        assert snapshot(pg) == before
        dispose(pg)
    finally:
        drop()


def test_restore_refuses_what_is_not_a_backup(runner, tmp_path):
    bogus = tmp_path / "x.zip"
    bogus.write_bytes(b"not a zip")
    result = runner.invoke(args=["restore", str(bogus)])
    assert result.exit_code != 0 and "not an EventHub backup" in result.output
