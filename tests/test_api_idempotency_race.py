"""Concurrent duplicates of one POST with the same Idempotency-Key, sent by threads to a
live server: one registration is made; every other answer is its replay or a 409 while it
is still in flight, never a second registration or a server error."""

from __future__ import annotations

import threading

import requests
from sqlalchemy import func, select

from eventhub.api.models import IdempotencyKey
from eventhub.extensions import db
from eventhub.registration.models import Registration
from tests.support.api import bearer, live_app, make_token
from tests.support.factories import make_event, make_user

PERSON = {"name": "Mette Holm", "email": "mette@aarhus.example.dk",
          "organization": "Aarhus Kommune"}
THREADS = 12


def test_concurrent_duplicates_make_one_registration(app):
    uid = make_user(app, "org@example.com")
    eid = make_event(app, "dag", organizer_id=uid, capacity=50)
    secret = make_token(app, eid, uid)
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)
    with live_app(app) as base:
        url = f"{base}/api/v1/events/dag/registrations"

        def send(n: int) -> None:
            start.wait()
            r = requests.post(url, json=PERSON, timeout=30,
                              headers={**bearer(secret), "Idempotency-Key": "same-key"})
            with lock:
                answers.append((r.status_code, r.json()))

        threads = [threading.Thread(target=send, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        after = requests.post(url, json=PERSON, timeout=30,
                              headers={**bearer(secret), "Idempotency-Key": "same-key"})
    codes = sorted(code for code, _ in answers)
    assert len(codes) == THREADS
    assert set(codes) <= {201, 409}, codes
    created = [body for code, body in answers if code == 201]
    assert created and all(body == created[0] for body in created)
    assert all(body["status"] == 409 and "Idempotency-Key" in body["detail"]
               for code, body in answers if code == 409)
    assert after.status_code == 201 and after.json() == created[0]
    assert after.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 1
        assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
