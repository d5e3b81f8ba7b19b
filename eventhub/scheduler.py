"""Scheduled work: jobs that domains add, run by one command.

A domain adds a job in its ``init_app``::

    scheduler.add_job(app, "reminders", queue_due_reminders)

where ``queue_due_reminders(now)`` does what is due at ``now`` (an aware UTC datetime)
and returns how many things it did. ``eventhub run-scheduled`` runs every job once;
``--loop`` keeps running them every ``--interval`` seconds. Each job runs in its own
transaction: one that fails is rolled back and logged, the others still run.

Jobs must be safe to run twice at the same time (two schedulers, or one restarted after
a crash mid-run): a job makes each of its sends exactly once by a database uniqueness
(e.g. on (rule, registration)), never by a flag in memory. ``now`` is passed in so tests
can move through a year without waiting for one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app

from eventhub import contributions
from eventhub.db import utcnow
from eventhub.extensions import db

log = logging.getLogger(__name__)

Job = Callable[[datetime], int]
_KIND = "scheduler.jobs"


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    run: Job


def add_job(app: Flask, name: str, run: Job) -> None:
    """Add a job to ``app``'s scheduler (from a domain's ``init_app``)."""
    if any(job.name == name for job in contributions.of(_KIND, app)):
        raise ValueError(f"a scheduled job named {name!r} is already added")
    contributions.add(app, _KIND, ScheduledJob(name, run))


def jobs(app: Flask | None = None) -> list[ScheduledJob]:
    return contributions.of(_KIND, app or current_app)


def run_due(now: datetime | None = None) -> dict[str, int]:
    """Run every job once at ``now`` (default: the current time); each job commits on
    its own. Returns what each job did; a job that failed counts -1."""
    now = now or utcnow()
    done: dict[str, int] = {}
    for job in jobs():
        try:
            done[job.name] = int(job.run(now) or 0)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("scheduled job %s failed", job.name)
            done[job.name] = -1
        finally:
            db.session.remove()
    return done


def start_thread(app: Flask, interval: float = 30.0) -> threading.Thread:
    """Run the jobs every ``interval`` seconds from a daemon thread (the demo)."""

    def loop() -> None:
        while True:
            try:
                with app.app_context():
                    run_due()
            except Exception:  # keep the thread alive through a database hiccup
                log.exception("scheduler")
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="scheduler", daemon=True)
    thread.start()
    return thread
