"""Correct under a rush: many simultaneous registrations and cancellations on their own
database connections never oversell and keep the waiting list in arrival order.

Runs on SQLite and, with DATABASE_URL set, on PostgreSQL (where the event row is locked
with SELECT … FOR UPDATE). PostgreSQL allows 100 connections here, so 80 clients share
the 200+ requests, each client on a connection of its own.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from eventhub import create_app
from eventhub.extensions import db
from eventhub.registration.models import Registration
from tests.support.client import Client, csrf_of
from tests.support.config import app_config
from tests.support.factories import make_event, registration_form, registrations_of

CLIENTS = 80


@pytest.fixture
def rush_app(app, database_uri, tmp_path):
    config = app_config(database_uri, tmp_path)
    config.update(RATELIMIT_ENABLED=False,
                  SQLALCHEMY_ENGINE_OPTIONS={"pool_size": CLIENTS, "max_overflow": 0,
                                             "pool_timeout": 60})
    rush = create_app(config)
    yield rush
    with rush.app_context():
        db.engine.dispose()


def _fire(app, jobs):
    """Run ``jobs`` (callables taking a client) from CLIENTS threads released together."""
    barrier = threading.Barrier(min(CLIENTS, len(jobs)))
    clients = [Client(app, app.response_class) for _ in jobs]

    def run(i):
        client = clients[i]
        prepared = jobs[i](client)
        if i < CLIENTS:
            barrier.wait(timeout=60)
        return prepared()

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(run, range(len(jobs))))


def _registration_job(i):
    def prepare(client):
        token = csrf_of(client.get("/e/rush/register").get_data(as_text=True))

        def go():
            return client.post("/e/rush/register", csrf=False, data=registration_form(
                csrf_token=token, email=f"person{i:03d}@example.com", name=f"Person {i}"))
        return go
    return prepare


def test_200_simultaneous_registrations_never_oversell(rush_app):
    event_id = make_event(rush_app, "rush", capacity=50)
    responses = _fire(rush_app, [_registration_job(i) for i in range(200)])
    assert [r.status_code for r in responses] == [302] * 200  # no errors at all

    rows = registrations_of(rush_app, event_id)
    statuses = [status for _e, status, _w, _i in rows]
    assert statuses.count("confirmed") == 50
    assert statuses.count("waitlisted") == 150
    assert len({email for email, *_ in rows}) == 200  # no duplicates
    waiting = [(w, i) for _e, s, w, i in rows if s == "waitlisted"]
    assert all(w is not None for w, _ in waiting)
    # Arrival order: every waiting registration came after every confirmed one.
    with rush_app.app_context():
        last_confirmed = db.session.scalar(select(func.max(Registration.confirmed_at)))
    assert min(w for w, _ in waiting) >= last_confirmed


def test_cancellations_racing_promotions_fill_exactly_the_freed_seats(rush_app):
    event_id = make_event(rush_app, "rush", capacity=50)
    for response in _fire(rush_app, [_registration_job(i) for i in range(100)]):
        assert response.status_code == 302
    rows = registrations_of(rush_app, event_id)
    confirmed = [i for _e, s, _w, i in rows if s == "confirmed"]
    waiting_in_order = [i for _e, s, w, i in sorted(
        (r for r in rows if r[1] == "waitlisted"), key=lambda r: (r[2], r[3]))]
    with rush_app.app_context():
        tokens = dict(db.session.execute(
            select(Registration.id, Registration.manage_token)).all())

    def cancel_job(reg_id):
        def prepare(client):
            path = f"/r/{tokens[reg_id]}/cancel"
            token = csrf_of(client.get(path).get_data(as_text=True))
            return lambda: client.post(path, csrf=False, data={"csrf_token": token})
        return prepare

    # 30 confirmed people cancel at once while 20 newcomers register at the same moment.
    jobs = [cancel_job(i) for i in confirmed[:30]] + [
        _registration_job(100 + i) for i in range(20)]
    for response in _fire(rush_app, jobs):
        assert response.status_code == 302

    after = {i: s for _e, s, _w, i in registrations_of(rush_app, event_id)}
    assert list(after.values()).count("confirmed") == 50  # never more than capacity
    assert list(after.values()).count("cancelled") == 30
    promoted = [i for i in waiting_in_order if after[i] == "confirmed"]
    assert promoted == waiting_in_order[:30]  # the first 30 in line, in order
    assert all(after[i] == "waitlisted" for i in waiting_in_order[30:])


def test_simultaneous_workshop_sign_ups_never_exceed_its_seats(rush_app):
    from datetime import UTC, datetime, timedelta

    from eventhub.programme.models import Signup
    from tests.support.factories import make_registration, make_session

    event_id = make_event(rush_app, "rush", capacity=None)
    start = datetime.now(UTC) + timedelta(days=30)
    workshop = make_session(rush_app, event_id, "Workshop", start, start + timedelta(hours=1),
                            kind="workshop", signup_capacity=10)
    tokens = [make_registration(rush_app, event_id, f"w{i}@example.com")[1] for i in range(60)]

    def job(token):
        def prepare(client):
            client.get(f"/r/{token}")
            page = client.get(f"/e/rush/programme/{workshop}").get_data(as_text=True)
            csrf = csrf_of(page)
            return lambda: client.post(f"/e/rush/programme/{workshop}/signup", csrf=False,
                                       data={"csrf_token": csrf})
        return prepare

    for response in _fire(rush_app, [job(t) for t in tokens]):
        assert response.status_code == 302
    with rush_app.app_context():
        statuses = list(db.session.scalars(select(Signup.status)))
    assert statuses.count("signed_up") == 10
    assert statuses.count("waiting") == 50
