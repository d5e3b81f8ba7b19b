"""Operations: one JSON log line per request, Prometheus metrics, readiness.

* Every request is logged once on the ``eventhub.requests`` logger as one JSON line:
  method, path (secrets redacted, no query string), endpoint, status, latency in ms,
  instance and pid. Personal links (``/r/<token>``), tickets (``/t/<code>``), magic
  links and calendar-feed secrets never reach a log.
* ``/metrics`` answers in the Prometheus text format: requests by endpoint and status,
  a latency histogram, open result streams, votes, outbox backlog. Under gunicorn the
  workers of one instance share their figures through ``PROMETHEUS_MULTIPROC_DIR``
  (``deploy/gunicorn.conf.py`` gives each instance a folder of its own). It is open to
  loopback addresses only, or to anyone sending ``Authorization: Bearer $METRICS_TOKEN``
  when ``METRICS_TOKEN`` is set. The metric objects are made on the first request, so a
  command that serves none (``db upgrade``, ``send-mail``) writes nothing into that
  folder; a folder that does not exist yet is made (mode 0700) when the app is built, and
  one that cannot be used stops it with a ``MetricsFolderError`` saying why.
* ``/readyz``: 200 when the database answers, the schema is at the newest migration and
  Redis (when configured) answers; 503 with the failing check otherwise.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime
from functools import cache

from flask import Blueprint, Flask, Response, abort, current_app, g, jsonify, request
from sqlalchemy import func, select, text
from werkzeug.wsgi import ClosingIterator

from eventhub.extensions import csrf, db, is_redis_url, redis_pool

log = logging.getLogger("eventhub.requests")
bp = Blueprint("observability", __name__)

# Secrets in paths: (pattern, replacement). The query string is never logged at all.
REDACTIONS = [
    (re.compile(r"^/r/[^/]+"), "/r/<redacted>"),
    (re.compile(r"^/t/[^/]+"), "/t/<redacted>"),
    (re.compile(r"^/login/link/[^/]+"), "/login/link/<redacted>"),
    (re.compile(r"/agenda/[^/]+\.ics$"), "/agenda/<redacted>.ics"),
]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def loggable_path(path: str) -> str:
    """The request path with personal secrets replaced by ``<redacted>``."""
    for pattern, replacement in REDACTIONS:
        path = pattern.sub(replacement, path)
    return path


# Metrics --------------------------------------------------------------------------------

class _Metrics:
    """The process's metric objects (made once: Prometheus refuses duplicates)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "eventhub_requests", "HTTP requests answered, by endpoint, method and status.",
            ["endpoint", "method", "status"], registry=self.registry)
        self.latency = Histogram(
            "eventhub_request_duration_seconds",
            "Time to answer a request (for a stream: until it starts), by endpoint.",
            ["endpoint"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.streams = Gauge(
            "eventhub_open_streams", "Server-Sent Event streams open now.",
            registry=self.registry, multiprocess_mode="livesum")


@cache
def metrics() -> _Metrics:
    return _Metrics()


class MetricsFolderError(RuntimeError):
    """PROMETHEUS_MULTIPROC_DIR names a folder this process cannot use."""


def prepare_metrics_folder() -> None:
    """Make the PROMETHEUS_MULTIPROC_DIR folder (0700) if it is missing; a
    MetricsFolderError if it is no folder or not writable."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise MetricsFolderError(
            f"PROMETHEUS_MULTIPROC_DIR={folder}: cannot create the folder ({exc.strerror}). "
            "Point it at a folder the user running EventHub may write to, or unset it."
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise MetricsFolderError(
            f"PROMETHEUS_MULTIPROC_DIR={folder}: the folder is not writable by the user "
            "running EventHub. Change its owner or mode, or point the setting elsewhere.")


class _DatabaseCollector:
    """Figures read from the database at scrape time: the same on every instance."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        from eventhub.mail import QUEUED, OutboxMail

        up = GaugeMetricFamily("eventhub_database_up", "1 when the database answered.")
        try:
            votes = db.session.scalar(text("SELECT count(*) FROM votes"))
            backlog = db.session.execute(
                select(OutboxMail.status, func.count()).group_by(OutboxMail.status)).all()
            oldest = db.session.scalar(
                select(func.min(OutboxMail.created_at)).where(OutboxMail.status == QUEUED))
        except Exception:  # noqa: BLE001 - the scrape still answers
            db.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        family = GaugeMetricFamily("eventhub_votes", "Votes stored, all polls.")
        family.add_metric([], votes or 0)
        yield family
        by_status = dict(backlog)
        family = GaugeMetricFamily("eventhub_outbox_mails", "Mails in the outbox by status.",
                                   labels=["status"])
        for status in ("queued", "sent", "failed", "skipped"):
            family.add_metric([status], by_status.get(status, 0))
        yield family
        age = 0.0 if oldest is None else max(0.0, (datetime.now(UTC) - oldest).total_seconds())
        family = GaugeMetricFamily("eventhub_outbox_oldest_queued_seconds",
                                   "Age of the oldest mail still queued (0: none).")
        family.add_metric([], age)
        yield family


def render_metrics() -> bytes:
    """Every metric in the Prometheus text format (all workers of this instance)."""
    from prometheus_client import CollectorRegistry, generate_latest

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessMetrics())
    registry.register(_DatabaseCollector())
    return generate_latest(registry)


class _ProcessMetrics:
    def collect(self):
        yield from metrics().registry.collect()


def _metrics_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
@csrf.exempt
def metrics_endpoint():
    """Prometheus text format; loopback only, or with the METRICS_TOKEN bearer token."""
    if not _metrics_allowed():
        abort(403)
    return Response(render_metrics(), mimetype="text/plain; version=0.0.4; charset=utf-8",
                    headers={"Cache-Control": "no-store"})


# Readiness ------------------------------------------------------------------------------

@cache
def migration_heads() -> frozenset[str]:
    """The newest Alembic revision(s) this code knows."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from eventhub.paths import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def redis_url(app: Flask) -> str | None:
    """The Redis this instance depends on (live results or rate limits), if any."""
    for url in (app.config.get("REDIS_URL"), app.config.get("RATELIMIT_STORAGE_URI")):
        if is_redis_url(url):
            return url
    return None


def _redis_client(app: Flask):
    """A client on the process's shared pool: the probe asks the Redis the app uses, and
    a burst of probes cannot open connections beyond the pool's bound."""
    client = app.extensions.get("eventhub_redis_probe")
    if client is None:
        import redis

        client = app.extensions["eventhub_redis_probe"] = redis.Redis(
            connection_pool=redis_pool(app, redis_url(app)))
    return client


def readiness() -> tuple[bool, dict[str, str]]:
    """(ready, {check: "ok" | what failed}) for the database, migrations and Redis."""
    checks: dict[str, str] = {}
    try:
        current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
        checks["database"] = "ok"
        heads = migration_heads()
        checks["migrations"] = "ok" if current == set(heads) else (
            f"at {','.join(sorted(current)) or 'none'}, code wants {','.join(sorted(heads))}")
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        db.session.rollback()
        checks["database"] = type(exc).__name__
        checks["migrations"] = "unknown"
    app = current_app._get_current_object()
    if redis_url(app):
        try:
            _redis_client(app).ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = type(exc).__name__
    return all(v == "ok" for v in checks.values()), checks


@bp.get("/readyz")
@csrf.exempt
def readyz():
    """200 when this instance can serve: database, migrations at head, Redis if configured."""
    ready, checks = readiness()
    response = jsonify(status="ready" if ready else "unavailable", checks=checks)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


# Request log and counters ---------------------------------------------------------------

class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            self.handleError(record)


def _configure_logger() -> None:
    log.disabled = False  # Alembic's fileConfig disables loggers that existed before it
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def init_app(app: Flask) -> None:
    """Time, count and log every request; add /metrics and /readyz."""
    app.register_blueprint(bp)
    if app.config.get("LOG_REQUESTS", True):
        _configure_logger()
    instance = app.config.get("INSTANCE_NAME") or "eventhub"
    prepare_metrics_folder()

    def start_timer() -> None:
        g.request_started = time.perf_counter()

    # First of all before-request functions: a rate limit refusing the request earlier
    # still gets its latency measured.
    app.before_request_funcs.setdefault(None, []).insert(0, start_timer)

    @app.after_request
    def count_and_log(response: Response) -> Response:
        started = g.get("request_started")
        seconds = time.perf_counter() - started if started is not None else 0.0
        endpoint = request.endpoint or ("<unmatched>" if response.status_code == 404
                                        else "<none>")
        counters = metrics()
        counters.requests.labels(endpoint, request.method, str(response.status_code)).inc()
        counters.latency.labels(endpoint).observe(seconds)
        if response.mimetype == "text/event-stream":
            counters.streams.inc()
            # Not call_on_close: a direct-passthrough response hands its iterable to the
            # server unwrapped, so only a wrapper's close() is sure to run.
            response.response = ClosingIterator(response.response, counters.streams.dec)
        if app.config.get("LOG_REQUESTS", True):
            log.disabled = False  # a migration run in this process (demo) may have muted it
            log.info(json.dumps({
                "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "instance": instance, "pid": os.getpid(),
                "method": request.method, "path": loggable_path(request.path),
                "endpoint": endpoint, "status": response.status_code,
                "ms": round(seconds * 1000, 1),
            }, ensure_ascii=False))
        return response
