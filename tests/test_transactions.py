"""One transaction per request: the view's work is stored once it returns, undone when it
raises; after-commit work waits for the commit; savepoints never commit on their own."""

from __future__ import annotations

from sqlalchemy import func, select

from eventhub.errors import Conflict
from eventhub.events.models import Organization, name_key
from eventhub.extensions import db
from eventhub.transactions import after_commit, attempt


def _count(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Organization)
                                 .where(Organization.name == name))


def _routes(app, calls: list[str]) -> None:
    def add(name: str) -> None:
        db.session.add(Organization(name=name, name_key=name_key(name), kind="other"))
        db.session.flush()
        after_commit(lambda: calls.append(name))

    @app.get("/_t/ok")
    def ok():
        add("Stored Kommune")
        return "ok"

    @app.get("/_t/broken")
    def broken():
        add("Undone Kommune")
        raise Conflict("Findes allerede.")

    @app.get("/_t/kept")
    def kept():
        add("Kept Kommune")
        with attempt(Conflict) as failed:
            add("Tried Kommune")
            raise Conflict("Findes allerede.")
        return failed.message, 422


def test_the_request_commits_once_and_runs_after_commit_work(app):
    calls: list[str] = []
    _routes(app, calls)
    client = app.test_client()
    assert client.get("/_t/ok").status_code == 200
    assert _count(app, "Stored Kommune") == 1
    assert calls == ["Stored Kommune"]


def test_a_domain_error_undoes_the_request_and_shows_its_message(app):
    calls: list[str] = []
    _routes(app, calls)
    response = app.test_client().get("/_t/broken")
    assert response.status_code == 409
    assert "Findes allerede." in response.get_data(as_text=True)
    assert _count(app, "Undone Kommune") == 0
    assert calls == []


def test_attempt_hands_the_error_to_the_view_and_undoes_the_work(app):
    calls: list[str] = []
    _routes(app, calls)
    response = app.test_client().get("/_t/kept")
    assert response.status_code == 422
    assert response.get_data(as_text=True) == "Findes allerede."
    assert _count(app, "Kept Kommune") == 0
    assert _count(app, "Tried Kommune") == 0
    assert calls == []


def test_a_released_savepoint_is_undone_with_its_transaction(app):
    """On SQLite the driver starts a transaction only before a write; a savepoint that
    came first would otherwise commit when released."""
    with app.app_context():
        db.session.scalar(select(func.count()).select_from(Organization))  # a read first
        with db.session.begin_nested():
            name = "Savepoint Kommune"
            db.session.add(Organization(name=name, name_key=name_key(name), kind="other"))
        db.session.rollback()
    assert _count(app, "Savepoint Kommune") == 0
