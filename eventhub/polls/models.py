"""Polls, their options and votes; Q&A questions and upvotes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventhub.db import UTCDateTime, utcnow
from eventhub.events.models import Event
from eventhub.extensions import db

SINGLE, MULTIPLE, SCALE, WORDCLOUD, OPEN_TEXT, QA, RANKING, QUIZ = (
    "single", "multiple", "scale", "wordcloud", "open_text", "qa", "ranking", "quiz")
POLL_KINDS = (SINGLE, MULTIPLE, SCALE, WORDCLOUD, OPEN_TEXT, QA, RANKING, QUIZ)
KIND_LABELS = {
    SINGLE: _l("Ét valg"), MULTIPLE: _l("Flere valg"), SCALE: _l("Skala"),
    WORDCLOUD: _l("Ordsky"), OPEN_TEXT: _l("Åbent svar"), QA: _l("Spørgsmål til oplægsholder"),
    RANKING: _l("Rangordning"), QUIZ: _l("Quiz"),
}
# Kinds whose options the organizer writes, one per line.
OPTION_KINDS = (SINGLE, MULTIPLE, RANKING, QUIZ)
# When phones see a poll's results.
ALWAYS, AFTER_VOTE, AFTER_REVEAL, NEVER = "always", "voted", "revealed", "never"
RESULTS_MODES = (ALWAYS, AFTER_VOTE, AFTER_REVEAL, NEVER)
RESULTS_MODE_LABELS = {
    ALWAYS: _l("Altid"), AFTER_VOTE: _l("Når man har svaret"),
    AFTER_REVEAL: _l("Når oplægsholderen viser dem"), NEVER: _l("Aldrig (kun på skærmen)"),
}
DRAFT, OPEN, CLOSED = "draft", "open", "closed"
STATUS_LABELS = {DRAFT: _l("Kladde"), OPEN: _l("Åben"), CLOSED: _l("Lukket")}
ANYONE, REGISTERED = "anyone", "registered"
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


class Poll(db.Model):
    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"), index=True)
    question: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(12), default=SINGLE)
    status: Mapped[str] = mapped_column(String(8), default=DRAFT)
    audience: Mapped[str] = mapped_column(String(12), default=ANYONE)
    # Revealed by the presenter (shown on the room's screen and, unless the mode is
    # "never", on the phones).
    results_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    results_mode: Mapped[str] = mapped_column(String(10), default=AFTER_VOTE,
                                              server_default=AFTER_VOTE)
    # Word cloud: how many entries each person may give (1-5).
    max_entries: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Q&A: whether a participant may put their name to a question.
    qa_names: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Quiz: seconds to answer after the poll opens.
    time_limit: Mapped[int | None] = mapped_column(Integer)
    allow_change: Mapped[bool] = mapped_column(Boolean, default=False)
    max_choices: Mapped[int | None] = mapped_column(Integer)
    scale_min: Mapped[int] = mapped_column(Integer, default=1)
    scale_max: Mapped[int] = mapped_column(Integer, default=5)
    banned_words: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    options: Mapped[list[PollOption]] = relationship(
        back_populates="poll", cascade="all, delete-orphan", order_by="PollOption.position")
    event: Mapped[Event] = relationship()


class PollOption(db.Model):
    __tablename__ = "poll_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    poll: Mapped[Poll] = relationship(back_populates="options")


class Vote(db.Model):
    """One voter's answer to one poll; the database refuses a second row."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("poll_id", "voter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    # "r:<registration id>" for registered participants, "a:<random id>" for anyone.
    voter_key: Mapped[str] = mapped_column(String(80))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL"))
    # Option ids (single/multiple), a number (scale), words (word cloud) or text.
    value: Mapped[Any] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default=APPROVED)  # open text moderation
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class QAQuestion(db.Model):
    """A question from the audience, shown once a moderator approves it."""

    __tablename__ = "qa_questions"
    __table_args__ = (Index("ix_qa_questions_poll_status", "poll_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    voter_key: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    # The asker's name when they chose to give it (and the poll allows names).
    author: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
    upvotes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QAUpvote(db.Model):
    __tablename__ = "qa_upvotes"
    __table_args__ = (UniqueConstraint("question_id", "voter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("qa_questions.id", ondelete="CASCADE"), index=True)
    voter_key: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Screen(db.Model):
    """What the room's screen of an event shows, as the presenter's remote sets it."""

    __tablename__ = "poll_screens"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("polls.id", ondelete="SET NULL"))
    show_qr: Mapped[bool] = mapped_column(Boolean, default=False)
    dark: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
