"""A room of phones votes at the same moment against the production set-up: gunicorn
with gevent workers (deploy/gunicorn.conf.py), ``EVENTHUB_ENV=production``, Redis for
rate limits and live results, rate limits on. Every vote is stored; nobody gets a 503
because the worker ran out of Redis connections of its own making."""

from __future__ import annotations

import asyncio
import json
import re
import resource
import time

import redis
from sqlalchemy import func, select

from eventhub.extensions import db
from eventhub.polls.models import Vote
from tests.support.factories import make_event
from tests.support.polls import join_code, make_poll, option_ids
from tests.support.production import AppProcess, run_coroutine

# A database number of its own on the shared Redis: rate-limit counters of this test never
# meet anyone else's.
REDIS_URL = "redis://127.0.0.1:6379/11"
PHONES = 1000
VOTE_TOKEN_RE = re.compile(rb'data-vote-token="([^"]+)"')


def _raise_open_files(want: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


async def _phones_vote(base: str, code: str, poll_id: int, options: list[int]) -> list:
    """Each phone opens the join page (its voter cookie and vote token), then all post
    their vote at once, as poll.js does. Returns (status, body) per phone."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout,
                                     cookie_jar=aiohttp.DummyCookieJar()) as http:
        gate = asyncio.Semaphore(50)

        async def join(_i: int) -> tuple[str, str]:
            async with gate, http.get(f"/j/{code}") as resp:
                body = await resp.read()
                assert resp.status == 200, resp.status
                voter = resp.cookies["eh_voter"].value
            return voter, VOTE_TOKEN_RE.search(body).group(1).decode()

        phones = await asyncio.gather(*(join(i) for i in range(PHONES)))
        start = asyncio.Event()

        async def vote(i: int) -> tuple[int, str]:
            voter, token = phones[i]
            await start.wait()
            async with http.post(
                    f"/j/{code}/polls/{poll_id}/vote",
                    data={"choice": str(options[i % len(options)])},
                    headers={"Accept": "application/json", "Origin": base,
                             "X-Vote-Token": token, "Cookie": f"eh_voter={voter}"}) as resp:
                return resp.status, (await resp.read()).decode(errors="replace")

        tasks = [asyncio.create_task(vote(i)) for i in range(PHONES)]
        await asyncio.sleep(0.2)  # every task waits at the start line
        start.set()
        return await asyncio.gather(*tasks)


def test_a_thousand_phones_vote_at_once_under_gevent_with_redis(app, database_uri, tmp_path):
    redis.Redis.from_url(REDIS_URL).ping()  # .ci/run starts Redis; it must be there
    _raise_open_files(4 * PHONES + 1024)
    make_event(app, "dag")
    poll_id = make_poll(app, results_visible=True)
    code, options = join_code(app), option_ids(app, poll_id)

    server = AppProcess("votes", {
        "EVENTHUB_ENV": "production", "SECRET_KEY": "production-test-secret",
        "SESSION_COOKIE_SECURE": "false", "DATABASE_URL": database_uri,
        "REDIS_URL": REDIS_URL, "RATELIMIT_STORAGE_URI": "", "RATELIMIT_ENABLED": "true",
        "WEB_CONCURRENCY": "2", "EVENTHUB_INSTANCE": str(tmp_path / "instance"),
        "MAIL_BACKEND": "folder", "LOG_REQUESTS": "false", "LOG_LEVEL": "warning",
    }, tmp_path)
    server.env["BASE_URL"] = f"http://127.0.0.1:{server.port}"
    server.start()
    try:
        started = time.monotonic()
        answers = run_coroutine(_phones_vote(server.env["BASE_URL"], code, poll_id, options))
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    log = server.log_text()

    statuses = [status for status, _body in answers]
    refused = [(s, b[:120]) for s, b in answers if s != 200]
    assert not refused, (f"{len(refused)} of {PHONES} votes refused, e.g. {refused[:3]}; "
                         f"log: {log[-1500:]}")
    assert all(json.loads(body)["ok"] is True for _s, body in answers)
    assert statuses.count(200) == PHONES
    assert "Too many connections" not in log
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(Vote)
                                   .where(Vote.poll_id == poll_id))
    assert stored == PHONES
    assert elapsed < 45, f"{PHONES} phones took {elapsed:.1f} s"


def test_rate_limits_live_results_and_readyz_share_one_bounded_pool(app, database_uri,
                                                                   tmp_path):
    """More requests at once than the pool has connections: they wait their turn (no
    "Too many connections"), and the process never opens more than it is allowed."""
    from concurrent.futures import ThreadPoolExecutor

    from eventhub import create_app
    from tests.support.client import Client
    from tests.support.config import app_config as _test_config
    from tests.support.polls import cast

    redis.Redis.from_url(REDIS_URL).ping()
    config = _test_config(database_uri, tmp_path)
    config.update(REDIS_URL=REDIS_URL, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_ENABLED=True,
                  REDIS_MAX_CONNECTIONS=3, REDIS_POOL_TIMEOUT=10)
    make_event(app, "dag")
    poll_id = make_poll(app, results_visible=True)
    served = create_app(config)
    try:
        [pool] = served.extensions["eventhub_redis_pools"].values()
        assert isinstance(pool, redis.BlockingConnectionPool) and pool.max_connections == 3
        code, options = join_code(served), option_ids(served, poll_id)

        def phone(i: int) -> tuple[int, int]:
            client = Client(served, served.response_class)
            client.get(f"/j/{code}")
            voted = cast(client, served, poll_id, options[i % 3]).status_code
            return voted, client.get("/readyz").status_code

        with ThreadPoolExecutor(40) as workers:
            answers = list(workers.map(phone, range(120)))
        assert answers == [(200, 200)] * 120
        assert len(pool._connections) <= 3
        with served.app_context():
            assert db.session.scalar(select(func.count()).select_from(Vote)) == 120
    finally:
        served.extensions["eventhub_broker"].close()
        with served.app_context():
            db.engine.dispose()


def test_the_phone_is_told_in_its_language_that_a_busy_vote_is_tried_again(client, app):
    make_event(app, "dag")
    make_poll(app)
    code = join_code(app)
    danish = client.get(f"/j/{code}").get_data(as_text=True)
    assert 'data-busy-text="Mange stemmer på én gang – vi prøver igen …"' in danish
    english = client.get(f"/j/{code}?lang=en").get_data(as_text=True)
    assert 'data-busy-text="Lots of votes at once – trying again …"' in english
