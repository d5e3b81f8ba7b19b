"""gunicorn config for ``bench_registration.py --probe`` / ``--what-if``.

Loaded with ``gunicorn -c tests/perf/_gunicorn_probe.py``; changes nothing in the app's
files, only wraps functions inside each worker after it has loaded the app.

``BENCH_PROBE_DIR`` set: write one JSON line per request to ``<dir>/<pid>.jsonl`` with
the WSGI app's wall and thread CPU time, ``lock_row`` as the registration service calls
it (time asked → time granted), the QR PNG, the .ics and ``queue_mail`` as the
confirmation mail calls them, and the session's COMMIT.

Experiments (``BENCH_WHATIF``; not the app as built, to size what a change would buy):

- ``attachments``: the confirmation mail gets a fixed QR PNG and a per-event cached
  .ics, as if the attachments were made by the mail worker (or once per event);
- ``deferred-mail``: the registration queues a bare outbox row (address, kind, no
  rendering, no attachments), as if the mail worker rendered the whole receipt later.
"""

from __future__ import annotations

import json
import os
import threading
import time

_local = threading.local()


def _timed(name: str, func, *, accumulate: bool = True):
    def wrapper(*args, **kwargs):
        stats = getattr(_local, "stats", None)
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            if stats is not None:
                stats[name] = stats.get(name, 0.0) + time.perf_counter() - start
    wrapper.__wrapped__ = func
    return wrapper


def _install_wrappers() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from eventhub.registration import notifications, services

    real_lock_row = services.lock_row

    def lock_row(*args, **kwargs):
        stats = getattr(_local, "stats", None)
        if stats is not None:
            stats["t_lock_asked"] = time.perf_counter()
        result = real_lock_row(*args, **kwargs)
        if stats is not None:
            stats["t_lock_granted"] = time.perf_counter()
            stats["c_lock_granted"] = time.thread_time()
        return result

    services.lock_row = lock_row
    notifications.qr_png = _timed("qr_png", notifications.qr_png)
    notifications.event_ics = _timed("event_ics", notifications.event_ics)
    notifications.queue_mail = _timed("render_mail", notifications.queue_mail)

    @event.listens_for(Session, "before_commit")
    def _before_commit(session):
        stats = getattr(_local, "stats", None)
        if stats is not None:
            stats["t_commit_start"] = time.perf_counter()

    @event.listens_for(Session, "after_commit")
    def _after_commit(session):
        stats = getattr(_local, "stats", None)
        if stats is not None:
            stats["t_commit_end"] = time.perf_counter()
            stats["c_commit_end"] = time.thread_time()


class _Probe:
    def __init__(self, app, out):
        self.app = app
        self.out = out
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        stats = _local.stats = {}
        t0, c0 = time.perf_counter(), time.thread_time()
        status = []

        def start(code, headers, exc_info=None):
            status.append(code)
            return start_response(code, headers, exc_info)

        try:
            body = self.app(environ, start)
            chunks = list(body)  # render fully inside the timing
            if hasattr(body, "close"):
                body.close()
        finally:
            t1, c1 = time.perf_counter(), time.thread_time()
            _local.stats = None
            path = environ.get("PATH_INFO", "")
            row = {"method": environ.get("REQUEST_METHOD"), "path": path,
                   "register": path.endswith("/register"),
                   "status": status[0][:3] if status else None,
                   "wall": t1 - t0, "cpu": c1 - c0}
            for key in ("qr_png", "event_ics", "render_mail"):
                if key in stats:
                    row[key] = stats[key]
            if "t_lock_granted" in stats:
                row["before_lock"] = stats["t_lock_asked"] - t0
                row["lock_wait"] = stats["t_lock_granted"] - stats["t_lock_asked"]
                if stats.get("t_commit_end", 0) > stats["t_lock_granted"]:
                    row["locked"] = stats["t_commit_end"] - stats["t_lock_granted"]
                    row["locked_cpu"] = stats["c_commit_end"] - stats["c_lock_granted"]
                    row["commit"] = stats["t_commit_end"] - stats["t_commit_start"]
                    row["after_commit"] = t1 - stats["t_commit_end"]
            with self.lock:
                self.out.write(json.dumps(row) + "\n")
                self.out.flush()
        return chunks


def _install_what_if(what: str) -> None:
    from eventhub.registration import notifications, services

    if what == "deferred-mail":
        from eventhub.extensions import db
        from eventhub.mail import OutboxMail

        def send_confirmation(reg, waitlist_position=None):
            db.session.add(OutboxMail(to_addr=reg.email, subject="", body_text="",
                                      kind="registration", attachments=[]))

        services.send_confirmation = send_confirmation
        return
    if what != "attachments":
        raise SystemExit(f"unknown BENCH_WHATIF {what!r}")
    fixed_png = notifications.qr_png("https://eventhub.example.dk/t/fixed")
    real_ics = notifications.event_ics
    cache: dict[int, bytes] = {}

    def qr_png(text, *args, **kwargs):
        return fixed_png

    def event_ics(reg):
        if reg.event_id not in cache:
            cache[reg.event_id] = real_ics(reg)
        return cache[reg.event_id]

    notifications.qr_png = qr_png
    notifications.event_ics = event_ics


def post_worker_init(worker):
    if os.environ.get("BENCH_WHATIF"):
        _install_what_if(os.environ["BENCH_WHATIF"])
    folder = os.environ.get("BENCH_PROBE_DIR")
    if folder:
        _install_wrappers()
        out = open(os.path.join(folder, f"{os.getpid()}.jsonl"), "a", encoding="utf-8")  # noqa: SIM115
        worker.wsgi = _Probe(worker.wsgi, out)
