"""Mail rules of an event, who each rule reached, the organizers' own texts, and the
changes waiting to be announced."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventhub.db import UTCDateTime, utcnow
from eventhub.events.models import Event
from eventhub.extensions import db

REMINDER, MORNING, THANKS = "reminder", "morning", "thanks"
RULE_KINDS = (REMINDER, MORNING, THANKS)
RULE_LABELS = {
    REMINDER: _l("Påmindelse før arrangementet"),
    MORNING: _l("Mail om morgenen på dagen"),
    THANKS: _l("Tak efter arrangementet"),
}


class MailRule(db.Model):
    """A scheduled mail of one event; on by default."""

    __tablename__ = "mail_rules"
    __table_args__ = (UniqueConstraint("event_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    kind: Mapped[str] = mapped_column(String(12))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Reminder: days before the start (at 09:00); others ignore it.
    days_before: Mapped[int] = mapped_column(Integer, default=2)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship()


class MailSend(db.Model):
    """That a rule reached a registration: the database lets each happen once."""

    __tablename__ = "mail_sends"
    __table_args__ = (UniqueConstraint("rule_id", "registration_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("mail_rules.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailText(db.Model):
    """An organizer's own subject and text of one mail of one event, in one language."""

    __tablename__ = "mail_texts"
    __table_args__ = (UniqueConstraint("event_id", "key", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    key: Mapped[str] = mapped_column(String(30))
    locale: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ChangeRecord(db.Model):
    """One change of a published event or session, waiting to be announced; changes
    close together are sent as one mail per person (``batch`` set when sent)."""

    __tablename__ = "change_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    # {"starts_at": [old, new], "room": [old, new], "status": [old, new], …}
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    batch: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ChangeSend(db.Model):
    """That a batch of changes was announced to a registration, once."""

    __tablename__ = "change_sends"
    __table_args__ = (UniqueConstraint("batch", "registration_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch: Mapped[str] = mapped_column(String(40))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
