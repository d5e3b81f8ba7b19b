"""Tallies: the full state of a poll's results as one JSON-able snapshot."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, select

from eventhub.extensions import db
from eventhub.polls.models import (
    AFTER_VOTE,
    ALWAYS,
    APPROVED,
    MULTIPLE,
    NEVER,
    OPEN_TEXT,
    PENDING,
    QA,
    QUIZ,
    RANKING,
    SCALE,
    SINGLE,
    WORDCLOUD,
    Poll,
    QAQuestion,
    Vote,
)

TOP_WORDS = 40
LATEST_TEXTS = 50


_AS_TEXT = cast(Vote.value, Text)
# Built once (composing it cost about as much as running it): each distinct vote value
# of a poll with how many cast it.
_BALLOTS = (select(_AS_TEXT, func.count()).where(Vote.poll_id == bindparam("poll_id"))
            .group_by(_AS_TEXT))


def _ballots(poll_id: int) -> list[tuple[Any, int]]:
    """Each distinct vote value of a poll with how many cast it, counted by the database
    (thousands of votes come back as a handful of rows)."""
    rows = db.session.execute(_BALLOTS, {"poll_id": poll_id})
    return [(json.loads(value) if value is not None else None, n) for value, n in rows]


def snapshot(poll: Poll) -> dict[str, Any]:
    """Everything a results view needs, computed from the votes in the database."""
    ballots = _ballots(poll.id) if poll.kind in (SINGLE, MULTIPLE, SCALE, WORDCLOUD, RANKING,
                                                 QUIZ) else None
    voters = sum(n for _v, n in ballots) if ballots is not None else db.session.scalar(
        select(func.count()).select_from(Vote).where(Vote.poll_id == poll.id))
    snap: dict[str, Any] = {
        "poll": poll.id, "kind": poll.kind, "question": poll.question, "status": poll.status,
        "results_visible": poll.results_visible, "results_mode": poll.results_mode,
        "voters": voters,
    }
    if poll.kind in (SINGLE, MULTIPLE):
        counts: Counter[int] = Counter()
        for value, n in ballots:
            for option in value or []:
                counts[option] += n
        snap["options"] = [
            {"id": o.id, "label": o.label, "count": counts.get(o.id, 0),
             "percent": round(100 * counts.get(o.id, 0) / voters) if voters else 0}
            for o in poll.options]
    elif poll.kind == SCALE:
        counts = Counter()
        for value, n in ballots:
            counts[value] += n
        snap["options"] = [
            {"id": n, "label": str(n), "count": counts.get(n, 0),
             "percent": round(100 * counts.get(n, 0) / voters) if voters else 0}
            for n in range(poll.scale_min, poll.scale_max + 1)]
        snap["average"] = round(sum(n * c for n, c in counts.items()) / voters, 2) \
            if voters else None
    elif poll.kind == WORDCLOUD:
        snap["words"] = _words(ballots)
    elif poll.kind == RANKING:
        snap["ranking"] = _ranking(poll, ballots, voters)
    elif poll.kind == QUIZ:
        snap.update(_quiz(poll, ballots, voters))
    elif poll.kind == OPEN_TEXT:
        snap.update(_texts(poll))
    elif poll.kind == QA:
        snap.update(_questions(poll))
    return snap


def _ranking(poll: Poll, ballots: list[tuple[Any, int]], voters: int) -> list[dict]:
    """Points (first of n items gets n, last gets 1) and average rank, best first."""
    n = len(poll.options)
    points: Counter[int] = Counter()
    ranks: Counter[int] = Counter()
    for value, count in ballots:
        for place, option in enumerate(value or [], start=1):
            points[option] += (n - place + 1) * count
            ranks[option] += place * count
    rows = [{"id": o.id, "label": o.label, "points": points.get(o.id, 0),
             "average": round(ranks.get(o.id, 0) / voters, 2) if voters else None}
            for o in poll.options]
    return sorted(rows, key=lambda r: (-r["points"], r["label"]))


def _quiz(poll: Poll, ballots: list[tuple[Any, int]], voters: int) -> dict[str, Any]:
    """How many chose each answer, which is right, and the event's leaderboard."""
    from eventhub.polls.quiz import leaderboard

    counts: Counter[int] = Counter()
    for value, n in ballots:
        if isinstance(value, dict):
            counts[value.get("choice")] += n
    return {
        "options": [{"id": o.id, "label": o.label, "count": counts.get(o.id, 0),
                     "percent": round(100 * counts.get(o.id, 0) / voters) if voters else 0}
                    for o in poll.options],
        "correct": [o.id for o in poll.options if o.correct],
        "time_limit": poll.time_limit,
        "opened_at": poll.opened_at.timestamp() if poll.opened_at else None,
        "leaderboard": leaderboard(poll.event_id)}


