"""Quiz questions: points for a right answer, more the faster it came, and the event's
leaderboard of nicknames."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from eventhub.db import utcnow
from eventhub.errors import DomainError
from eventhub.extensions import db
from eventhub.polls.models import QUIZ, Poll, Vote

BASE_POINTS, SPEED_POINTS = 500, 500
GRACE_SECONDS = 1  # the phone's answer may travel a moment after the clock ran out
MAX_NICK = 30
LEADERBOARD = 10


class TimeUp(DomainError):
    status_code = 409


def deadline(poll: Poll):
    """When answers stop counting (None: no time limit, or not opened)."""
    if not poll.time_limit or poll.opened_at is None:
        return None
    return poll.opened_at + timedelta(seconds=poll.time_limit)


def score(poll: Poll, choice: int, nickname: str) -> dict:
    """The stored answer: the choice, its points and the nickname to show (may be "")."""
    now, ends = utcnow(), deadline(poll)
    if ends is not None and now > ends + timedelta(seconds=GRACE_SECONDS):
        raise TimeUp(_("Tiden er gået. Dit svar blev ikke gemt."))
    right = any(o.id == choice and o.correct for o in poll.options)
    points = 0
    if right:
        speed = 1.0
        if ends is not None:
            left = max((ends - now).total_seconds(), 0)
            speed = left / poll.time_limit
        points = BASE_POINTS + round(SPEED_POINTS * speed)
    nick = " ".join((nickname or "").split())[:MAX_NICK]
    return {"choice": choice, "points": points, "nick": nick}


def leaderboard(event_id: int) -> list[dict]:
    """The best nicknames of the event's quiz by points (phones without a nickname are
    not listed)."""
    rows = db.session.execute(
        select(Vote.voter_key, Vote.value).join(Poll, Poll.id == Vote.poll_id)
        .where(Poll.event_id == event_id, Poll.kind == QUIZ).order_by(Vote.id))
    points: dict[str, int] = {}
    nicks: dict[str, str] = {}
    for key, value in rows:
        if not isinstance(value, dict):
            continue
        points[key] = points.get(key, 0) + int(value.get("points") or 0)
        if value.get("nick"):
            nicks[key] = value["nick"]
    board = sorted(((p, nicks[k]) for k, p in points.items() if k in nicks),
                   key=lambda item: (-item[0], item[1]))
    return [{"nick": nick, "points": p} for p, nick in board[:LEADERBOARD]]
