"""Never double-booked: 100 people ask for the same person's slot at the same moment,
each from a browser of their own over its own database connection; exactly one meeting
is made, the other 99 are told the slot was just taken, and nothing else is stored.
Then 100 pairs race for the last table lanes of one slot: never two at one table.

Runs on SQLite and, with DATABASE_URL set, on PostgreSQL, where the unique constraints
on the hold rows decide (no lock is taken on the person asked). PostgreSQL allows 100
connections here, shared with other test runs: the 100 requests share 60 connections."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from eventhub import create_app
from eventhub.extensions import db
from eventhub.meetings.models import Meeting, MeetingHold
from tests.support.client import Client, csrf_of
from tests.support.config import app_config
from tests.support.meetings import meeting_world, person, setup_meetings, slot_at

REQUESTS = 100
CONNECTIONS = 60


@pytest.fixture
def race_app(app, database_uri, tmp_path):
    config = app_config(database_uri, tmp_path)
    config.update(RATELIMIT_ENABLED=False,
                  SQLALCHEMY_ENGINE_OPTIONS={"pool_size": CONNECTIONS, "max_overflow": 0,
                                             "pool_timeout": 60})
    race = create_app(config)
    yield race
    with race.app_context():
        db.engine.dispose()


def _people(app, event_id: int, n: int) -> list[tuple[int, str]]:
    with app.app_context():
        regs = [person(event_id, f"p{i:03d}@vejle.dk", f"Person {i}", "Vejle Kommune")
                for i in range(n)]
        db.session.commit()
        return [(r.id, r.manage_token) for r in regs]


def _fire(app, jobs):
    """Prepare every job (sign in, fetch the form), then release all at once."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        go = job(Client(app, app.response_class))
        barrier.wait(timeout=120)
        return go()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def _ask(token: str, target: int, slot: str):
    def prepare(client):
        client.get(f"/r/{token}")
        csrf = csrf_of(client.get(f"/e/moeder/meetings/new/{target}").get_data(as_text=True))

        def go():
            return client.post(f"/e/moeder/meetings/new/{target}", csrf=False,
                               data={"csrf_token": csrf, "slot": slot})
        return go
    return prepare


def test_100_simultaneous_requests_for_one_persons_slot_make_one_meeting(race_app):
    world = meeting_world(race_app)
    askers = _people(race_app, world["event"], REQUESTS)
    responses = _fire(race_app, [_ask(token, world["bo"], slot_at(12, 0))
                                 for _id, token in askers])
    codes = sorted(r.status_code for r in responses)
    assert codes == [302] + [409] * (REQUESTS - 1), codes
    assert all("lige blevet optaget" in r.get_data(as_text=True)
               for r in responses if r.status_code == 409)
    with race_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Meeting)) == 1
        # Two people and one table hold the slot; nothing of the 99 was half-saved.
        assert db.session.scalar(select(func.count()).select_from(MeetingHold)) == 3


def test_pairs_racing_for_the_last_tables_never_share_one(race_app):
    world = meeting_world(race_app)
    setup_meetings(race_app, world["event"], tables=5)
    people = _people(race_app, world["event"], 2 * REQUESTS)
    jobs = [_ask(people[2 * i][1], people[2 * i + 1][0], slot_at(12, 15))
            for i in range(REQUESTS)]
    responses = _fire(race_app, jobs)
    codes = sorted(r.status_code for r in responses)
    assert codes == [302] * 5 + [409] * (REQUESTS - 5), codes
    with race_app.app_context():
        places = db.session.execute(select(Meeting.place_id, Meeting.lane)).all()
        assert len(places) == 5 and len(set(places)) == 5
