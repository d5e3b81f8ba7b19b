"""Operations in one process: request logs with secrets redacted, /metrics, /readyz, and
quick Danish 503 pages that heal by themselves when Redis or PostgreSQL come back."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time

import pytest

from eventhub import create_app, observability
from eventhub.extensions import db
from tests.support.client import Client
from tests.support.config import app_config, on_postgres
from tests.support.factories import make_event
from tests.support.polls import cast, join_code, make_poll, option_ids, read_events
from tests.support.production import free_port, redis_server

ON_POSTGRES = on_postgres()


def request_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"ts"')]


def test_one_log_line_per_request_without_secrets(app, client, capsys):
    capsys.readouterr()
    for path in ("/r/hemmelig-token-123?next=/x", "/t/BILLETKODE9", "/login/link/magisk.link",
                 "/e/dag/agenda/feed-hemmelighed.ics", "/healthz?token=abc"):
        client.get(path)
    text = capsys.readouterr().err
    for secret in ("hemmelig-token-123", "BILLETKODE9", "magisk.link", "feed-hemmelighed",
                   "token=abc", "next="):
        assert secret not in text
    lines = request_lines(text)
    assert [line["path"] for line in lines] == [
        "/r/<redacted>", "/t/<redacted>", "/login/link/<redacted>",
        "/e/dag/agenda/<redacted>.ics", "/healthz"]
    health = lines[-1]
    assert health["method"] == "GET" and health["status"] == 200
    assert health["endpoint"] == "site.healthz"
    assert isinstance(health["ms"], float) and health["ms"] >= 0
    assert health["instance"] == app.config["INSTANCE_NAME"] and health["pid"] == os.getpid()


def _metric(text: str, name: str) -> float:
    """The value of one sample (``name`` with its labels, as printed)."""
    for line in text.splitlines():
        if line.rsplit(" ", 1)[0] == name:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics:\n{text}")


def test_metrics_in_prometheus_text_format(app, client):
    make_event(app, "dag")
    poll_id = make_poll(app, results_visible=True)
    code = join_code(app)
    before = client.get("/metrics").get_data(as_text=True)
    ok = 'eventhub_requests_total{endpoint="site.healthz",method="GET",status="200"}'
    healthz_before = _metric(before, ok) if ok in before else 0.0
    client.get("/healthz")
    client.get("/healthz")

    stream = client.get(f"/j/{code}/polls/{poll_id}/stream", buffered=False)
    read_events(stream, 1)
    voter = Client(app, app.response_class)
    voter.get(f"/j/{code}")
    assert cast(voter, app, poll_id, option_ids(app, poll_id)[0]).status_code == 200

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert _metric(text, ok) == healthz_before + 2
    assert "# TYPE eventhub_request_duration_seconds histogram" in text
    assert 'eventhub_request_duration_seconds_bucket{endpoint="site.healthz",le="0.1"}' in text
    assert 'eventhub_requests_total{endpoint="polls.vote",method="POST",status="200"}' in text
    assert _metric(text, "eventhub_open_streams") >= 1
    assert _metric(text, "eventhub_votes") == 1
    assert _metric(text, 'eventhub_outbox_mails{status="queued"}') >= 0
    assert _metric(text, "eventhub_database_up") == 1

    open_now = _metric(text, "eventhub_open_streams")
    stream.close()
    after = client.get("/metrics").get_data(as_text=True)
    assert _metric(after, "eventhub_open_streams") == open_now - 1


def test_metrics_only_from_loopback_or_with_the_token(app, database_uri, tmp_path):
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    assert app.test_client().get("/metrics", environ_base=remote).status_code == 403
    assert app.test_client().get("/metrics").status_code == 200

    config = app_config(database_uri, tmp_path)
    config["METRICS_TOKEN"] = "s3cret-scrape"
    guarded = create_app(config)
    try:
        client = guarded.test_client()
        assert client.get("/metrics").status_code == 403  # loopback is not enough now
        assert client.get("/metrics", environ_base=remote,
                          headers={"Authorization": "Bearer wrong"}).status_code == 403
        assert client.get("/metrics", environ_base=remote,
                          headers={"Authorization": "Bearer s3cret-scrape"}).status_code == 200
    finally:
        with guarded.app_context():
            db.engine.dispose()


def test_readyz_checks_database_and_migrations(client, monkeypatch):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready",
                             "checks": {"database": "ok", "migrations": "ok"}}

    monkeypatch.setattr(observability, "migration_heads", lambda: frozenset({"fremtid"}))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["migrations"].endswith("code wants fremtid")


def test_readyz_503_quickly_when_database_unreachable():
    app = create_app({
        "TESTING": True, "SECRET_KEY": "k",
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/nothing",
    })
    started = time.monotonic()
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "OperationalError"
    assert time.monotonic() - started < 5


def test_proxy_hops_give_the_client_address_to_rate_limits(database_uri, tmp_path):
    config = app_config(database_uri, tmp_path)
    config["PROXY_HOPS"] = 1
    proxied = create_app(config)
    seen = {}

    @proxied.get("/_whoami")
    def whoami():
        from flask import request

        seen["addr"] = request.remote_addr
        return ""

    proxied.test_client().get("/_whoami", headers={"X-Forwarded-For": "198.51.100.7"})
    assert seen["addr"] == "198.51.100.7"
    with proxied.app_context():
        db.engine.dispose()


# Outages ----------------------------------------------------------------------------------

def test_redis_outage_gives_a_danish_503_quickly_and_heals(database_uri, tmp_path):
    """Our own throwaway Redis (never the shared one) is stopped and started again."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    config = app_config(database_uri, tmp_path)
    config.update(REDIS_URL=url, RATELIMIT_STORAGE_URI=url, RATELIMIT_ENABLED=True,
                  REDIS_TIMEOUT_SECONDS=1, RATELIMIT_LOGIN="1000 per minute")
    with redis_server(port) as server:
        app = create_app(config)
        try:
            client = app.test_client()
            form = {"email": "nogen@example.com", "password": "forkert-kodeord"}
            app.config["WTF_CSRF_ENABLED"] = False
            assert client.post("/login", data=form).status_code == 200  # wrong password
            assert client.get("/readyz").json["checks"]["redis"] == "ok"

            server.stop()
            started = time.monotonic()
            response = client.post("/login", data=form)
            assert response.status_code == 503
            assert time.monotonic() - started < 5
            assert response.headers["Retry-After"] == "5"
            page = response.get_data(as_text=True)
            assert "midlertidigt utilgængelig" in page
            assert "Vi kan ikke nå en af vores tjenester lige nu" in page
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.json["checks"]["redis"] != "ok"
            # Pages that do not need Redis go on working.
            assert client.get("/healthz").status_code == 200

            server.start()
            deadline = time.monotonic() + 10
            while client.post("/login", data=form).status_code != 200:
                assert time.monotonic() < deadline, "never recovered after Redis returned"
                time.sleep(0.2)
            assert client.get("/readyz").status_code == 200
        finally:
            app.extensions["eventhub_broker"].close()
            with app.app_context():
                db.engine.dispose()


