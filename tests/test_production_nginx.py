"""Debian's nginx on loopback, configured by deploy/nginx.conf, in front of two gunicorn
instances (deploy/gunicorn.conf.py) on one database and one Redis of our own."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import re
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import redis

from tests.support.factories import PASSWORD, make_event, make_user
from tests.support.polls import join_code, make_poll, option_ids
from tests.support.production import NGINX, AppProcess, Nginx, get, redis_server

# .ci/run installs nginx: a missing one is a failure, not a skip.
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture(scope="module")
def stack(database_uri, tmp_path_factory):
    """Redis, instances a and b, nginx; torn down after this module."""
    assert Path(NGINX).exists(), f"{NGINX} is missing: apt-get install nginx"
    tmp = tmp_path_factory.mktemp("stack")
    with redis_server() as red:
        url = f"redis://127.0.0.1:{red.port}/0"
        env = {"DATABASE_URL": database_uri, "REDIS_URL": url, "SECRET_KEY": "stack-secret",
               "EVENTHUB_INSTANCE": str(tmp / "instance"), "MAIL_FOLDER": str(tmp / "mail"),
               "PROXY_HOPS": "1", "RATELIMIT_LOGIN": "5 per minute", "EVENTHUB_ENV":
               "development", "WEB_CONCURRENCY": "1", "LOG_LEVEL": "warning",
               "GRACEFUL_TIMEOUT": "1"}
        instances = [AppProcess(name, env, tmp) for name in ("a", "b")]
        try:
            for instance in instances:
                instance.start()
            nginx = Nginx(tmp / "nginx", [i.port for i in instances])
            nginx.start()
            try:
                yield {"nginx": nginx, "a": instances[0], "b": instances[1], "redis": red,
                       "redis_url": url}
            finally:
                nginx.stop()
        finally:
            for instance in instances:
                instance.stop()


def request_lines(instance: AppProcess) -> list[dict]:
    return [json.loads(line) for line in instance.log_text().splitlines()
            if line.startswith('{"ts"')]


def browser() -> urllib.request.OpenerDirector:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)


def call(opener, url: str, data: dict | None = None, headers: dict | None = None):
    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with opener.open(req, timeout=10) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers


def test_requests_through_nginx_reach_both_instances_and_static_comes_from_disk(stack):
    nginx, a, b = stack["nginx"], stack["a"], stack["b"]
    marker = f"/healthz?probe={time.time_ns()}"
    for _ in range(10):
        assert get(nginx.base + marker)[0] == 200
    served = {name: [line for line in request_lines(stack[name])
                     if line["endpoint"] == "site.healthz"] for name in ("a", "b")}
    assert served["a"] and served["b"], "nginx sent every request to one instance"
    assert all(line["instance"] == name for name in served for line in served[name])

    status, body = get(nginx.base + "/static/favicon.svg")
    assert status == 200 and b"<svg" in body
    assert not any(line["path"].startswith("/static/")
                   for line in request_lines(a) + request_lines(b))
    assert get(nginx.base + "/metrics")[0] == 404  # scraped per instance, not via the proxy
    assert get(f"http://127.0.0.1:{a.port}/metrics")[0] == 200
    assert get(nginx.base + "/readyz")[0] == 200


def test_session_csrf_and_sign_in_made_on_one_instance_work_on_the_other(app, stack):
    redis.Redis.from_url(stack["redis_url"]).flushall()  # our own Redis: fresh limits
    make_user(app, "arrangoer@example.com", admin=True)
    a, b = (f"http://127.0.0.1:{stack[n].port}" for n in ("a", "b"))
    client = browser()
    status, page, _ = call(client, a + "/login")
    token = CSRF.search(page).group(1)
    status, _, headers = call(client, b + "/login", {
        "csrf_token": token, "email": "arrangoer@example.com", "password": PASSWORD})
    assert status == 302, "instance b refused the CSRF token or session made on a"
    status, page, _ = call(client, a + "/account")
    assert status == 200 and "arrangoer@example.com" in page
    status, page, _ = call(client, stack["nginx"].base + "/manage/")
    assert status == 200


def read_snapshots(conn: http.client.HTTPResponse, until, timeout: float = 10.0) -> dict:
    """Read SSE blocks until ``until(snapshot)``; returns that snapshot."""
    deadline = time.monotonic() + timeout
    buffer = b""
    while time.monotonic() < deadline:
        chunk = conn.fp.read1(65536) if hasattr(conn.fp, "read1") else conn.read(1)
        if not chunk:
            raise AssertionError("the stream closed")
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            if b"event: snapshot" in block:
                snap = json.loads(block.split(b"data: ", 1)[1])
                if until(snap):
                    return snap
    raise AssertionError("no such snapshot in time")


def test_votes_through_nginx_reach_a_stream_read_through_nginx(app, stack):
    nginx = stack["nginx"]
    make_event(app, "dag")
    poll_id = make_poll(app, results_visible=True)
    code = join_code(app)
    options = option_ids(app, poll_id)

    conn = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=10)
    conn.request("GET", f"/j/{code}/polls/{poll_id}/stream",
                 headers={"Accept": "text/event-stream"})
    stream = conn.getresponse()
    assert stream.status == 200
    assert stream.getheader("Content-Type").startswith("text/event-stream")
    assert read_snapshots(stream, lambda s: True)["voters"] == 0

    phones = 6
    for i in range(phones):
        phone = browser()
        if i % 2:  # shift nginx's round robin, so the votes land on both instances
            get(nginx.base + "/healthz")
        status, page, _ = call(phone, f"{nginx.base}/j/{code}")
        assert status == 200
        # The form a phone without JavaScript posts (the vote path's own tests cover fetch).
        status, body, headers = call(phone, f"{nginx.base}/j/{code}/polls/{poll_id}/vote",
                                     {"csrf_token": CSRF.search(page).group(1),
                                      "choice": str(options[i % 3])},
                                     {"Origin": nginx.base, "Referer": f"{nginx.base}/j/{code}"})
        assert status == 302, body
        assert headers["Location"].endswith(f"/j/{code}#poll-{poll_id}")
    final = read_snapshots(stream, lambda s: s["voters"] == phones, timeout=5)
    assert [o["count"] for o in final["options"]] == [2, 2, 2]
    conn.close()
    voted = {name: sum(line["endpoint"] == "polls.vote" for line in request_lines(stack[name]))
             for name in ("a", "b")}
    assert voted["a"] and voted["b"], f"all votes went to one instance: {voted}"


def test_the_tls_server_speaks_http2_and_a_page_stream_runs_over_it(app, stack):
    """Browsers get HTTP/2 on the TLS listener (ALPN), so a join page's stream and its
    votes share one connection; the event stream answers through it."""
    import socket
    import ssl
    import subprocess

    nginx = stack["nginx"]
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", nginx.tls_port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.selected_alpn_protocol() == "h2"
    make_event(app, "h2")
    code = join_code(app)
    url = f"https://127.0.0.1:{nginx.tls_port}/j/{code}/stream"
    done = subprocess.run(["curl", "-sk", "--http2", "--max-time", "2", "-D", "-", url],
                          capture_output=True, text=True)
    assert done.stdout.startswith("HTTP/2 200"), done.stdout[:200]
    assert "content-type: text/event-stream" in done.stdout.lower()
    assert "event: state" in done.stdout


def test_rate_limits_are_shared_through_redis(stack):
    redis.Redis.from_url(stack["redis_url"]).flushall()
    bases = [f"http://127.0.0.1:{stack[n].port}" for n in ("a", "b")]
    statuses = []
    for i in range(6):  # RATELIMIT_LOGIN is 5 per minute; a and b take turns
        client = browser()
        base = bases[i % 2]
        _, page, _ = call(client, base + "/login")
        status, _, _ = call(client, base + "/login", {
            "csrf_token": CSRF.search(page).group(1), "email": "ingen@example.com",
            "password": "forkert-kodeord"})
        statuses.append(status)
    # Each instance saw three attempts: only a shared count reaches the limit.
    assert statuses == [200] * 5 + [429]


def test_an_address_too_long_gets_the_danish_page_from_nginx_and_from_an_instance(stack):
    """nginx refuses a request line over 8k with eventhub/static/errors/414.html; an
    instance reached directly refuses one over 8190 bytes with the same page. Below that,
    the app answers a long search itself."""
    nginx, instance = stack["nginx"].base, f"http://127.0.0.1:{stack['a'].port}"
    for base in (nginx, instance):
        status, body = get(base + "/?q=" + "a" * 10_000)
        assert status == 414, base
        page = body.decode()
        assert '<html lang="da">' in page and "Adressen er for lang" in page
        assert "The address is too long" in page and "URI Too Long" not in page
        assert get(base + "/?q=" + "a" * 6_000)[0] == 200, base  # gunicorn's default: 4094
    # Around the limits of both: the app's answer or the Danish page, never another.
    for n in range(8_160, 8_200):
        for base in (nginx, instance):
            status, body = get(base + "/?q=" + "a" * n)
            assert status == 200 or (status == 414 and b"Adressen er for lang" in body), \
                (base, n, status, body[:200])
