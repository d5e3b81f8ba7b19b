"""Registrations: one participant at one event."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventhub.db import UTCDateTime, utcnow
from eventhub.events.models import Event, Organization
from eventhub.extensions import db

PENDING, CONFIRMED, WAITLISTED, CANCELLED = "pending", "confirmed", "waitlisted", "cancelled"
REGISTRATION_STATUSES = (PENDING, CONFIRMED, WAITLISTED, CANCELLED)


def new_ticket_code() -> str:
    """An unguessable ticket code: 160 random bits, URL-safe."""
    return secrets.token_urlsafe(20)


class Registration(db.Model):
    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("event_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    job_title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12), default=CONFIRMED, index=True)
    ticket_code: Mapped[str] = mapped_column(String(64), unique=True, default=new_ticket_code)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    directory_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    organization: Mapped[Organization | None] = relationship()
