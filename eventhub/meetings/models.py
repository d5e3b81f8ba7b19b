"""1:1 meetings at the event and badge scans by solution owners.

A meeting takes a slot (a start time inside one of the event's meeting periods) and a
place (a numbered table or a solution's stand). What a meeting occupies is written as
``MeetingHold`` rows in the same transaction as the meeting: one per person and one for
the place. Their unique constraints make the database refuse a second meeting for one
person, or one table, in one slot, whatever two requests check before they insert.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventhub.accounts.models import User
from eventhub.db import UTCDateTime, utcnow
from eventhub.directory.models import Solution
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.followup.models import Lead
from eventhub.registration.models import Registration

# Meeting statuses
REQUESTED, ACCEPTED, DECLINED, CANCELLED, WITHDRAWN = (
    "requested", "accepted", "declined", "cancelled", "withdrawn")
MEETING_STATUSES = (REQUESTED, ACCEPTED, DECLINED, CANCELLED, WITHDRAWN)
STATUS_LABELS = {
    REQUESTED: _l("Afventer svar"),
    ACCEPTED: _l("Aftalt"),
    DECLINED: _l("Afslået"),
    CANCELLED: _l("Aflyst"),
    WITHDRAWN: _l("Trukket tilbage"),
}
OPEN_STATUSES = (REQUESTED, ACCEPTED)  # these hold their slot

# Place kinds
TABLE, STAND = "table", "stand"
PLACE_KINDS = {TABLE: _l("Bord"), STAND: _l("Stand")}

# Who may book
ALL = "all"


def new_token() -> str:
    """The secret in a meeting mail's link: 256 random bits."""
    return secrets.token_urlsafe(32)


def new_uid() -> str:
    return f"meeting-{uuid.uuid4()}@eventhub"


class MeetingSetup(db.Model):
    """An event's meeting rules: slot length, who may book, the cap on open requests."""

    __tablename__ = "meeting_setups"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=20)
    # Organization kinds whose people may book; empty: every consenting participant.
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_pending: Mapped[int] = mapped_column(Integer, default=5)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MeetingPeriod(db.Model):
    """A stretch of the day set aside for meetings (12:30–14:00), cut into slots."""

    __tablename__ = "meeting_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MeetingPlace(db.Model):
    """A numbered table or a solution's stand; ``capacity`` meetings fit at once."""

    __tablename__ = "meeting_places"
    __table_args__ = (UniqueConstraint("event_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(10), default=TABLE)
    solution_id: Mapped[int | None] = mapped_column(
        ForeignKey("solutions.id", ondelete="SET NULL"))
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)

    solution: Mapped[Solution | None] = relationship()


class Meeting(db.Model):
    """Two participants, a slot and a place. ``awaiting_id`` is whose answer a request
    waits for (the other person after a counter-proposal). ``sequence`` counts changes
    of time, place or status, for the calendar entry that keeps ``uid``."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_event_status", "event_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    requester_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    invitee_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    awaiting_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL"))
    solution_id: Mapped[int | None] = mapped_column(
        ForeignKey("solutions.id", ondelete="SET NULL"))
    place_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_places.id", ondelete="SET NULL"))
    lane: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default=REQUESTED)
    message: Mapped[str] = mapped_column(Text, default="")
    answer_message: Mapped[str] = mapped_column(Text, default="")
    uid: Mapped[str] = mapped_column(String(120), unique=True, default=new_uid)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    requester_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    invitee_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()
    requester: Mapped[Registration] = relationship(foreign_keys=[requester_id])
    invitee: Mapped[Registration] = relationship(foreign_keys=[invitee_id])
    place: Mapped[MeetingPlace | None] = relationship()
    solution: Mapped[Solution | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def other(self, reg_id: int) -> Registration:
        return self.invitee if reg_id == self.requester_id else self.requester


class MeetingHold(db.Model):
    """One person or one place lane taken in one slot. A person's row has no place, a
    place's row no person; NULLs never collide, so each unique constraint guards its own
    kind. Rows without a meeting are slots a person marked as unavailable."""

    __tablename__ = "meeting_holds"
    __table_args__ = (
        UniqueConstraint("registration_id", "starts_at"),
        UniqueConstraint("place_id", "starts_at", "lane"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"))
    place_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_places.id", ondelete="CASCADE"))
    lane: Mapped[int | None] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MeetingReminder(db.Model):
    """The reminder before a meeting, once per person and start time (a moved meeting
    gets a new one)."""

    __tablename__ = "meeting_reminders"
    __table_args__ = (UniqueConstraint("meeting_id", "registration_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Exhibitor(db.Model):
    """A user who may scan badges at the event for a solution (a stand's people)."""

    __tablename__ = "meeting_exhibitors"
    __table_args__ = (UniqueConstraint("event_id", "user_id", "solution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    solution: Mapped[Solution] = relationship()


class Scan(db.Model):
    """A solution owner scanned a consenting participant's badge: their rating 0–5,
    notes and tags, tied to the follow-up lead it made or joined."""

    __tablename__ = "badge_scans"
    __table_args__ = (UniqueConstraint("event_id", "registration_id", "solution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL"), index=True)
    solution_id: Mapped[int | None] = mapped_column(
        ForeignKey("solutions.id", ondelete="SET NULL"))
    scanned_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("followup_leads.id", ondelete="SET NULL"))
    rating: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    withdraw_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    registration: Mapped[Registration | None] = relationship()
    solution: Mapped[Solution | None] = relationship()
    scanned_by: Mapped[User | None] = relationship()
    lead: Mapped[Lead | None] = relationship()
