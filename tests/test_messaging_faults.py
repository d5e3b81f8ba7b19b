"""Scheduled mail under faults: the SMTP server is down when a reminder run of 500
starts and comes back later; the scheduler process dies in the middle of a run. Every
person gets the reminder exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from eventhub import scheduler
from eventhub.extensions import db
from eventhub.mail import SENT, OutboxMail, deliver_due
from eventhub.messaging.models import MailSend
from eventhub.registration.models import Registration
from tests.support.factories import make_event
from tests.support.smtp import SmtpServer

START = datetime(2027, 3, 10, 8, 0, tzinfo=UTC)
REMINDER_AT = datetime(2027, 3, 8, 8, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


def _many(app, n: int) -> int:
    event_id = make_event(app, "mange", starts_at=START, ends_at=START + timedelta(hours=6),
                          contact_email="kontakt@example.dk", contact_name="Kontakt",
                          capacity=n)
    with app.app_context():
        db.session.execute(insert(Registration), [
            dict(event_id=event_id, email=f"p{i:04d}@example.dk", name=f"Person {i}",
                 status="confirmed", ticket_code=f"T{i:06d}xxxxxxxxxxxx",
                 manage_token=f"M{i:06d}yyyyyyyyyyyyyyyyyy") for i in range(n)])
        db.session.commit()
    return event_id


def test_smtp_down_when_a_run_of_500_starts_each_mail_arrives_once(app):
    """The server is really down (nothing listens on its port) for the first seconds;
    the outbox retries with backoff (base 1 s here instead of a minute)."""
    server = SmtpServer()  # not started: the port refuses connections
    app.config.update(server.config(), MAIL_RETRY_BASE_SECONDS=1, MAIL_MAX_ATTEMPTS=12)
    _many(app, 500)
    with app.app_context():
        assert scheduler.run_due(REMINDER_AT)["mail-rules"] == 500
    started = time.monotonic()
    back_at = started + 6
    try:
        while True:
            if server._controller is None and time.monotonic() >= back_at:
                server.start()
            with app.app_context():
                deliver_due(limit=1000, batch=100)
                left = db.session.scalar(select(func.count(OutboxMail.id)).where(
                    OutboxMail.status != SENT))
            if not left:
                break
            assert time.monotonic() - started < 90, f"{left} mails still not sent"
            time.sleep(0.2)
    finally:
        server.stop()
    received = server.messages()
    assert len(received) == 500
    assert len({m["To"] for m in received}) == 500
    assert len({m["Message-ID"] for m in received}) == 500
    with app.app_context():
        retried = db.session.scalar(select(func.count(OutboxMail.id)).where(
            OutboxMail.attempts > 1))
    assert retried == 500  # every one of them met the outage first


CRASHER = """
import os, sys
from datetime import datetime, UTC
from sqlalchemy import event
from eventhub import create_app
from eventhub.extensions import db
from eventhub.messaging import rules
from tests.support.config import app_config
from pathlib import Path

app = create_app({**app_config(sys.argv[1], Path(sys.argv[2])), "MAIL_RULE_CHUNK": 50})
commits = []
with app.app_context():
    @event.listens_for(db.session, "after_commit")
    def crash(session):
        commits.append(1)
        if len(commits) == 3:  # the process dies here: no cleanup, no rollback
            os._exit(9)
    rules.queue_due(datetime(2027, 3, 8, 8, 0, tzinfo=UTC))
"""


def test_a_scheduler_that_dies_mid_run_leaves_nothing_twice(app, tmp_path):
    _many(app, 500)
    done = subprocess.run([sys.executable, "-c", CRASHER, app.config[
        "SQLALCHEMY_DATABASE_URI"], str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 9, done.stderr[-2000:]
    with app.app_context():
        half = db.session.scalar(select(func.count(MailSend.id)))
        assert 0 < half < 500  # it died in the middle
        assert db.session.scalar(select(func.count(OutboxMail.id))) == half
        assert scheduler.run_due(REMINDER_AT)["mail-rules"] == 500 - half
        sends = db.session.scalars(select(MailSend.registration_id)).all()
        mails = db.session.scalars(select(OutboxMail.to_addr)).all()
    assert len(sends) == len(set(sends)) == 500
    assert len(mails) == len(set(mails)) == 500
