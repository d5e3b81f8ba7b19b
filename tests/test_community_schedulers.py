"""Each adoption check-in reaches each person once, also when two schedulers run the job
at the same moment on their own connections, and when a scheduler crashes mid-run.

PostgreSQL only: two writers at once and a killed process holding a transaction are what
PostgreSQL does in production (SQLite lets one writer in at a time)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from eventhub import scheduler
from eventhub.community.models import Checkin
from eventhub.directory.models import Interest
from eventhub.extensions import db
from eventhub.mail import OutboxMail
from eventhub.registration.models import Registration
from tests.support import community as world

pytestmark = pytest.mark.postgres_only

ROOT = Path(__file__).resolve().parents[1]
PEOPLE = 40  # besides the three of the small world


@pytest.fixture
def crowd(app):
    """The small world plus PEOPLE more participants who want to know more."""
    ids = world.build(app)
    with app.app_context():
        for n in range(PEOPLE):
            reg = world.person(ids["event"], f"p{n:02d}@aarhus.dk", f"Person {n}",
                               "Aarhus Kommune")
            db.session.add(Interest(registration_id=reg.id, solution_id=ids["solution"],
                                    kind="learn"))
        db.session.commit()
    ids["due"] = world.months_later(world.T0, 3, hours=1)
    return ids


def _mails_per_person(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(select(OutboxMail.to_addr, func.count()).where(
            OutboxMail.kind == "community-checkin").group_by(OutboxMail.to_addr)).all()
        checkins = db.session.scalar(select(func.count()).select_from(Checkin))
    assert checkins == sum(n for _to, n in rows)
    return dict(rows)


def _everyone(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Registration.email)))


def test_two_schedulers_at_the_same_moment_send_each_check_in_once(app, crowd):
    start = threading.Barrier(2)
    done: list[dict[str, int]] = []

    def scheduler_run():
        with app.app_context():  # a context, a session and a connection of its own
            start.wait(timeout=30)
            done.append(scheduler.run_due(crowd["due"]))

    runs = [threading.Thread(target=scheduler_run) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=60)
    assert len(done) == 2
    sent = sorted(d["adoption-checkins"] for d in done)
    assert -1 not in sent  # neither failed (no deadlock, no error)
    assert sum(sent) == PEOPLE + 3
    per = _mails_per_person(app)
    assert set(per) == _everyone(app) and set(per.values()) == {1}


def _waiting_backend(app, timeout: float = 30.0) -> int:
    """The process id of the PostgreSQL backend that waits for a lock in this database."""
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            with db.engine.connect() as conn:
                pid = conn.scalar(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' LIMIT 1"))
            if pid:
                return pid
            time.sleep(0.05)
    raise AssertionError("the scheduler never reached the blocked check-in")


def test_a_scheduler_that_crashes_mid_run_leaves_the_rest_to_the_next_run(
        app, crowd, database_uri, tmp_path):
    with app.app_context():
        regs = db.session.scalars(select(Registration.id).order_by(Registration.id)).all()
        middle = regs[len(regs) // 2]
        engine = db.engine
        # Another transaction holds the middle person's check-in, uncommitted: the
        # scheduler queues the mails before it, then waits there, mid-run.
        blocker = engine.connect()
        held = blocker.begin()
        blocker.execute(insert(Checkin).values(
            event_id=crowd["event"], registration_id=middle, month=3, solution_ids=[],
            sent_at=crowd["due"]))
    script = (
        "import sys\n"
        "from datetime import datetime\n"
        "from eventhub import create_app, scheduler\n"
        "from tests.support.config import app_config\n"
        "from pathlib import Path\n"
        "app = create_app(app_config(sys.argv[1], Path(sys.argv[2])))\n"
        "with app.app_context():\n"
        "    scheduler.run_due(datetime.fromisoformat(sys.argv[3]))\n")
    crashing = subprocess.Popen(
        [sys.executable, "-c", script, database_uri, str(tmp_path), crowd["due"].isoformat()],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        backend = _waiting_backend(app)
        with app.app_context(), db.engine.connect() as conn:  # it has queued mails
            assert conn.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE pid = :pid AND granted "
                "AND relation = 'outbox_mails'::regclass"), {"pid": backend}) == 1
        crashing.send_signal(signal.SIGKILL)  # the scheduler dies mid-run
        crashing.wait(timeout=30)
        with app.app_context(), db.engine.connect() as conn:  # and its connection with it
            conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    finally:
        if crashing.poll() is None:
            crashing.kill()
        held.rollback()
        blocker.close()
    assert _mails_per_person(app) == {}  # nothing of the crashed run was kept

    with app.app_context():  # the next run sends everyone's, once
        assert scheduler.run_due(crowd["due"] + timedelta(minutes=1))[
            "adoption-checkins"] == PEOPLE + 3
        assert scheduler.run_due(crowd["due"] + timedelta(minutes=2))[
            "adoption-checkins"] == 0
    per = _mails_per_person(app)
    assert set(per) == _everyone(app) and set(per.values()) == {1}
