"""A registration rush against the production set-up: gunicorn with a gevent worker
(deploy/gunicorn.conf.py), PostgreSQL, rate limits on in Redis, behind one proxy.

Registrations to one event take turns inside the worker (``transactions.take_turns``),
instead of all going for the event row lock at once: each request waiting for the lock
held one of the worker's database connections, so the worker's other pages waited for a
connection too. So no connection waits for the event row lock, someone reading the
event page meanwhile gets it quickly, and the seats still come out exact.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time

import psycopg
import pytest
import redis
from sqlalchemy import select
from sqlalchemy.engine import make_url

from eventhub.extensions import db
from eventhub.registration.models import Registration
from tests.support.factories import make_event
from tests.support.production import AppProcess, run_coroutine

REDIS_URL = "redis://127.0.0.1:6379/11"  # a database number of its own
PEOPLE, CAPACITY = 80, 20
CSRF_RE = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')


async def _rush(base: str, slug: str) -> tuple[list[tuple[int, str]], list[float], float]:
    """Each person opens the form (session cookie, CSRF token), then all send it at once,
    each from an address of their own (X-Forwarded-For, as nginx passes it). Returns the
    answers, how long the event page took for someone else meanwhile, and how long the
    rush took."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(base, connector=connector,
                                     cookie_jar=aiohttp.DummyCookieJar(),
                                     timeout=aiohttp.ClientTimeout(total=60)) as http:
        async def form(i: int) -> tuple[str, str]:
            async with http.get(f"/e/{slug}/register",
                                headers={"X-Forwarded-For": f"10.9.0.{i}"}) as resp:
                assert resp.status == 200
                body = await resp.read()
                cookie = "; ".join(f"{k}={m.value}" for k, m in resp.cookies.items())
            return cookie, CSRF_RE.search(body).group(1).decode()

        forms = [await form(i) for i in range(PEOPLE)]
        start = asyncio.Event()

        async def register(i: int) -> tuple[int, str]:
            cookie, token = forms[i]
            await start.wait()
            async with http.post(f"/e/{slug}/register", allow_redirects=False, data={
                    "csrf_token": token, "name": f"Deltager {i}",
                    "email": f"deltager{i}@kommune.example.dk",
                    "organization": "Aarhus Kommune", "job_title": "Konsulent"},
                    headers={"Cookie": cookie, "X-Forwarded-For": f"10.9.0.{i}"}) as resp:
                return resp.status, resp.headers.get("Location", "")

        page: list[float] = []

        async def bystander() -> None:
            """Someone else opens the event page every 50 ms while the rush runs."""
            await start.wait()
            while not all(task.done() for task in tasks):
                began = time.monotonic()
                async with http.get(f"/e/{slug}") as resp:
                    await resp.read()
                    assert resp.status == 200
                page.append(time.monotonic() - began)
                await asyncio.sleep(0.05)

        tasks = [asyncio.create_task(register(i)) for i in range(PEOPLE)]
        reader = asyncio.create_task(bystander())
        await asyncio.sleep(0.2)
        start.set()
        began = time.monotonic()
        answers = await asyncio.gather(*tasks)
        took = time.monotonic() - began
        await reader
        return answers, page, took


class _LockWaiters(threading.Thread):
    """Samples PostgreSQL: how many connections to the test database wait for a lock."""

    def __init__(self, dsn: str, database: str) -> None:
        super().__init__(daemon=True)
        self.dsn, self.database = dsn, database
        self.most, self.samples = 0, 0
        self.done = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.done.is_set():
                waiting = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                    " AND wait_event_type = 'Lock'", (self.database,)).fetchone()[0]
                self.most, self.samples = max(self.most, waiting), self.samples + 1
                time.sleep(0.005)


@pytest.mark.postgres_only
def test_a_rush_of_registrations_takes_turns_in_a_gevent_worker(app, database_uri, tmp_path):
    redis.Redis.from_url(REDIS_URL).ping()
    make_event(app, "rush", capacity=CAPACITY)
    url = make_url(database_uri)
    server = AppProcess("rush", {
        "EVENTHUB_ENV": "production", "SECRET_KEY": "production-test-secret",
        "SESSION_COOKIE_SECURE": "false", "DATABASE_URL": database_uri,
        "REDIS_URL": REDIS_URL, "RATELIMIT_STORAGE_URI": "", "RATELIMIT_ENABLED": "true",
        "PROXY_HOPS": "1", "WEB_CONCURRENCY": "1", "MAIL_BACKEND": "folder",
        "EVENTHUB_INSTANCE": str(tmp_path / "instance"), "LOG_REQUESTS": "false",
    }, tmp_path)
    server.start()
    waiters = _LockWaiters(url.set(drivername="postgresql").render_as_string(
        hide_password=False), url.database)
    try:
        base = f"http://127.0.0.1:{server.port}"
        waiters.start()
        answers, page, rush_seconds = run_coroutine(_rush(base, "rush"))
    finally:
        waiters.done.set()
        server.stop()
    waiters.join(5)

    assert all(status == 302 and re.search(r"/r/[^/?]+\?new=1$", location)
               for status, location in answers), answers
    with app.app_context():
        statuses = list(db.session.scalars(select(Registration.status)))
    assert sorted(statuses) == sorted(["confirmed"] * CAPACITY
                                      + ["waitlisted"] * (PEOPLE - CAPACITY))
    # Someone reading the event page meanwhile was not kept waiting behind the rush
    # (without turns the page waited for a database connection about as long as the rush).
    assert page and max(page) < rush_seconds / 3, (
        f"the event page took up to {max(page):.2f} s during a {rush_seconds:.2f} s rush")
    assert waiters.samples > 20
    assert waiters.most == 0, (f"up to {waiters.most} connections waited for the event "
                               f"row lock at once")


def test_turns_are_taken_first_come_first_served():
    """A released turn goes to the longest waiting request, never to a newcomer."""
    from eventhub.transactions import Turnstile

    turnstile, order = Turnstile(1), []
    turnstile.acquire()
    arrived = []

    def request(name: str) -> None:
        arrived.append(name)
        turnstile.acquire()
        order.append(name)
        turnstile.release()

    first = threading.Thread(target=request, args=("first",))
    first.start()
    while "first" not in arrived:
        time.sleep(0.001)
    time.sleep(0.05)  # "first" is waiting now
    turnstile.release()
    request("newcomer")  # arrives the moment the turn comes free
    first.join(5)
    assert order == ["first", "newcomer"]
