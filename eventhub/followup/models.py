"""The community manager's follow-up: leads and their history, introductions, follow-up
mailings, unsubscribes and the polls that make up the post-event survey."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventhub.accounts.models import User
from eventhub.db import UTCDateTime, utcnow
from eventhub.directory.models import Solution
from eventhub.events.models import Event, Organization
from eventhub.extensions import db
from eventhub.registration.models import Registration

# Stages, in the order a lead travels. Adopted in three ways (CO-PI's definition of
# spreading: implemented in a new place as a copy, an adaptation or an inspiration).
NEW, CONTACTED, MEETING = "new", "contacted", "meeting"
ADOPTED_COPY, ADOPTED_ADAPTATION, ADOPTED_INSPIRATION = (
    "adopted_copy", "adopted_adaptation", "adopted_inspiration")
DROPPED = "dropped"
STAGES = {
    NEW: _l("Ny"),
    CONTACTED: _l("Kontaktet"),
    MEETING: _l("Møde"),
    ADOPTED_COPY: _l("Genbrugt (kopi)"),
    ADOPTED_ADAPTATION: _l("Genbrugt (tilpasning)"),
    ADOPTED_INSPIRATION: _l("Genbrugt (inspiration)"),
    DROPPED: _l("Droppet"),
}
ADOPTED = (ADOPTED_COPY, ADOPTED_ADAPTATION, ADOPTED_INSPIRATION)
CLOSED_STAGES = (*ADOPTED, DROPPED)  # no due date can be missed here
# How far a lead has come, for merging two leads of one organization and solution: the
# furthest wins. Dropped counts just above new (a later interest reopens the question);
# an adoption is furthest, a copy before an adaptation before an inspiration.
STAGE_RANK = {NEW: 0, DROPPED: 1, CONTACTED: 2, MEETING: 3, ADOPTED_INSPIRATION: 4,
              ADOPTED_ADAPTATION: 5, ADOPTED_COPY: 6}

# Where a lead came from.
FROM_INTEREST, FROM_CONTACT, FROM_INTRODUCTION, BY_HAND = (
    "interest", "contact", "introduction", "manual")
FROM_MEETING, FROM_SCAN = "meeting", "scan"
SOURCES = {
    FROM_MEETING: _l("Møde ved arrangementet"),
    FROM_SCAN: _l("Badge-scanning"),
    FROM_INTEREST: _l("Interesse"),
    FROM_CONTACT: _l("Kontaktanmodning"),
    FROM_INTRODUCTION: _l("Introduktion"),
    BY_HAND: _l("Oprettet manuelt"),
}


class Lead(db.Model):
    """One organization (and usually one person) on its way to reusing one solution."""

    __tablename__ = "followup_leads"
    __table_args__ = (
        UniqueConstraint("event_id", "registration_id", "solution_id"),
        # One lead per solution and organization across the events of one organizing
        # organization (scope: its id, 0 for events without one).
        UniqueConstraint("scope", "solution_id", "organization_id",
                         name="uq_followup_leads_scope_solution_org"),
        Index("ix_followup_leads_event_stage", "event_id", "stage"),
        # The community workspace's page of leads: newest change first within a scope.
        Index("ix_followup_leads_scope_updated", "scope", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The event the lead began at; later events it carries on to are in LeadEvent.
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    scope: Mapped[int] = mapped_column(Integer, default=0)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL"), index=True)
    solution_id: Mapped[int | None] = mapped_column(
        ForeignKey("solutions.id", ondelete="SET NULL"), index=True)
    stage: Mapped[str] = mapped_column(String(20), default=NEW)
    drop_reason: Mapped[str] = mapped_column(String(300), default="")
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(12), default=BY_HAND)
    # When the lead last reached an adopted stage (None while it is not adopted).
    adopted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()
    organization: Mapped[Organization | None] = relationship()
    registration: Mapped[Registration | None] = relationship()
    solution: Mapped[Solution | None] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    entries: Mapped[list[LeadEntry]] = relationship(
        back_populates="lead", cascade="all, delete-orphan",
        order_by="LeadEntry.id.desc()")  # the order things were recorded
    event_links: Mapped[list[LeadEvent]] = relationship(
        cascade="all, delete-orphan", order_by="LeadEvent.created_at")

    @property
    def is_adopted(self) -> bool:
        return self.stage in ADOPTED

    def is_overdue(self, today: date) -> bool:
        return self.due_on is not None and self.due_on < today \
            and self.stage not in CLOSED_STAGES


class LeadEntry(db.Model):
    """A dated line in a lead's history: a stage move, a note, or both. Never changed."""

    __tablename__ = "followup_lead_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(
        ForeignKey("followup_leads.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The event the line belongs to (a lead carries on across events).
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    # Reported by the participant (an adoption check-in answer), not by staff.
    by_participant: Mapped[bool] = mapped_column(Boolean, default=False)

    lead: Mapped[Lead] = relationship(back_populates="entries")
    author: Mapped[User | None] = relationship()
    event: Mapped[Event | None] = relationship()


class LeadEvent(db.Model):
    """A lead was found again at an event (its first event included)."""

    __tablename__ = "followup_lead_events"

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("followup_leads.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship()


class Introduction(db.Model):
    """The community manager introduced someone who wants to know more about a solution
    to someone whose organization runs it (each pair once per solution)."""

    __tablename__ = "followup_introductions"
    __table_args__ = (UniqueConstraint("solution_id", "seeker_id", "runner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    solution_id: Mapped[int] = mapped_column(ForeignKey("solutions.id", ondelete="CASCADE"))
    seeker_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    runner_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    solution: Mapped[Solution] = relationship()
    seeker: Mapped[Registration] = relationship(foreign_keys=[seeker_id])
    runner: Mapped[Registration] = relationship(foreign_keys=[runner_id])


class Mailing(db.Model):
    """A follow-up mail as composed and sent to a segment (one outbox mail per person)."""

    __tablename__ = "followup_mailings"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    segment: Mapped[str] = mapped_column(String(20))
    segment_value: Mapped[str] = mapped_column(Text, default="")
    # "followup" (the community manager's) or "message" (an organizer's, messaging)
    kind: Mapped[str] = mapped_column(String(12), default="followup",
                                      server_default="followup")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship()


class Unsubscribe(db.Model):
    """A participant wants no more follow-up mail about this event."""

    __tablename__ = "followup_unsubscribes"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SurveyPoll(db.Model):
    """A poll that belongs to the post-event survey (opened after the event)."""

    __tablename__ = "followup_survey_polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          index=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"),
                                         unique=True)
