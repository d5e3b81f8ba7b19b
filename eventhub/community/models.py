"""The organizing organization's community: its community managers across events, and
the adoption check-ins that ask participants months later whether they reused a solution.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventhub.accounts.models import User
from eventhub.db import UTCDateTime, utcnow
from eventhub.directory.models import Solution
from eventhub.events.models import Event, Organization
from eventhub.extensions import db
from eventhub.registration.models import Registration

DEFAULT_MONTHS = (3, 6, 12)

# Answers to "Har I taget <løsning> i brug?" (the Innovation Barometer's three kinds of
# reuse, then testing, no with a barrier, not relevant).
COPY, ADAPTED, INSPIRED, TESTING, NO, NOT_RELEVANT = (
    "copy", "adapted", "inspired", "testing", "no", "not_relevant")
ANSWERS = {
    COPY: _l("Ja, stort set som en kopi"),
    ADAPTED: _l("Ja, men tilpasset til os"),
    INSPIRED: _l("Den inspirerede os til noget eget"),
    TESTING: _l("Vi afprøver den"),
    NO: _l("Nej, fordi …"),
    NOT_RELEVANT: _l("Ikke relevant længere"),
}
REUSED = (COPY, ADAPTED, INSPIRED)
# Barriers named with "no, because …".
BARRIERS = {
    "time": _l("Tid og ressourcer"),
    "ownership": _l("Ejerskab – den er ikke udviklet hos os"),
    "economy": _l("Økonomi"),
    "technology": _l("Teknologi"),
    "other": _l("Andet"),
}


class CommunityMember(db.Model):
    """A community manager of an organizing organization: follows every event it hosts."""

    __tablename__ = "community_members"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization: Mapped[Organization] = relationship()
    user: Mapped[User] = relationship()


class CheckinPlan(db.Model):
    """The months after an event when its check-ins go out (3, 6, 12 unless changed)."""

    __tablename__ = "community_checkin_plans"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    months: Mapped[str] = mapped_column(String(40), default="3,6,12")

    @property
    def month_list(self) -> list[int]:
        return sorted({int(m) for m in self.months.split(",") if m.strip().isdigit()})


class Checkin(db.Model):
    """One check-in mail to one person: the database lets each person have one per
    event and month, however many schedulers run."""

    __tablename__ = "community_checkins"
    __table_args__ = (UniqueConstraint("event_id", "registration_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL"), index=True)
    month: Mapped[int] = mapped_column(Integer)
    # The solutions it asks about (the person's open leads and "want to know more").
    solution_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    registration: Mapped[Registration | None] = relationship()
    answers: Mapped[list[CheckinAnswer]] = relationship(
        back_populates="checkin", cascade="all, delete-orphan")


class CheckinAnswer(db.Model):
    """A participant's answer about one solution (once per check-in and solution).
    Organization-level: after the retention purge it still counts, nobody is named."""

    __tablename__ = "community_checkin_answers"
    __table_args__ = (
        UniqueConstraint("checkin_id", "solution_id"),
        Index("ix_community_checkin_answers_event_answer", "event_id", "answer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(
        ForeignKey("community_checkins.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    solution_id: Mapped[int] = mapped_column(
        ForeignKey("solutions.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"))
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("followup_leads.id", ondelete="SET NULL"))
    answer: Mapped[str] = mapped_column(String(20))
    barrier: Mapped[str] = mapped_column(String(20), default="")
    text: Mapped[str] = mapped_column(Text, default="")  # cut by the retention purge
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    checkin: Mapped[Checkin] = relationship(back_populates="answers")
    solution: Mapped[Solution] = relationship()
