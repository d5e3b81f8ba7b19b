"""What polls hold about a person: votes and Q&A questions cast through their personal
link (anonymous phones are linked to no one). Forgetting cuts the link, keeps the vote."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from eventhub import privacy_registry as registry
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.polls.models import Poll, PollOption, QAQuestion, QAUpvote, Vote
from eventhub.registration.privacy import iso


def _keys(registration_ids: list[int]) -> list[str]:
    return [f"r:{rid}" for rid in registration_ids]


def _answer_text(poll: Poll, value: Any) -> str:
    if poll.kind in ("single", "multiple"):
        ids = value if isinstance(value, list) else [value]
        labels = db.session.scalars(select(PollOption.label).where(PollOption.id.in_(
            [i for i in ids if isinstance(i, int)])))
        return "; ".join(labels)
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _votes(subject: registry.Subject) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Vote, Poll, Event.title).join(Poll, Vote.poll_id == Poll.id)
        .join(Event, Poll.event_id == Event.id)
        .where(or_(Vote.registration_id.in_(subject.registration_ids),
                   Vote.voter_key.in_(_keys(subject.registration_ids))))
        .order_by(Vote.id)).all()
    return [{"event": event, "poll": poll.question, "answer": _answer_text(poll, vote.value),
             "at": iso(vote.created_at)} for vote, poll, event in rows]


def _questions(subject: registry.Subject) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(QAQuestion, Poll.question, Event.title).join(Poll, QAQuestion.poll_id == Poll.id)
        .join(Event, Poll.event_id == Event.id)
        .where(QAQuestion.voter_key.in_(_keys(subject.registration_ids)))
        .order_by(QAQuestion.id)).all()
    return [{"event": event, "poll": poll, "question": q.text, "status": q.status,
             "at": iso(q.created_at)} for q, poll, event in rows]


SECTIONS = [
    registry.Section("votes", _l("Dine stemmer"), _votes, {
        "event": _l("Arrangement"), "poll": _l("Afstemning"), "answer": _l("Svar")},
        order=50),
    registry.Section("questions", _l("Dine spørgsmål til oplægsholdere"), _questions, {
        "event": _l("Arrangement"), "poll": _l("Afstemning"), "question": _l("Spørgsmål")},
        order=60),
]


def _unlink(rows) -> None:
    for row in rows:
        row.voter_key = f"x:{secrets.token_urlsafe(12)}"
        if isinstance(row, Vote):
            row.registration_id = None


def _forget(registration_ids: list[int]) -> None:
    """Votes, questions and upvotes stay (the results add up) but point to no one."""
    keys = _keys(registration_ids)
    _unlink(db.session.scalars(select(Vote).where(or_(
        Vote.registration_id.in_(registration_ids), Vote.voter_key.in_(keys)))))
    _unlink(db.session.scalars(select(QAQuestion).where(QAQuestion.voter_key.in_(keys))))
    _unlink(db.session.scalars(select(QAUpvote).where(QAUpvote.voter_key.in_(keys))))
    db.session.flush()


def _purge(event_ids: list[int]) -> int:
    """Anonymous phones' cookie ids are cut from the events' votes, questions, upvotes."""
    polls = select(Poll.id).where(Poll.event_id.in_(event_ids))
    rows = [*db.session.scalars(select(Vote).where(
                Vote.poll_id.in_(polls), ~Vote.voter_key.startswith("x:"))),
            *db.session.scalars(select(QAQuestion).where(
                QAQuestion.poll_id.in_(polls), ~QAQuestion.voter_key.startswith("x:"))),
            *db.session.scalars(select(QAUpvote).join(
                QAQuestion, QAUpvote.question_id == QAQuestion.id).where(
                QAQuestion.poll_id.in_(polls), ~QAUpvote.voter_key.startswith("x:")))]
    _unlink(rows)
    db.session.flush()
    return len(rows)


def register(app: Flask) -> None:
    """Add this domain's part of "my data", correcting and forgetting to the app."""
    for section in SECTIONS:
        registry.add_section(app, section)
    registry.add_forgetter(app, _forget)
    registry.add_purger(app, _purge)