class _TcpGate:
    """A TCP forwarder to PostgreSQL that can be shut (connections refused, open ones cut)
    and opened again: an outage of the database without touching the shared server."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self.conns: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def shut(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        self.listener.close()
        for conn in self.conns:
            with contextlib.suppress(OSError):  # (a pipe thread may have shut it down)
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.conns.clear()


@pytest.mark.postgres_only
def test_database_outage_gives_a_danish_503_quickly_and_heals(database_uri, tmp_path):
    from sqlalchemy.engine import make_url

    url = make_url(database_uri)
    gate = _TcpGate((url.host or "127.0.0.1", url.port or 5432))
    gate.open()
    config = app_config(url.set(host="127.0.0.1", port=gate.port)
                        .render_as_string(hide_password=False), tmp_path)
    app = create_app(config)
    try:
        client = app.test_client()
        assert client.get("/").status_code == 200
        gate.shut()
        started = time.monotonic()
        response = client.get("/")
        assert response.status_code == 503
        assert "Vi kan ikke nå vores database" in response.get_data(as_text=True)
        assert client.get("/readyz").status_code == 503
        assert time.monotonic() - started < 8
        gate.open()
        assert client.get("/").status_code == 200
        assert client.get("/readyz").status_code == 200
    finally:
        with app.app_context():
            db.engine.dispose()
        gate.shut()
        gate.shut()
