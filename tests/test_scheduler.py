"""The scheduler runs every job a domain added, each in its own transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from eventhub import scheduler
from eventhub.accounts.models import User
from eventhub.extensions import db


def test_a_failing_job_is_rolled_back_and_the_others_still_run(app: Flask):
    seen: list[datetime] = []

    def broken(now: datetime) -> int:
        db.session.add(User(email="half@example.dk", name="Halv"))
        db.session.flush()
        raise RuntimeError("boom")

    def counting(now: datetime) -> int:
        seen.append(now)
        db.session.add(User(email="kept@example.dk", name="Gemt"))
        return 1

    scheduler.add_job(app, "broken", broken)
    scheduler.add_job(app, "counting", counting)
    at = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    with app.app_context():
        done = scheduler.run_due(at)  # (the domains' own jobs run too)
        assert (done["broken"], done["counting"]) == (-1, 1)
        emails = set(db.session.scalars(db.select(User.email)))
    assert seen == [at]
    assert "kept@example.dk" in emails and "half@example.dk" not in emails


def test_a_job_name_is_added_once(app: Flask):
    scheduler.add_job(app, "twice", lambda now: 0)
    with pytest.raises(ValueError):
        scheduler.add_job(app, "twice", lambda now: 0)


def test_the_command_runs_the_jobs(app: Flask):
    scheduler.add_job(app, "hello", lambda now: 3)
    result = app.test_cli_runner().invoke(args=["run-scheduled"])
    assert result.exit_code == 0, result.output
    assert "hello: 3" in result.output
