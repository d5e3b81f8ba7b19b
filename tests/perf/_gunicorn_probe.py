"""gunicorn config for ``bench_registration.py --probe`` and its experiments (``+what``).

Loaded with ``gunicorn -c tests/perf/_gunicorn_probe.py``; changes nothing in the app's
files, only wraps functions inside each worker after it has loaded the app.

``BENCH_PROBE_DIR`` set: write one JSON line per request to ``<dir>/<pid>.jsonl`` with
the WSGI app's wall and thread CPU time, ``lock_row`` as the registration service calls
it (time asked → time granted), the statements sent while the lock is held, and the
session's COMMIT; and per worker ``worker-<pid>.json``: which wait function psycopg
chose (its C ``wait_c`` blocks the whole process; under gevent's patched ``select`` it
must be a cooperative one) and the garbage collector's time.

Experiments (``BENCH_WHATIF``; not the app as built, to size what a change buys):

- ``ungated``: registrations do not take turns in the worker
  (``eventhub.transactions.take_turns``); all go for the event row lock at once;
- ``turns-N``: N registrations at a time per worker instead of one;
- ``ratelimit-headers``: with ``X-RateLimit-*`` headers (``RATELIMIT_HEADERS_ENABLED``:
  two more Redis round trips per limited request);
- ``deferred-mail``: the registration queues a bare outbox row (address, kind, no
  builder arguments).
"""


from __future__ import annotations

import json
import os
import threading
import time

# Made again in each worker (post_worker_init): under gevent, after its monkey-patching,
# that is a greenlet-local, so concurrent requests on one worker keep their own figures.
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
    from sqlalchemy.engine import Engine
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

    @event.listens_for(Engine, "before_cursor_execute")
    def _statement(conn, cursor, statement, parameters, context, executemany):
        """Count the statements (round trips) sent while the event row is locked."""
        stats = getattr(_local, "stats", None)
        if stats is not None and "t_lock_granted" in stats and "t_commit_end" not in stats:
            stats["locked_statements"] = stats.get("locked_statements", 0) + 1
            stats.setdefault("locked_sql", []).append(" ".join(statement.split())[:70])

    # Both fire for a savepoint's release too (the registration flushes inside one):
    # only the request's own COMMIT ends the lock.
    @event.listens_for(Session, "before_commit")
    def _before_commit(session):
        stats = getattr(_local, "stats", None)
        if stats is not None and not session.in_nested_transaction():
            stats["t_commit_start"] = time.perf_counter()

    @event.listens_for(Session, "after_commit")
    def _after_commit(session):
        stats = getattr(_local, "stats", None)
        if stats is not None and not session.in_nested_transaction():
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
            row = {"method": environ.get("REQUEST_METHOD"), "path": path, "pid": os.getpid(),
                   "register": path.endswith("/register"),
                   "status": status[0][:3] if status else None,
                   "wall": t1 - t0, "cpu": c1 - c0}
            for key in ("qr_png", "event_ics", "render_mail", "locked_statements",
                        "locked_sql"):
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


class _NoTurn:
    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


def _install_ungated(app) -> None:
    """Registrations do not take turns in the worker (eventhub.transactions.take_turns):
    every request goes for the event row lock at once, as before the turns."""
    app.extensions["eventhub_turns"] = [_NoTurn() for _ in range(32)]


def _install_what_if(what: str, app=None) -> None:
    from eventhub.registration import services

    if what == "ungated":
        _install_ungated(app)
        return
    if what.startswith("turns-"):  # N registrations per worker at once instead of one
        from eventhub.transactions import Turnstile

        app.extensions["eventhub_turns"] = [Turnstile(int(what[6:])) for _ in range(32)]
        return
    if what == "ratelimit-headers":  # as RATELIMIT_HEADERS_ENABLED=true
        from eventhub.extensions import limiter

        limiter._headers_enabled = True
        return
    if what == "deferred-mail":
        from eventhub.extensions import db
        from eventhub.mail import OutboxMail

        def send_confirmation(reg, waitlist_position=None):
            db.session.add(OutboxMail(to_addr=reg.email, subject="", body_text="",
                                      kind="registration", attachments=[]))

        services.send_confirmation = send_confirmation
        return
    raise SystemExit(f"unknown BENCH_WHATIF {what!r}")


def _describe_worker() -> dict:
    """How this worker waits on PostgreSQL: psycopg picks its wait function when imported
    (its C ``wait_c`` blocks the whole process; under gevent's patched ``select`` it picks
    a Python one that yields to other greenlets)."""
    import sys

    import psycopg.waiting

    monkey = sys.modules.get("gevent.monkey")
    return {"worker": os.getpid(), "psycopg_wait": psycopg.waiting.wait.__name__,
            "select_patched": bool(monkey and monkey.is_module_patched("select"))}


_GC = {"seconds": [0.0, 0.0, 0.0], "runs": [0, 0, 0], "started": 0.0}


def _gc_timer(phase: str, info: dict) -> None:
    if phase == "start":
        _GC["started"] = time.perf_counter()
    else:
        _GC["seconds"][info["generation"]] += time.perf_counter() - _GC["started"]
        _GC["runs"][info["generation"]] += 1


def worker_exit(server, worker):
    """Add the garbage collector's figures to this worker's description."""
    folder = os.environ.get("BENCH_PROBE_DIR")
    if folder:
        path = os.path.join(folder, f"worker-{os.getpid()}.json")
        with open(path) as f:
            described = json.load(f)
        import gc

        described.update(gc_seconds=_GC["seconds"], gc_runs=_GC["runs"],
                         gc_threshold=list(gc.get_threshold()),
                         gc_objects=len(gc.get_objects()))
        with open(path, "w") as f:
            json.dump(described, f)


def post_worker_init(worker):
    global _local
    _local = threading.local()
    import gc

    gc.callbacks.append(_gc_timer)
    if os.environ.get("BENCH_WHATIF"):
        _install_what_if(os.environ["BENCH_WHATIF"], worker.wsgi)
    folder = os.environ.get("BENCH_PROBE_DIR")
    if folder:
        _install_wrappers()
        out = open(os.path.join(folder, f"{os.getpid()}.jsonl"), "a", encoding="utf-8")  # noqa: SIM115
        with open(os.path.join(folder, f"worker-{os.getpid()}.json"), "w") as f:
            json.dump(_describe_worker(), f)
        worker.wsgi = _Probe(worker.wsgi, out)
