"""Two app instances share one database and one Redis: a vote on one reaches a result
stream held by the other (the production setup behind a proxy)."""

import threading
import time

import pytest
import redis

from eventhub import create_app
from eventhub.extensions import db
from tests.support.client import Client
from tests.support.config import app_config
from tests.support.polls import cast, join_code, make_poll, option_ids, read_events

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def two_instances(app, database_uri, tmp_path):
    redis.Redis.from_url(REDIS_URL).ping()  # .ci/run starts Redis; it must be there
    instances = []
    for name in ("a", "b"):
        config = app_config(database_uri, tmp_path / name)
        config.update(REDIS_URL=REDIS_URL, RATELIMIT_STORAGE_URI=REDIS_URL,
                      RATELIMIT_ENABLED=False)
        instances.append(create_app(config))
    yield instances
    for instance in instances:
        instance.extensions["eventhub_broker"].close()
        with instance.app_context():
            db.engine.dispose()


def test_vote_on_one_instance_reaches_the_stream_on_the_other(app, two_instances):
    from tests.support.factories import make_event

    first, second = two_instances
    make_event(app, "dag")
    poll_id = make_poll(app, results_visible=True)
    code = join_code(app)

    watcher = Client(second, second.response_class)
    response = watcher.get(f"/j/{code}/polls/{poll_id}/stream", buffered=False)
    assert read_events(response, 1)[0]["voters"] == 0

    result: dict = {}

    def listen():
        while True:
            [snap] = read_events(response, 1)
            if snap["voters"] >= 1:
                result["snap"] = snap
                return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    voter = Client(first, first.response_class)
    voter.get(f"/j/{code}")
    assert cast(voter, first, poll_id, option_ids(first, poll_id)[2]).status_code == 200
    thread.join(timeout=5)
    assert "snap" in result, "the other instance's stream never saw the vote"
    assert [o["count"] for o in result["snap"]["options"]] == [0, 0, 1]
    response.close()


def test_a_page_stream_on_one_instance_hears_votes_and_openings_on_the_other(
        app, two_instances):
    """The join page's one stream: a vote and a poll opened on instance a reach the page
    stream held on instance b (``poll:*`` and ``event:*`` through Redis)."""
    from tests.support.client import login
    from tests.support.factories import PASSWORD, make_event, make_user
    from tests.support.polls import read_until

    first, second = two_instances
    user_id = make_user(app, "org@example.com", password=PASSWORD)
    make_event(app, "dag", organizer_id=user_id)
    poll_id = make_poll(app, results_mode="always")
    draft = make_poll(app, status="draft")
    code = join_code(app)
    watcher = Client(second, second.response_class)
    response = watcher.get(f"/j/{code}/stream", buffered=False)
    read_until(response, lambda m: any(k == "snapshot" for k, _d in m))
    voter = Client(first, first.response_class)
    voter.get(f"/j/{code}")
    assert cast(voter, first, poll_id, option_ids(first, poll_id)[0]).status_code == 200
    got = read_until(response, lambda m: any(
        k == "snapshot" and d["voters"] == 1 for k, d in m))
    assert [d for k, d in got if k == "snapshot"][-1]["options"][0]["count"] == 1
    organizer = Client(first, first.response_class)
    login(organizer, "org@example.com")
    organizer.post(f"/manage/e/dag/polls/{draft}/open", data={})
    opened = read_until(response, lambda m: any(
        k == "state" and draft in d["polls"] for k, d in m))
    assert [d for k, d in opened if k == "state"][-1] == {"polls": [poll_id, draft]}
    response.close()
    # Let the hub's ticker finish reading the event (its own database connection goes
    # back to the pool) before the fixture disposes of the instances' engines.
    hub = second.extensions["eventhub_poll_hub"]
    for _ in range(50):
        if not hub.events_dirty and not hub.dirty:
            break
        time.sleep(0.05)
    time.sleep(0.3)
