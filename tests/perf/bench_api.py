"""Benchmark: paging 10,000 registrations through the REST API, and delivering 10,000
webhook messages to a receiver on loopback.

Not a pytest test (pytest collects ``test_*.py`` only). Run it from the repository:

    PYTHONPATH=. python tests/perf/bench_api.py [--databases sqlite,postgresql]
        [--registrations 10000] [--deliveries 10000] [--endpoints 4] [--workers 2]

Once per database (SQLite in a temp folder; PostgreSQL in a database of its own on
``--pg``, dropped at the end), migrated from empty:

1. **Paging**: ``--registrations`` registrations (bulk Core inserts, each with an
   organization and an answer) and a read token; the app is served by Werkzeug's threaded
   server on loopback (request logs off) and one client pages through
   ``GET /api/v1/events/<slug>/registrations?limit=100`` following ``next_cursor`` three
   times (the first pass warms up). Reported: p50 / p95 / max per page of 100, and that
   every registration came exactly once. Target: p95 ≤ 150 ms.
2. **Webhooks**: ``--endpoints`` endpoints on one receiver (``http.server`` on loopback,
   answering 200, recording every message), ``--deliveries`` messages queued as the
   signal listener queues them (one row each, spread over the endpoints), then
   ``--workers`` worker threads run ``deliver_due`` until the queue is empty. Reported:
   deliveries per second, lost (queued but never received), duplicates (a ``webhook-id``
   received twice) as a share, and whether each endpoint got its messages in order.
   Target: 0 lost, 0 duplicates, in order.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.bench import (  # noqa: E402
    create_database,
    drop_database,
    percentile,
    sqlalchemy_url,
)


def make_app(uri: str, instance: Path):
    from eventhub import create_app

    return create_app({
        "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": uri, "MAIL_BACKEND": "folder",
        "MAIL_FOLDER": str(instance / "mail"), "MAIL_DELIVER_IN_PROCESS": False,
        "RATELIMIT_ENABLED": False, "LOG_REQUESTS": False, "WEBHOOK_ALLOW_LOOPBACK": True,
        "WEBHOOK_RETRY_BASE_SECONDS": 0.2, "BASE_URL": "http://127.0.0.1"})


def fill(app, n: int) -> tuple[int, str]:
    from datetime import UTC, datetime, timedelta

    from flask_migrate import upgrade

    from eventhub.accounts.services import get_or_create_user
    from eventhub.events.models import ORGANIZER, Event, EventRole
    from eventhub.extensions import db
    from eventhub.registration.models import Answer, Question, Registration, new_ticket_code
    from tests.support.api import make_token

    with app.app_context():
        upgrade()
        user = get_or_create_user("org@example.com")
        start = datetime(2027, 3, 10, 8, tzinfo=UTC)
        event = Event(slug="bench", title="Bench", starts_at=start,
                      ends_at=start + timedelta(hours=8), status="published")
        db.session.add(event)
        db.session.flush()
        db.session.add(EventRole(event_id=event.id, user_id=user.id, role=ORGANIZER))
        question = Question(event_id=event.id, label="Kost", kind="short_text")
        db.session.add(question)
        db.session.flush()
        orgs = [o for o, in db.session.execute(db.text(
            "SELECT id FROM organizations WHERE code IS NOT NULL ORDER BY id"))]
        now = datetime.now(UTC)
        rows = [{"event_id": event.id, "name": f"Deltager {i}", "email": f"p{i}@example.dk",
                 "organization_id": orgs[i % len(orgs)], "job_title": "Konsulent",
                 "status": "confirmed", "badge_role": "participant",
                 "ticket_code": new_ticket_code(), "manage_token": new_ticket_code() * 2,
                 "created_at": now, "updated_at": now, "source": "import"}
                for i in range(n)]
        db.session.execute(Registration.__table__.insert(), rows)
        ids = [r for r, in db.session.execute(db.select(Registration.id))]
        db.session.execute(Answer.__table__.insert(), [
            {"registration_id": r, "question_id": question.id, "value": "Vegetar",
             "question_label": "Kost", "updated_at": now} for r in ids])
        db.session.commit()
        event_id, user_id = event.id, user.id
    return event_id, make_token(app, event_id, user_id, "read")


def bench_paging(base: str, secret: str, n: int) -> dict:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {secret}"
    times: list[float] = []
    for run in range(3):
        seen, cursor = [], None
        while True:
            url = f"{base}/api/v1/events/bench/registrations?limit=100" + (
                f"&cursor={cursor}" if cursor else "")
            t0 = time.perf_counter()
            response = http.get(url, timeout=30)
            elapsed = time.perf_counter() - t0
            response.raise_for_status()
            page = response.json()
            if run:
                times.append(elapsed * 1000)
            seen += [r["id"] for r in page["data"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == n, (len(seen), len(set(seen)), n)
    return {"pages": len(times), "p50_ms": percentile(times, 50),
            "p95_ms": percentile(times, 95), "max_ms": max(times)}


def bench_webhooks(app, event_id: int, n: int, endpoints: int, workers: int) -> dict:
    from eventhub.accounts.models import User
    from eventhub.api.delivery import deliver_due
    from eventhub.api.models import WebhookDelivery, WebhookEndpoint
    from eventhub.api.webhooks import new_message_id, new_secret
    from eventhub.db import utcnow
    from eventhub.extensions import db
    from tests.support.api import Receiver

    receiver = Receiver().start()
    with app.app_context():
        owner = db.session.scalar(db.select(User.id))
        ends = []
        for e in range(endpoints):
            endpoint = WebhookEndpoint(event_id=event_id, owner_id=owner,
                                       url=f"{receiver.url}/{e}", secret=new_secret(),
                                       event_types=["registration.created"])
            db.session.add(endpoint)
            db.session.flush()
            ends.append(endpoint.id)
        now = utcnow()
        db.session.execute(WebhookDelivery.__table__.insert(), [
            {"endpoint_id": ends[i % endpoints], "event_type": "registration.created",
             "message_id": new_message_id(), "status": "pending", "attempts": 0,
             "payload": {"type": "registration.created", "timestamp": now.isoformat(),
                         "data": {"event": "bench", "n": i, "endpoint": i % endpoints}},
             "next_attempt_at": now, "created_at": now, "last_error": ""}
            for i in range(n)])
        db.session.commit()

    def work():
        with app.app_context():
            while True:
                done = deliver_due(limit=200)
                pending = db.session.scalar(db.select(db.func.count()).select_from(
                    WebhookDelivery).where(WebhookDelivery.status == "pending"))
                db.session.remove()
                if not pending:
                    return
                if not done.delivered:
                    time.sleep(0.05)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    receiver.stop()
    ids = [h["webhook-id"] for h, _b in receiver.received]
    payloads = [json.loads(b) for _h, b in receiver.received]
    got = {p["data"]["n"] for p in payloads}
    per_endpoint: dict[int, list[int]] = {}
    for p in payloads:
        per_endpoint.setdefault(p["data"]["endpoint"], []).append(p["data"]["n"])
    in_order = all(ns == sorted(ns) for ns in per_endpoint.values())
    return {"deliveries": n, "seconds": round(elapsed, 2),
            "per_second": round(n / elapsed), "lost": n - len(got),
            "duplicate_share": (len(ids) - len(set(ids))) / max(len(ids), 1),
            "in_order_per_endpoint": in_order, "workers": workers, "endpoints": endpoints}


def run_one(kind: str, args) -> dict:
    from tests.support.api import live_app

    instance = Path(tempfile.mkdtemp(prefix="bench-api-"))
    db_name = None
    if kind == "sqlite":
        uri = f"sqlite:///{instance / 'bench.sqlite'}"
    else:
        db_name = create_database(args.pg, "eventhub_bench_api")
        uri = sqlalchemy_url(args.pg, db_name)
    try:
        app = make_app(uri, instance)
        event_id, secret = fill(app, args.registrations)
        with live_app(app) as base:
            paging = bench_paging(base, secret, args.registrations)
        hooks = bench_webhooks(app, event_id, args.deliveries, args.endpoints, args.workers)
        with app.app_context():
            from eventhub.extensions import db

            db.engine.dispose()
        return {"database": kind, "paging": paging, "webhooks": hooks}
    finally:
        if db_name:
            drop_database(args.pg, db_name)
        shutil.rmtree(instance, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--registrations", type=int, default=10_000)
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    ok = True
    for kind in args.databases.split(","):
        result = run_one(kind.strip(), args)
        print(json.dumps(result, indent=2))
        hooks = result["webhooks"]
        ok &= result["paging"]["p95_ms"] <= 150 and hooks["lost"] == 0 \
            and hooks["duplicate_share"] == 0 and hooks["in_order_per_endpoint"]
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
