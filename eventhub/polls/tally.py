"""Tallies: the full state of a poll's results as one JSON-able snapshot."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, select

from eventhub.extensions import db
from eventhub.polls.models import (
    APPROVED,
    MULTIPLE,
    OPEN_TEXT,
    PENDING,
    QA,
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
    ballots = _ballots(poll.id) if poll.kind in (SINGLE, MULTIPLE, SCALE, WORDCLOUD) else None
    voters = sum(n for _v, n in ballots) if ballots is not None else db.session.scalar(
        select(func.count()).select_from(Vote).where(Vote.poll_id == poll.id))
    snap: dict[str, Any] = {
        "poll": poll.id, "kind": poll.kind, "question": poll.question, "status": poll.status,
        "results_visible": poll.results_visible, "voters": voters,
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
        counts = Counter()
        for value, n in ballots:
            for word in value or []:
                counts[word] += n
        snap["words"] = [{"word": w, "count": c} for w, c in counts.most_common(TOP_WORDS)]
    elif poll.kind == OPEN_TEXT:
        rows = db.session.execute(
            select(Vote.id, Vote.value).where(Vote.poll_id == poll.id, Vote.status == APPROVED)
            .order_by(Vote.id.desc()).limit(LATEST_TEXTS)).all()
        snap["texts"] = [{"id": i, "text": t} for i, t in rows]
        snap["pending"] = db.session.scalar(select(func.count()).select_from(Vote).where(
            Vote.poll_id == poll.id, Vote.status == PENDING))
    elif poll.kind == QA:
        questions = db.session.scalars(
            select(QAQuestion).where(QAQuestion.poll_id == poll.id,
                                     QAQuestion.status == APPROVED)
            .order_by(QAQuestion.pinned.desc(), QAQuestion.answered,
                      QAQuestion.upvotes.desc(), QAQuestion.id)).all()
        snap["questions"] = [{"id": q.id, "text": q.text, "upvotes": q.upvotes,
                              "pinned": q.pinned, "answered": q.answered} for q in questions]
        snap["pending"] = db.session.scalar(select(func.count()).select_from(QAQuestion).where(
            QAQuestion.poll_id == poll.id, QAQuestion.status == PENDING))
        snap["voters"] = db.session.scalar(
            select(func.count(func.distinct(QAQuestion.voter_key))).where(
                QAQuestion.poll_id == poll.id))
    return snap


def public_view(snap: dict[str, Any]) -> dict[str, Any]:
    """What phones may see: everything when results are shown, otherwise only counts."""
    if snap.get("results_visible") or snap.get("kind") == QA:
        return snap
    hidden = {k: v for k, v in snap.items()
              if k not in ("options", "words", "texts", "average")}
    hidden["hidden"] = True
    return hidden


def etag_of(snap: dict[str, Any]) -> str:
    body = json.dumps(snap, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()[:24]