RESULT_KEYS = ("options", "words", "texts", "average", "ranking")


def _words(ballots: list[tuple[Any, int]]) -> list[dict]:
    """Word cloud: each entry (a word or a phrase of up to three) with its count."""
    counts: Counter[str] = Counter()
    for value, n in ballots:
        for entry in value or []:
            counts[entry] += n
    return [{"word": w, "count": c} for w, c in counts.most_common(TOP_WORDS)]


def _texts(poll: Poll) -> dict[str, Any]:
    """Open text: the latest approved answers, and how many wait for the moderator."""
    rows = db.session.execute(
        select(Vote.id, Vote.value).where(Vote.poll_id == poll.id, Vote.status == APPROVED)
        .order_by(Vote.id.desc()).limit(LATEST_TEXTS)).all()
    return {"texts": [{"id": i, "text": t} for i, t in rows],
            "pending": db.session.scalar(select(func.count()).select_from(Vote).where(
                Vote.poll_id == poll.id, Vote.status == PENDING))}


def _questions(poll: Poll) -> dict[str, Any]:
    """Q&A: the approved questions, with one set of counts used everywhere: approved
    (shown) and waiting for the moderator; voters are the distinct askers."""
    questions = db.session.scalars(
        select(QAQuestion).where(QAQuestion.poll_id == poll.id, QAQuestion.status == APPROVED)
        .order_by(QAQuestion.pinned.desc(), QAQuestion.answered,
                  QAQuestion.upvotes.desc(), QAQuestion.id)).all()
    return {
        "questions": [{"id": q.id, "text": q.text, "upvotes": q.upvotes, "pinned": q.pinned,
                       "answered": q.answered, "author": q.author or ""} for q in questions],
        "approved": len(questions),
        "pending": db.session.scalar(select(func.count()).select_from(QAQuestion).where(
            QAQuestion.poll_id == poll.id, QAQuestion.status == PENDING)),
        "voters": db.session.scalar(
            select(func.count(func.distinct(QAQuestion.voter_key))).where(
                QAQuestion.poll_id == poll.id))}


def public_view(snap: dict[str, Any]) -> dict[str, Any]:
    """What phones may see, by the poll's results mode: always; after voting (the
    results travel with an ``after_vote`` mark, and a phone shows them once it has
    answered); after the presenter reveals them; never. Q&A is always shown. A quiz's
    right answer and leaderboard stay on the room's screen until revealed."""
    kind, mode = snap.get("kind"), snap.get("results_mode", AFTER_VOTE)
    if kind == QA:
        return snap
    revealed = bool(snap.get("results_visible")) and mode != NEVER
    if kind == QUIZ:
        snap = {k: v for k, v in snap.items() if k != "leaderboard"}
        if not revealed:
            snap["correct"] = []
    if revealed or mode == ALWAYS:
        return snap
    if mode == AFTER_VOTE:
        return {**snap, "after_vote": True}
    hidden = {k: v for k, v in snap.items() if k not in RESULT_KEYS}
    hidden["hidden"] = True
    return hidden


def etag_of(snap: dict[str, Any]) -> str:
    body = json.dumps(snap, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()[:24]
