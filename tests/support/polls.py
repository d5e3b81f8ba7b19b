"""Polls under test: a poll straight in the database, phones that join and vote as
poll.js does, tallies, and the snapshots of a result stream."""

from __future__ import annotations

import json

from sqlalchemy import select

from eventhub.extensions import db
from eventhub.polls.models import Poll, PollOption
from tests.support.client import Client


def join_code(app) -> str:
    """The join code of the (only) event."""
    from eventhub.events.models import Event

    with app.app_context():
        return db.session.scalar(select(Event.join_code))


def make_poll(app, kind="single", options=("Ejerskab", "Tid", "Budget"), status="open",
              **fields) -> int:
    """A poll on the (only) event."""
    from eventhub.events.models import Event

    with app.app_context():
        poll = Poll(event_id=db.session.scalar(select(Event.id)), question=f"Spørgsmål {kind}",
                    kind=kind, status=status,
                    options=[PollOption(label=o, position=i) for i, o in enumerate(options)]
                    if kind in ("single", "multiple", "ranking", "quiz") else [], **fields)
        db.session.add(poll)
        db.session.commit()
        return poll.id


def option_ids(app, poll_id) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(PollOption.id).where(
            PollOption.poll_id == poll_id).order_by(PollOption.position)))


def phone(app) -> Client:
    """A phone that opened the join page (and so got its voter cookie)."""
    client = Client(app, app.response_class)
    client.get(f"/j/{join_code(app)}")
    return client


def fetch_headers(client, app) -> dict:
    """What poll.js sends with a vote: JSON wanted, the page's origin, and the vote token
    that the join page gave this phone (it belongs to the phone's voter cookie)."""
    from eventhub.errors import DomainError
    from eventhub.polls import voters

    headers = {"Accept": "application/json", "Origin": "http://localhost"}
    cookie = client.get_cookie("eh_voter")
    if cookie is not None:
        with app.test_request_context(headers={"Cookie": f"eh_voter={cookie.value}"}):
            try:
                headers["X-Vote-Token"] = voters.vote_token(voters.anonymous_id() or "")
            except DomainError:  # a forged cookie: the page's token was for another one
                pass
    return headers


def cast(client, app, poll_id, *choices, as_json=True, headers=None):
    """A vote as poll.js sends it (``as_json``), or as the plain form posts it."""
    if headers is None:
        headers = fetch_headers(client, app) if as_json else {}
    return client.post(f"/j/{join_code(app)}/polls/{poll_id}/vote",
                       data={"choice": [str(c) for c in choices]}, headers=headers)


def tally(app, poll_id) -> dict:
    from eventhub.polls.tally import snapshot

    with app.app_context():
        return snapshot(db.session.get(Poll, poll_id))


def counts(app, poll_id) -> list[int]:
    """The votes per option, in option order."""
    return [o["count"] for o in tally(app, poll_id)["options"]]


def read_events(response, count: int) -> list[dict]:
    """The first ``count`` snapshot events from a streaming response."""
    events, buffer = [], ""
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            if "event: snapshot" in block:
                events.append(json.loads(block.split("data: ", 1)[1]))
                if len(events) == count:
                    return events
    return events


def read_until(response, done, limit: int = 200) -> list[tuple[str, dict]]:
    """(event, data) messages of a page's one stream ("state" and "snapshot"), read until
    ``done(messages)`` is true (or ``limit`` messages)."""
    messages, buffer = [], ""
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            for line in block.split("\n"):
                if line.startswith("event: "):
                    kind = line[7:]
            if "data: " in block:
                messages.append((kind, json.loads(block.split("data: ", 1)[1])))
                if done(messages) or len(messages) >= limit:
                    return messages
    return messages


def staff_of(app, email: str, role: str, slug: str = "dag") -> None:
    """Give a (new) user a role on the event."""
    from eventhub.events.models import Event, EventRole
    from tests.support.factories import PASSWORD, make_user

    user_id = make_user(app, email, password=PASSWORD)
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == slug))
        db.session.add(EventRole(event_id=event.id, user_id=user_id, role=role))
        db.session.commit()
