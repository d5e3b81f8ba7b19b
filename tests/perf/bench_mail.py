"""Benchmark: 5,000 reminders rendered and delivered to a local SMTP server.

Not a pytest test (pytest collects ``test_*.py`` only). Run it from the repository:

    /work/main/.venv/bin/python tests/perf/bench_mail.py [--mails 5000]

An aiosmtpd server runs in a process of its own on loopback (it accepts and counts).
On a throwaway SQLite database (real migrations) an event gets ``--mails`` confirmed
registrations. Then, in this process:

1. the pipeline: the scheduler's job queues the reminders (one ``mail_sends`` row and
   one outbox mail per person), and the outbox worker renders each one (the event's
   text in the sandbox, the ticket's QR code) and delivers it over one SMTP connection
   per batch; wall time, and CPU seconds of this process per mail;
2. the yardstick, in the same run against the same server: the very same messages,
   already rendered (taken from the outbox), sent over one connection as fast as the
   server accepts them; the better of two rounds.

Targets: pipeline rate ≥ 0.5 × the server's acceptance rate, peak memory < 300 MB.
The exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import smtplib
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

MIN_RATIO = 0.5
MAX_PEAK_MB = 300
START = datetime(2027, 3, 10, 8, 0, tzinfo=UTC)


def _server(port: int, ready, counter) -> None:
    """The SMTP server's own process: accept and count."""
    import asyncio  # noqa: F401 (aiosmtpd runs its loop on a thread)

    from aiosmtpd.controller import Controller

    class Count:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port, data_size_limit=0)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def _config(tmp: Path, port: int) -> dict:
    from tests.support.config import app_config

    config = app_config(f"sqlite:///{tmp / 'bench.sqlite'}", tmp)
    config.update(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                  SMTP_STARTTLS=False, SMTP_USERNAME=None, SMTP_TIMEOUT=30,
                  MAIL_RULE_CHUNK=1000)
    return config


