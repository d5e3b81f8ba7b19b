"""Benchmark: the community workspace over 20 events, 10,000 leads, 50,000 interests.

Not a pytest test. Run it from the repository:

    python tests/perf/bench_community.py [--pg postgresql://postgres@127.0.0.1:5432]
        [--events 20] [--leads 10000] [--interests 50000] [--requests 40] [--seed 1]

It makes a PostgreSQL database of its own, migrates it from empty, bulk-inserts an
organizing organization hosting ``--events`` events of one series, ``--leads`` leads (one
per solution and organization, each linked to one to three events, with three history
lines), ``--interests`` "want to know more" interests of 5,000 participants, and answers to
check-ins; then, signed in as the organization's community manager, times each workspace
page (``--requests`` times each, after two untimed) through the Flask test client, so the
figure is the whole request: the workspace unfiltered and with each filter, a lead, a
solution's trail. Target (exit status 1 when missed): p95 < 200 ms for every page.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.bench import (  # noqa: E402
    create_database,
    drop_database,
    percentile,
    sqlalchemy_url,
)

TARGET_MS = 200.0


def load(db, args, rnd) -> dict:
    from sqlalchemy import insert, select

    from eventhub.accounts.models import User
    from eventhub.accounts.services import set_password
    from eventhub.community.models import Checkin, CheckinAnswer, CommunityMember
    from eventhub.directory.models import Interest, Solution
    from eventhub.events.models import Event, EventSeries, Organization
    from eventhub.followup.models import Lead, LeadEntry, LeadEvent
    from eventhub.registration.models import Registration

    s = db.session
    host = Organization(name="Klyngen", name_key="klyngen", kind="other")
    series = EventSeries(name="Del & Genbrug")
    cm = User(email="cm@example.com", name="CM")
    s.add_all([host, series, cm])
    s.flush()
    set_password(cm, "korrekt-hest-batteri")
    s.add(CommunityMember(organization_id=host.id, user_id=cm.id))
    for n in range(150):
        s.add(Organization(name=f"Firma {n}", name_key=f"firma {n}",
                           kind=rnd.choice(["company", "knowledge", "other"])))
    s.flush()
    orgs = list(s.scalars(select(Organization.id).where(Organization.id != host.id)))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    events = []
    for n in range(args.events):
        start = now - timedelta(days=60 * (args.events - n))
        events.append(s.execute(insert(Event).returning(Event.id), [dict(
            slug=f"e{n}", title=f"Del & Genbrug {2000 + n}", starts_at=start,
            ends_at=start + timedelta(hours=7), status="closed", join_code=f"J{n:05d}",
            host_organization_id=host.id, series_id=series.id)]).scalar())
    sols = [s.execute(insert(Solution).returning(Solution.id), [dict(
        name=f"Løsning {n}", status="approved", public=True)]).scalar() for n in range(100)]
    pairs = rnd.sample([(so, o) for so in sols for o in orgs], args.leads)
    stages = ["new", "contacted", "meeting", "adopted_copy", "adopted_adaptation",
              "adopted_inspiration", "dropped"]
    lead_rows = []
    for i, (so, o) in enumerate(pairs):
        stage = rnd.choice(stages)
        e = rnd.choice(events)
        lead_rows.append(dict(id=i + 1, event_id=e, scope=host.id, solution_id=so,
                              organization_id=o, stage=stage, source="interest",
                              adopted_at=now if stage.startswith("adopted") else None,
                              created_at=now, updated_at=now - timedelta(minutes=i)))
    s.execute(insert(Lead), lead_rows)
    links, entries = [], []
    for row in lead_rows:
        for e in {row["event_id"], *rnd.sample(events, rnd.randint(0, 2))}:
            links.append(dict(lead_id=row["id"], event_id=e, created_at=now))
        for k in range(3):
            entries.append(dict(lead_id=row["id"], event_id=row["event_id"], text=f"note {k}",
                                to_stage=row["stage"] if k == 0 else None, created_at=now,
                                by_participant=False))
    s.execute(insert(LeadEvent), links)
    s.execute(insert(LeadEntry), entries)
    regs = []
    for n in range(5000):
        regs.append(dict(event_id=events[n % len(events)], name=f"Person {n}",
                         email=f"p{n}@example.dk", organization_id=rnd.choice(orgs),
                         status="confirmed", ticket_code=f"t{n:08d}", manage_token=f"m{n:08d}",
                         created_at=now, updated_at=now))
    reg_ids = list(s.scalars(insert(Registration).returning(Registration.id), regs))
    interests = []
    for rid in reg_ids:
        for so in rnd.sample(sols, args.interests // len(reg_ids)):
            interests.append(dict(registration_id=rid, solution_id=so, kind="learn",
                                  source="solution", created_at=now))
    s.execute(insert(Interest), interests)
    for n, rid in enumerate(reg_ids[:2000]):
        cid = s.execute(insert(Checkin).returning(Checkin.id), [dict(
            event_id=events[n % len(events)], registration_id=rid, month=3,
            solution_ids=[sols[0]], sent_at=now)]).scalar()
        s.execute(insert(CheckinAnswer), [dict(
            checkin_id=cid, event_id=events[n % len(events)], solution_id=sols[0],
            answer=rnd.choice(["copy", "no", "testing"]), barrier="time", text="",
            answered_at=now)])
    s.commit()
    return dict(host=host.id, events=events, sols=sols, lead=lead_rows[0]["id"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--leads", type=int, default=10000)
    parser.add_argument("--interests", type=int, default=50000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    name = create_database(args.pg, "eventhub_bench_community")
    try:
        from flask_migrate import upgrade

        from eventhub import create_app
        from eventhub.extensions import db

        app = create_app({"TESTING": False, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                          "RATELIMIT_ENABLED": False,
                          "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(args.pg, name)})
        with app.app_context():
            upgrade()
            t = time.perf_counter()
            world = load(db, args, rnd)
            print(f"loaded in {time.perf_counter() - t:.1f} s")
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM ANALYZE")
            db.session.remove()
        client = app.test_client()
        client.post("/login", data={"email": "cm@example.com",
                                    "password": "korrekt-hest-batteri"})
        h = world["host"]
        pages = {
            "workspace": f"/community/{h}/",
            "workspace, one event": f"/community/{h}/?event={world['events'][5]}",
            "workspace, series": f"/community/{h}/?series=1",
            "workspace, solution": f"/community/{h}/?solution={world['sols'][3]}",
            "workspace, region": f"/community/{h}/?region=1082",
            "workspace, kind": f"/community/{h}/?kind=company",
            "workspace, stage, page 2": f"/community/{h}/?stage=meeting&page=2",
            "lead": f"/community/{h}/leads/{world['lead']}",
            "solution trail": f"/community/{h}/solutions/{world['sols'][0]}",
        }
        worst = 0.0
        print(f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for label, url in pages.items():
            for _ in range(2):
                assert client.get(url).status_code == 200, url
            times = []
            for _ in range(args.requests):
                t = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, url
            p95 = percentile(times, 95)
            worst = max(worst, p95)
            print(f"{label:28} {percentile(times, 50):8.1f} {p95:8.1f} {max(times):8.1f}")
        print(f"worst p95 {worst:.1f} ms (target < {TARGET_MS:.0f} ms)")
        with app.app_context():
            db.engine.dispose()
        return 0 if worst < TARGET_MS else 1
    finally:
        drop_database(args.pg, name)


if __name__ == "__main__":
    sys.exit(main())
