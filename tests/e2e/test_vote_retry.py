"""A phone whose vote gets a 503 tries again by itself after the server's Retry-After,
says so in Danish, and keeps the person's choice.

A demo server of its own uses a throwaway Redis for its rate limits; stopping that Redis
makes the vote's rate-limit check fail (a real 503 with ``Retry-After: 5``), and starting
it again lets the phone's next try through.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.support.e2e import (
    DESKTOP,
    EVENT_PATH,
    REPO_ROOT,
    START_TIMEOUT,
    healthy,
    phone_context,
    server_command,
    step_check,
)
from tests.support.production import RedisServer, free_port, get

CHOICE_Q = "Hvad er den største barriere for at genbruge andre kommuners løsninger?"
BUSY = "Mange stemmer på én gang – vi prøver igen …"


@pytest.fixture(scope="module")
def server_with_redis(tmp_path_factory) -> Iterator[tuple[str, RedisServer]]:
    """``eventhub demo`` on SQLite whose rate limits live in a Redis we can stop."""
    redis = RedisServer(free_port())
    redis.start()
    instance = tmp_path_factory.mktemp("eventhub-redis-instance")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    url = f"redis://127.0.0.1:{redis.port}/0"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(EVENTHUB_INSTANCE=str(instance), MAIL_FOLDER=str(instance / "mail"),
               BASE_URL=base_url, PYTHONUNBUFFERED="1", REDIS_URL=url,
               RATELIMIT_STORAGE_URI=url, RATELIMIT_ENABLED="true", REDIS_TIMEOUT_SECONDS="1")
    log_file = instance / "server.log"
    with open(log_file, "wb") as log:
        process = subprocess.Popen(server_command(port), cwd=REPO_ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not healthy(base_url + "/healthz"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the demo server did not start:\n"
                            + log_file.read_text(errors="replace"), pytrace=False)
            time.sleep(0.25)
        yield base_url, redis
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        redis.stop()


def test_a_refused_vote_is_tried_again_with_the_same_choice(
        browser: Browser, server_with_redis, shot):
    base_url, redis = server_with_redis
    context = phone_context(browser, base_url)
    phone = context.new_page()
    try:
        phone.goto(EVENT_PATH)
        phone.get_by_role("main").get_by_role("link", name=re.compile(r"^Afstemninger")).click()
        expect(phone).to_have_url(re.compile(r"/j/[A-Z0-9]+$"))
        code = phone.url.rsplit("/", 1)[1]
        poll = phone.locator("section[data-poll]").filter(
            has=phone.get_by_role("heading", name=CHOICE_Q))
        poll_id = poll.get_attribute("id").removeprefix("poll-")
        budget = poll.get_by_role("radio", name="Budget", exact=True)
        option_id = int(budget.get_attribute("value"))

        def budget_votes() -> int:
            status, body = get(f"{base_url}/j/{code}/polls/{poll_id}.json")
            assert status == 200
            import json

            return {o["id"]: o["count"] for o in json.loads(body)["options"]}[option_id]

        before = budget_votes()
        budget.check()
        redis.stop()  # the vote's rate-limit check cannot reach Redis: 503, Retry-After 5
        try:
            poll.get_by_role("button", name="Stem").click()
            status = poll.get_by_role("status")
            expect(status).to_have_text(BUSY)
            expect(poll.get_by_role("button", name="Stem")).to_be_disabled()
            expect(budget).to_be_checked()
            step_check(phone, shot, "vote-retry-phone")
            phone.set_viewport_size(DESKTOP)
            shot(phone, "vote-retry-desktop")
        finally:
            redis.start()
        # The phone's next try (after 5 to 7.5 s) gets through, with the same choice.
        expect(status).to_have_text("Tak for din stemme!", timeout=20_000)
        expect(status).not_to_have_class(re.compile(r"\berror\b"))
        expect(budget).to_be_checked()
        assert budget_votes() == before + 1
    finally:
        context.close()
