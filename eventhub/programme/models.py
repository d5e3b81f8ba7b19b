"""The programme: rooms, tracks, sessions and their speakers; agendas and sign-ups."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventhub.db import UTCDateTime, utcnow
from eventhub.extensions import db
from eventhub.i18n import shown
from eventhub.registration.models import Registration

KEYNOTE, TALK, CASE, WORKSHOP, PITCH, BREAK = (
    "keynote", "talk", "case", "workshop", "pitch", "break")
SESSION_KINDS = (KEYNOTE, TALK, CASE, WORKSHOP, PITCH, BREAK)
KIND_LABELS = {
    KEYNOTE: _l("Keynote"), TALK: _l("Oplæg"), CASE: _l("Kommunal case"),
    WORKSHOP: _l("Workshop"), PITCH: _l("Pitch"), BREAK: _l("Pause"),
}
SCHEDULED, CANCELLED = "scheduled", "cancelled"
SIGNED_UP, WAITING = "signed_up", "waiting"


def new_session_uid() -> str:
    return f"session-{uuid.uuid4()}@eventhub"


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class Room(db.Model):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("event_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    capacity: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Track(db.Model):
    __tablename__ = "tracks"
    __table_args__ = (UniqueConstraint("event_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    colour: Mapped[str] = mapped_column(String(7), default="#0b5c54")
    position: Mapped[int] = mapped_column(Integer, default=0)


class Session(db.Model):
    """A slot in the programme. Its UID never changes; SEQUENCE rises with every edit."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_event_start", "event_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(12), default=TALK)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="SET NULL"))
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id", ondelete="SET NULL"))
    signup_capacity: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=SCHEDULED)
    uid: Mapped[str] = mapped_column(String(120), unique=True, default=new_session_uid)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    room: Mapped[Room | None] = relationship()
    track: Mapped[Track | None] = relationship()
    speakers: Mapped[list[Speaker]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Speaker.position")

    @property
    def display_title(self) -> str:
        return shown(self.title, self.title_en)

    @property
    def display_description(self) -> str:
        return shown(self.description, self.description_en)

    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED

    @property
    def has_signup(self) -> bool:
        return self.signup_capacity is not None


class EventSpeaker(db.Model):
    """A speaker at an event, as a person: name, job title, organization, a short bio and
    a photo; a registered participant or someone from outside. Their sessions link here."""

    __tablename__ = "event_speakers"
    __table_args__ = (UniqueConstraint("event_id", "registration_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(200), default="")
    organization: Mapped[str] = mapped_column(String(200), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    photo_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration | None] = relationship()


class Speaker(db.Model):
    """A speaker in one session: the person (``EventSpeaker``), with their name and
    organization as the programme shows them."""

    __tablename__ = "speakers"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    event_speaker_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_speakers.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    organization: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    session: Mapped[Session] = relationship(back_populates="speakers")
    registration: Mapped[Registration | None] = relationship()
    person: Mapped[EventSpeaker | None] = relationship()


class AgendaEntry(db.Model):
    """A session a participant starred for "my day"."""

    __tablename__ = "agenda_entries"
    __table_args__ = (UniqueConstraint("registration_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Signup(db.Model):
    """A place in a workshop with limited seats, or on its waiting list."""

    __tablename__ = "signups"
    __table_args__ = (
        UniqueConstraint("session_id", "registration_id"),
        Index("ix_signups_session_status", "session_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=SIGNED_UP)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[Session] = relationship()
    registration: Mapped[Registration] = relationship()


class AgendaFeed(db.Model):
    """The secret behind a participant's personal calendar feed; resetting replaces it."""

    __tablename__ = "agenda_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_feed_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
