"""Registrations, the event's own questions and the answers to them; check-ins and the
door devices that make them."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventhub.accounts.models import User
from eventhub.db import UTCDateTime, utcnow
from eventhub.events.models import Event, Organization
from eventhub.extensions import db
from eventhub.i18n import shown

PENDING, CONFIRMED, WAITLISTED, CANCELLED = "pending", "confirmed", "waitlisted", "cancelled"
REGISTRATION_STATUSES = (PENDING, CONFIRMED, WAITLISTED, CANCELLED)
STATUS_LABELS = {
    PENDING: _l("Afventer godkendelse"),
    CONFIRMED: _l("Bekræftet"),
    WAITLISTED: _l("På venteliste"),
    CANCELLED: _l("Afmeldt"),
}

# What a badge says the person is.
PARTICIPANT, SPEAKER, STAFF = "participant", "speaker", "organizer"
BADGE_ROLES = (PARTICIPANT, SPEAKER, STAFF)
BADGE_LABELS = {PARTICIPANT: _l("Deltager"), SPEAKER: _l("Taler"), STAFF: _l("Arrangør")}

# Question kinds
SHORT_TEXT, LONG_TEXT, SINGLE, MULTIPLE, YES_NO = (
    "short_text", "long_text", "single_choice", "multiple_choice", "yes_no",
)
QUESTION_KINDS = (SHORT_TEXT, LONG_TEXT, SINGLE, MULTIPLE, YES_NO)
QUESTION_KIND_LABELS = {
    SHORT_TEXT: _l("Kort tekst"),
    LONG_TEXT: _l("Lang tekst"),
    SINGLE: _l("Ét valg"),
    MULTIPLE: _l("Flere valg"),
    YES_NO: _l("Ja/nej"),
}


def new_ticket_code() -> str:
    """An unguessable ticket code: 160 random bits, URL-safe."""
    return secrets.token_urlsafe(20)


def new_scan_token() -> str:
    """The code in a badge's second QR, read by exhibitors' scanners: 192 random bits,
    never the ticket code (a scanner must not check anyone in or open their ticket)."""
    return secrets.token_urlsafe(24)


# Crockford's base32: no I, L, O or U, so a code read aloud or typed off a badge is not
# mistaken for another (see normal_scan_code).
SCAN_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SCAN_CODE_LENGTH = 8


def new_scan_code() -> str:
    """The badge's short code under its scan QR, for typing when a camera fails: 40
    random bits, unique within the event (scanning is per event and rate-limited)."""
    return "".join(secrets.choice(SCAN_CODE_ALPHABET) for _ in range(SCAN_CODE_LENGTH))


def shown_scan_code(code: str | None) -> str:
    """A scan code as printed: two groups of four, ``K7QM-4XPD``."""
    return f"{code[:4]}-{code[4:]}" if code else ""


def normal_scan_code(typed: str) -> str | None:
    """A typed scan code as stored, forgiving case, spaces, dashes and the letters that
    look like digits (O → 0, I and L → 1); None when it cannot be one."""
    text = "".join(ch for ch in (typed or "").upper() if not ch.isspace() and ch != "-")
    text = text.translate(str.maketrans("OIL", "011"))
    if len(text) == SCAN_CODE_LENGTH and all(ch in SCAN_CODE_ALPHABET for ch in text):
        return text
    return None


def new_manage_token() -> str:
    """The secret in a participant's personal link: 256 random bits."""
    return secrets.token_urlsafe(32)


