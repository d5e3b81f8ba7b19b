"""Solutions, who presented and who runs them, people's profiles, interests and contacts.

Solutions and experiences outlive events; people (profiles, interests, contact requests)
belong to one registration, so they show only in that event's directory and only while
the registration carries the participant's own directory consent.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventhub.accounts.models import User
from eventhub.db import UTCDateTime, utcnow
from eventhub.events.models import Event, Organization
from eventhub.extensions import db
from eventhub.programme.models import Session, Speaker
from eventhub.registration.models import Registration

CATEGORIES = {
    "telemedicine": _l("Telemedicin"),
    "sensors": _l("Sensorer og monitorering"),
    "rehabilitation": _l("Rehabilitering"),
    "medication": _l("Medicinhåndtering"),
    "aids": _l("Hjælpemidler"),
    "video": _l("Videokonsultation"),
    "data": _l("Data og journaler"),
    "other": _l("Andet"),
}
MATURITY = {
    "idea": _l("Idé"),
    "pilot": _l("Afprøvning"),
    "ready": _l("Klar til drift"),
    "operation": _l("I drift flere steder"),
}
# Experience statuses, in the order a solution travels through an organization.
CONSIDERING, PILOTING, IMPLEMENTED, SCALED, STOPPED = (
    "considering", "piloting", "implemented", "scaled", "stopped")
EXPERIENCE_STATUSES = {
    CONSIDERING: _l("Overvejer"),
    PILOTING: _l("Afprøver"),
    IMPLEMENTED: _l("Har implementeret"),
    SCALED: _l("Har udbredt"),
    STOPPED: _l("Er stoppet"),
}
RUNNING = (PILOTING, IMPLEMENTED, SCALED)  # "has done it": worth calling
# MAST: the Model for ASsessment of Telemedicine's outcome domains.
MAST_DOMAINS = {
    "effect_clinical": _l("Klinisk effekt"),
    "effect_patient": _l("Borgerens perspektiv"),
    "effect_economic": _l("Økonomi"),
    "effect_organisational": _l("Organisation"),
}
PROPOSED, APPROVED = "proposed", "approved"
USE, LEARN = "use", "learn"
INTEREST_KINDS = {USE: _l("Vi bruger den"), LEARN: _l("Vil vide mere")}
PENDING, ACCEPTED, DECLINED = "pending", "accepted", "declined"


def new_contact_token() -> str:
    return secrets.token_urlsafe(24)


solution_categories = Table(
    "solution_categories",
    db.metadata,
    Column("solution_id", ForeignKey("solutions.id", ondelete="CASCADE"), primary_key=True),
    Column("category", String(20), primary_key=True, index=True),
)

presentation_speakers = Table(
    "presentation_speakers",
    db.metadata,
    Column("presentation_id", ForeignKey("presentations.id", ondelete="CASCADE"),
           primary_key=True),
    Column("speaker_id", ForeignKey("speakers.id", ondelete="CASCADE"), primary_key=True),
)


class Solution(db.Model):
    """A welfare-technology solution someone can reuse."""

    __tablename__ = "solutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True)
    target_group: Mapped[str] = mapped_column(String(200), default="")
    maturity: Mapped[str] = mapped_column(String(12), default="ready")
    website: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(10), default=APPROVED, index=True)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    # Proposals wait for an organizer of the event they were proposed at.
    proposed_at_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    provider: Mapped[Organization | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    category_rows = relationship("SolutionCategory", cascade="all, delete-orphan",
                                 lazy="selectin")

    @property
    def categories(self) -> list[str]:
        return sorted(row.category for row in self.category_rows)


class SolutionCategory(db.Model):
    __table__ = solution_categories


class Presentation(db.Model):
    """A session presents a solution, with some of its speakers as presenters."""

    __tablename__ = "presentations"
    __table_args__ = (UniqueConstraint("session_id", "solution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    solution_id: Mapped[int] = mapped_column(
        ForeignKey("solutions.id", ondelete="CASCADE"), index=True)

    session: Mapped[Session] = relationship()
    solution: Mapped[Solution] = relationship()
    presenters: Mapped[list[Speaker]] = relationship(secondary=presentation_speakers)


class Experience(db.Model):
    """One organization's record with one solution."""

    __tablename__ = "experiences"
    __table_args__ = (
        UniqueConstraint("solution_id", "organization_id"),
        Index("ix_experiences_org_status", "organization_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), default=IMPLEMENTED, index=True)
    since: Mapped[date | None] = mapped_column(Date)
    scale: Mapped[str] = mapped_column(String(200), default="")
    effect_clinical: Mapped[str] = mapped_column(Text, default="")
    effect_patient: Mapped[str] = mapped_column(Text, default="")
    effect_economic: Mapped[str] = mapped_column(Text, default="")
    effect_organisational: Mapped[str] = mapped_column(Text, default="")
    lessons: Mapped[str] = mapped_column(Text, default="")  # what did not work
    evidence_url: Mapped[str] = mapped_column(String(300), default="")
    # The contact person: a registration, shown only where that person has consented.
    contact_registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL"), index=True)
    draft: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    solution: Mapped[Solution] = relationship()
    organization: Mapped[Organization] = relationship()
    contact: Mapped[Registration | None] = relationship()

    @property
    def effects(self) -> list[tuple[str, str]]:
        return [(str(label), getattr(self, key)) for key, label in MAST_DOMAINS.items()
                if getattr(self, key)]


class Profile(db.Model):
    """What a consenting participant tells the event's directory about themselves."""

    __tablename__ = "profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), unique=True)
    bio: Mapped[str] = mapped_column(Text, default="")
    can_help_with: Mapped[str] = mapped_column(Text, default="")
    looking_for: Mapped[str] = mapped_column(Text, default="")
    looking_for_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    registration: Mapped[Registration] = relationship()


class Interest(db.Model):
    """A participant marks a solution: "we use this" or "want to know more"."""

    __tablename__ = "interests"
    __table_args__ = (
        UniqueConstraint("registration_id", "solution_id", "kind"),
        Index("ix_interests_solution_kind", "solution_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"))
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(12), default="solution")  # session, poll, …
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration] = relationship()
    solution: Mapped[Solution] = relationship()


class ContactRequest(db.Model):
    """A message relayed between two participants; addresses travel only on accept."""

    __tablename__ = "contact_requests"
    __table_args__ = (UniqueConstraint("sender_id", "recipient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    solution_id: Mapped[int | None] = mapped_column(
        ForeignKey("solutions.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_contact_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    sender: Mapped[Registration] = relationship(foreign_keys=[sender_id])
    recipient: Mapped[Registration] = relationship(foreign_keys=[recipient_id])
    solution: Mapped[Solution | None] = relationship()


class SearchDoc(db.Model):
    """One searchable thing, kept in step with its source by ``search.py``.

    A full-text index sits beside it (FTS5 on SQLite, a GIN tsvector index on PostgreSQL;
    both made by the migration). People's rows carry their event; the rest are global.
    """

    __tablename__ = "search_docs"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id"),
        Index("ix_search_docs_kind_event", "kind", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # person, organization, solution, experience
    ref_id: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    organization_id: Mapped[int | None] = mapped_column(Integer, index=True)
    org_kind: Mapped[str | None] = mapped_column(String(20))
    region_code: Mapped[str | None] = mapped_column(String(4))
    categories: Mapped[str] = mapped_column(String(200), default="")  # " a b " for LIKE
    status: Mapped[str | None] = mapped_column(String(12))