def _deliver_worker(config: dict, shard: tuple[int, int], n: int, ready, go, results) -> None:
    """One outbox worker (``eventhub send-mail --loop --shard k/n``) in a process of its
    own: started and warmed up before the clock runs, then delivers its share as the
    scheduler queues it (outbox ids 1..n in the fresh database)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from eventhub import create_app
    from eventhub.mail import deliver_due

    app = create_app(config)
    with app.app_context():
        deliver_due(limit=0)  # warm: connects nothing, loads the mail module's parts
    ready.set()
    go.wait()
    cpu0 = _cpu()
    sent, mine = 0, sum(1 for i in range(1, n + 1) if i % shard[1] == shard[0])
    with app.app_context():
        while sent < mine:
            done, failed = deliver_due(limit=n, batch=200, shard=shard)
            assert not failed, "delivery failed"
            sent += done
            if not done:
                time.sleep(0.01)  # the scheduler is still queueing
    results.put((sent, _cpu() - cpu0))


def _setup(n: int, tmp: Path, port: int):
    from sqlalchemy import insert

    from eventhub import create_app
    from eventhub.events.models import Event
    from eventhub.extensions import db
    from eventhub.registration.models import Registration
    app = create_app(_config(tmp, port))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        event = Event(slug="bench-mail", title="Del & Genbrug 2027", status="published",
                      starts_at=START, ends_at=START + timedelta(hours=7), capacity=n,
                      venue="Dokk1, Hack Kampmanns Plads 2, 8000 Aarhus C",
                      directions="Letbanen til Dokk1; indgangen mod havnen.",
                      contact_name="Mette Kjær", contact_email="mette@example.dk")
        db.session.add(event)
        db.session.flush()
        db.session.execute(insert(Registration), [
            dict(event_id=event.id, email=f"deltager{i:05d}@kommune{i % 98}.example.dk",
                 name=f"Deltager {i}", status="confirmed", ticket_code=f"T{i:07d}abcdefghijk",
                 manage_token=f"M{i:07d}abcdefghijklmnopqrstu") for i in range(n)])
        db.session.commit()
    return app


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _wait_for(counter, n: int, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while counter.value < n and time.monotonic() < end:
        time.sleep(0.005)


def run(n: int, workers: int = 2) -> dict:
    from tests.support.smtp import free_port

    port = free_port()
    ctx = multiprocessing.get_context("spawn")
    ready, counter = ctx.Event(), ctx.Value("i", 0)
    server = ctx.Process(target=_server, args=(port, ready, counter), daemon=True)
    server.start()
    ready.wait(30)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = _setup(n, Path(tmp), port)
            from sqlalchemy import select

            from eventhub import scheduler
            from eventhub.extensions import db
            from eventhub.mail import OutboxMail, build_message

            ready = [ctx.Event() for _ in range(workers)]
            go, results = ctx.Event(), ctx.Queue()
            procs = [ctx.Process(target=_deliver_worker, args=(
                _config(Path(tmp), port), (k, workers), n, ready[k], go, results))
                for k in range(workers)]
            for proc in procs:
                proc.start()
            for flag in ready:
                flag.wait(120)
            cpu0, t0 = _cpu(), time.perf_counter()
            go.set()  # the workers deliver what the scheduler commits, chunk by chunk
            with app.app_context():
                queued = scheduler.run_due(START - timedelta(days=2))["mail-rules"]
            t1 = time.perf_counter()
            queue_cpu = _cpu() - cpu0
            done = [results.get(timeout=600) for _ in procs]
            for proc in procs:
                proc.join()
            _wait_for(counter, n)
            t2 = time.perf_counter()
            delivered = sum(d for d, _cpu_s in done)
            cpu_total = queue_cpu + sum(c for _d, c in done)
            assert queued == n == delivered == counter.value, (queued, delivered, counter.value)

            # the yardstick: the same messages, pre-rendered, over one connection
            with app.app_context():
                cfg = app.config
                messages = [build_message(m, cfg["MAIL_FROM"], cfg).raw for m in
                            db.session.scalars(select(OutboxMail).order_by(OutboxMail.id))]
                sender = "noreply@eventhub.local"
                tos = [m for m in db.session.scalars(select(OutboxMail.to_addr)
                                                     .order_by(OutboxMail.id))]
            best = None
            for _ in range(2):  # the better of two: the yardstick is not made easier
                before = counter.value
                t3 = time.perf_counter()
                with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
                    for to, raw in zip(tos, messages, strict=True):
                        smtp.sendmail(sender, [to], raw)
                _wait_for(counter, before + n)
                took = time.perf_counter() - t3
                best = took if best is None else min(best, took)
    finally:
        server.kill()
    pipeline_rate = n / (t2 - t0)
    baseline_rate = n / best
    return {
        "mails": n,
        "queue_seconds": round(t1 - t0, 2),
        "all_delivered_seconds": round(t2 - t0, 2),
        "pipeline_mails_per_s": round(pipeline_rate, 1),
        "workers": workers,
        "cpu_ms_per_mail": round(cpu_total / n * 1000, 2),
        "server_accepts_prerendered_per_s": round(baseline_rate, 1),
        "ratio": round(pipeline_rate / baseline_rate, 2),
        "mean_message_kb": round(sum(map(len, messages)) / n / 1024, 1),
        # the biggest of this process and the workers
        "peak_memory_mb": round(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                    resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
                                / 1024),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2,
                        help="outbox workers side by side (send-mail --shard k/n)")
    args = parser.parse_args()
    result = run(args.mails, args.workers)
    print(json.dumps(result, indent=2))
    ok = result["ratio"] >= MIN_RATIO and result["peak_memory_mb"] < MAX_PEAK_MB
    print("targets met" if ok else "TARGET MISSED: ratio ≥ 0.5 and peak < 300 MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