class Registration(db.Model):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "email"),
        Index("ix_registrations_event_status", "event_id", "status"),
        UniqueConstraint("event_id", "scan_code", name="uq_registrations_event_scan_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    job_title: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")  # optional
    status: Mapped[str] = mapped_column(String(12), default=CONFIRMED)
    badge_role: Mapped[str] = mapped_column(String(12), default=PARTICIPANT)
    ticket_code: Mapped[str] = mapped_column(String(64), unique=True, default=new_ticket_code)
    manage_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_manage_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # When the person joined the waiting list: promotion goes by this, then by id.
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    directory_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "The organizer may contact me about follow-up after the event" (unticked by
    # default, withdrawable in "my data"): community managers then see email and phone.
    followup_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Udstillere og oplægsholdere må scanne mit badge": asked at registration, unticked.
    scan_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scan_token: Mapped[str | None] = mapped_column(String(64), unique=True,
                                                   default=new_scan_token)
    scan_code: Mapped[str | None] = mapped_column(String(8), default=new_scan_code)
    source: Mapped[str] = mapped_column(String(12), default="web")  # web | staff | import

    event: Mapped[Event] = relationship()
    organization: Mapped[Organization | None] = relationship()
    checked_in_by: Mapped[User | None] = relationship(foreign_keys=[checked_in_by_id])
    answers: Mapped[list[Answer]] = relationship(
        back_populates="registration", cascade="all, delete-orphan"
    )

    @property
    def directory_consent(self) -> bool:
        return self.directory_consent_at is not None

    @property
    def followup_consent(self) -> bool:
        return self.followup_consent_at is not None

    @property
    def scan_consent(self) -> bool:
        return self.scan_consent_at is not None


class Question(db.Model):
    """One of the event's own registration questions. Archived, never deleted, so
    answers already given survive any edit."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(300))
    label_en: Mapped[str] = mapped_column(String(300), default="")
    help_text: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[str] = mapped_column(String(20), default=SHORT_TEXT)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def display_label(self) -> str:
        return shown(self.label, self.label_en)

    @property
    def has_choices(self) -> bool:
        return self.kind in (SINGLE, MULTIPLE)


class Answer(db.Model):
    """A registration's answer to a question, kept as given (text, list or yes/no)."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("registration_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[Any] = mapped_column(JSON)
    # The question's wording when answered, so an edited label never changes the record.
    question_label: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()

    def as_text(self) -> str:
        """The answer as one line of text (for lists and exports)."""
        if isinstance(self.value, list):
            return "; ".join(str(v) for v in self.value)
        if isinstance(self.value, bool):
            return str(_l("Ja")) if self.value else str(_l("Nej"))
        return "" if self.value is None else str(self.value)


# Check-in --------------------------------------------------------------------------------


def new_device_token() -> str:
    """The id a door device keeps and sends with every sync: 192 random bits."""
    return secrets.token_urlsafe(24)


def device_letters(number: int) -> str:
    """1 → "A", 26 → "Z", 27 → "AA": the short name a door device goes by."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


class CheckInDevice(db.Model):
    """A phone or tablet at the door that keeps the event's check-in list offline.

    It belongs to one event and to the staff member signed in on it; it is called
    "Enhed A", "Enhed B", … in the order the devices were first started."""

    __tablename__ = "check_in_devices"
    __table_args__ = (UniqueConstraint("event_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_device_token)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How many check-ins the device said were waiting on it at its last sync.
    queued: Mapped[int] = mapped_column(Integer, default=0)
    signed_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship()

    @property
    def letters(self) -> str:
        return device_letters(self.number)


class CheckIn(db.Model):
    """A participant's check-in: one per registration, the earliest scan wins.

    Who scanned, when (the time on the device, also when it was sent later), where
    (the door device; none for the ticket page), and whether it was made offline.
    ``nonce`` is the device's random id for the scan, so sending it again changes
    nothing. ``registrations.checked_in_at`` mirrors ``checked_in_at``."""

    __tablename__ = "check_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("check_in_devices.id", ondelete="SET NULL"), index=True)
    nonce: Mapped[str | None] = mapped_column(String(64), unique=True)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offline: Mapped[bool] = mapped_column(Boolean, default=False)

    registration: Mapped[Registration] = relationship()
    user: Mapped[User | None] = relationship()
    device: Mapped[CheckInDevice | None] = relationship()


class DuplicateScan(db.Model):
    """A scan of a ticket that was already checked in on another device while both
    were offline: kept so the same nonce sent again gets the same answer, and so staff
    can see that one ticket came through the door twice."""

    __tablename__ = "check_in_duplicates"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("check_in_devices.id", ondelete="SET NULL"), index=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offline: Mapped[bool] = mapped_column(Boolean, default=True)

    device: Mapped[CheckInDevice | None] = relationship()
