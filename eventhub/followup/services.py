"""Follow-up rules: who may work on it, leads, their stages and history, reuse rate.

Every public function checks that the actor is an organizer or community manager of the
event (``require_staff``), so no view can forget it. Functions flush, never commit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from eventhub import audit
from eventhub.accounts.models import User
from eventhub.db import utcnow
from eventhub.directory.models import (
    ACCEPTED,
    APPROVED,
    LEARN,
    PENDING,
    ContactRequest,
    Interest,
    Solution,
)
from eventhub.errors import Conflict, NotFound, ValidationError
from eventhub.events.models import COMMUNITY_MANAGER, ORGANIZER, Event, EventRole, Organization
from eventhub.events.services import has_role, require_role
from eventhub.extensions import db
from eventhub.followup.models import (
    ADOPTED,
    BY_HAND,
    CLOSED_STAGES,
    DROPPED,
    FROM_CONTACT,
    FROM_INTEREST,
    NEW,
    STAGE_RANK,
    STAGES,
    Lead,
    LeadEntry,
    LeadEvent,
)
from eventhub.registration.models import CANCELLED, Registration
from eventhub.signals import emit
from eventhub.timeutil import LOCAL_TZ, to_local

MAX_NOTE = 5000
MAX_REASON = 300
STAFF_ROLES = (ORGANIZER, COMMUNITY_MANAGER)



def today() -> date:
    """Today in Copenhagen (due dates are local days)."""
    return datetime.now(LOCAL_TZ).date()


# --- access -------------------------------------------------------------------------------

def is_followup_staff(user, event: Event) -> bool:
    return has_role(user, event, *STAFF_ROLES)


def require_staff(user, event: Event) -> None:
    """Only the event's organizers and community managers (and admins) follow up."""
    require_role(user, event, *STAFF_ROLES)


def owners(event: Event) -> list[User]:
    """Who can own a lead: the event's organizers and community managers."""
    return list(db.session.scalars(
        select(User).join(EventRole, EventRole.user_id == User.id)
        .where(EventRole.event_id == event.id, EventRole.role.in_(STAFF_ROLES))
        .distinct().order_by(User.email)))


def _check_owner(event: Event, owner_id: int | None) -> int | None:
    if owner_id is None:
        return None
    if owner_id not in {u.id for u in owners(event)}:
        user = db.session.get(User, owner_id)
        if user is None or not user.is_admin:
            raise ValidationError(_("Vælg en af mulighederne på listen."), "owner")
    return owner_id


# --- one lead across events ---------------------------------------------------------------

def scope_of(event: Event) -> int:
    """Leads are one per solution and organization within the event's organizing
    organization (0: events without one share a scope)."""
    return event.host_organization_id or 0


def in_event(event_id: int):
    """Where-clause: leads found at this event (where they began or carried on to)."""
    return Lead.id.in_(select(LeadEvent.lead_id).where(LeadEvent.event_id == event_id))


def belongs(lead: Lead, event: Event) -> bool:
    return lead.event_id == event.id or any(
        link.event_id == event.id for link in lead.event_links)


def new_lead(event: Event, **fields) -> Lead:
    """A lead that begins at ``event`` (not yet added to the session)."""
    lead = Lead(event_id=event.id, scope=scope_of(event), **fields)
    lead.event_links.append(LeadEvent(event_id=event.id))
    return lead


def lead_in_scope(event: Event, solution_id: int | None,
                  organization_id: int | None) -> Lead | None:
    """The organization's lead for the solution across the organizer's events."""
    if not solution_id or not organization_id:
        return None
    return db.session.scalar(select(Lead).where(
        Lead.scope == scope_of(event), Lead.solution_id == solution_id,
        Lead.organization_id == organization_id))


def carry_on(lead: Lead, event: Event, actor=None, text: str = "") -> bool:
    """The lead turned up again at ``event``: link it and say so in its history.
    Returns False when it was already linked."""
    if belongs(lead, event):
        return False
    lead.event_links.append(LeadEvent(event_id=event.id))
    lead.entries.append(LeadEntry(
        author_id=getattr(actor, "id", None), event_id=event.id,
        text=text or _("Interesse igen ved %(event)s.", event=event.title)))
    db.session.flush()
    return True


def lead_for_participant(event: Event, reg: Registration, solution_id: int, *, source: str,
                         stage: str = NEW, text: str, author_id: int | None = None) -> Lead:
    """The lead for a participant's organization (or, without one, the participant) and a
    solution, made by something the participant did at ``event`` (a meeting, a badge
    scan): the organizer's lead carries on when there is one, else a new one begins here.
    ``text`` goes into its history. Safe when two requests make it at once."""

    def find() -> Lead | None:
        return lead_in_scope(event, solution_id, reg.organization_id) or db.session.scalar(
            select(Lead).where(Lead.event_id == event.id, Lead.registration_id == reg.id,
                               Lead.solution_id == solution_id))

    lead = find()
    if lead is None:
        lead = new_lead(event, solution_id=solution_id, registration_id=reg.id,
                        organization_id=reg.organization_id, source=source, stage=stage,
                        created_by_id=author_id)
        lead.entries.append(LeadEntry(author_id=author_id, to_stage=stage,
                                      event_id=event.id, text=text))
        try:
            with db.session.begin_nested():
                db.session.add(lead)
                db.session.flush()
            return lead
        except IntegrityError:
            lead = find()
            if lead is None:
                raise Conflict(_("Prøv igen.")) from None
    if not carry_on(lead, event, text=text):
        lead.entries.append(LeadEntry(author_id=author_id, event_id=event.id, text=text))
    db.session.flush()
    return lead


def merge_leads(keep: Lead, other: Lead, actor=None) -> None:
    """Make ``other`` part of ``keep``: the furthest stage wins, every event and history
    line is kept, and the merge is written in the history."""
    if keep.id == other.id:
        raise Conflict(_("Et lead kan ikke lægges sammen med sig selv."))
    if (keep.solution_id, keep.organization_id) != (other.solution_id, other.organization_id):
        raise Conflict(_("Kun leads for samme løsning og organisation kan lægges sammen."))
    best = max((keep, other), key=lambda lead: (STAGE_RANK.get(lead.stage, 0), -lead.id))
    text = _("Lagt sammen med lead #%(other)d. Faser: %(mine)s og %(theirs)s; "
             "beholdt: %(kept)s.", other=other.id, mine=STAGES[keep.stage],
             theirs=STAGES[other.stage], kept=STAGES[best.stage])
    before = keep.stage
    for entry in list(other.entries):
        entry.lead_id = keep.id
    have = {link.event_id for link in keep.event_links}
    for link in other.event_links:
        if link.event_id not in have:
            keep.event_links.append(LeadEvent(event_id=link.event_id,
                                              created_at=link.created_at))
    if other.event_id not in have | {link.event_id for link in keep.event_links}:
        keep.event_links.append(LeadEvent(event_id=other.event_id))
    keep.stage, keep.adopted_at, keep.drop_reason = best.stage, best.adopted_at, \
        best.drop_reason
    keep.registration_id = keep.registration_id or other.registration_id
    keep.owner_id = keep.owner_id or other.owner_id
    keep.due_on = keep.due_on or other.due_on
    other_id = other.id
    db.session.flush()
    db.session.expire(other)
    db.session.delete(db.session.get(Lead, other_id))
    db.session.flush()
    keep.entries.append(LeadEntry(author_id=getattr(actor, "id", None), from_stage=before,
                                  to_stage=keep.stage, text=text))
    db.session.flush()
    db.session.expire(keep, ["entries"])


# --- reading leads ------------------------------------------------------------------------

def get_lead(actor, event: Event, lead_id: int) -> Lead:
    require_staff(actor, event)
    lead = db.session.get(Lead, lead_id)
    if lead is None or not belongs(lead, event):
        raise NotFound(_("Leadet findes ikke."))
    return lead


@dataclass
class LeadFilter:
    owner_id: int | None = None
    solution_id: int | None = None
    stage: str = ""
    overdue: bool = False


def leads_of(actor, event: Event, flt: LeadFilter | None = None) -> list[Lead]:
    """The event's leads, overdue first by due date, then the newest."""
    require_staff(actor, event)
    flt = flt or LeadFilter()
    stmt = select(Lead).where(in_event(event.id)).options(
        selectinload(Lead.organization), selectinload(Lead.registration),
        selectinload(Lead.solution), selectinload(Lead.owner))
    if flt.owner_id == 0:
        stmt = stmt.where(Lead.owner_id.is_(None))
    elif flt.owner_id:
        stmt = stmt.where(Lead.owner_id == flt.owner_id)
    if flt.solution_id:
        stmt = stmt.where(Lead.solution_id == flt.solution_id)
    if flt.stage:
        if flt.stage not in STAGES:
            raise ValidationError(_("Vælg en af mulighederne på listen."), "stage")
        stmt = stmt.where(Lead.stage == flt.stage)
    if flt.overdue:
        stmt = stmt.where(Lead.due_on < today(), Lead.stage.not_in(CLOSED_STAGES))
    leads = list(db.session.scalars(stmt.order_by(Lead.id.desc())))
    now = today()
    leads.sort(key=lambda lead: (not lead.is_overdue(now), lead.due_on or date.max))
    return leads


def board(actor, event: Event, flt: LeadFilter | None = None) -> dict[str, list[Lead]]:
    """Leads by stage, every stage present (the board's columns)."""
    columns: dict[str, list[Lead]] = {stage: [] for stage in STAGES}
    for lead in leads_of(actor, event, flt):
        columns.setdefault(lead.stage, []).append(lead)
    return columns


# --- creating leads -----------------------------------------------------------------------

@dataclass
class LeadData:
    solution_id: int | None
    registration_id: int | None = None
    organization_id: int | None = None
    owner_id: int | None = None
    due_on: date | None = None
    note: str = ""


def _note(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_NOTE:
        raise ValidationError(_("Højst %(max)d tegn.", max=MAX_NOTE), "note")
    return text


def _solution(solution_id: int | None) -> Solution:
    solution = db.session.get(Solution, solution_id) if solution_id else None
    if solution is None or solution.status != APPROVED:
        raise ValidationError(_("Vælg en løsning fra kataloget."), "solution")
    return solution


def create_lead(actor, event: Event, data: LeadData, *, source: str = BY_HAND,
                stage: str = NEW) -> Lead:
    """A lead by hand: a solution and a participant of the event or an organization."""
    require_staff(actor, event)
    solution = _solution(data.solution_id)
    reg = None
    if data.registration_id:
        reg = db.session.get(Registration, data.registration_id)
        if reg is None or reg.event_id != event.id:
            raise ValidationError(_("Vælg en deltager fra listen."), "registration")
    organization_id = data.organization_id or (reg.organization_id if reg else None)
    if organization_id and db.session.get(Organization, organization_id) is None:
        raise ValidationError(_("Organisationen findes ikke."), "organization")
    if reg is None and not organization_id:
        raise ValidationError(_("Vælg en deltager eller en organisation."), "registration")
    existing = lead_in_scope(event, solution.id, organization_id)
    if existing is not None:
        if not carry_on(existing, event, actor):
            raise Conflict(_("Der findes allerede et lead for denne organisation og løsning "
                             "(lead #%(id)d).", id=existing.id), "organization")
        if data.note:
            existing.entries.append(LeadEntry(author_id=getattr(actor, "id", None),
                                              event_id=event.id, text=_note(data.note)))
        return existing
    lead = new_lead(event, solution_id=solution.id,
                registration_id=reg.id if reg else None, organization_id=organization_id,
                owner_id=_check_owner(event, data.owner_id), due_on=data.due_on,
                source=source, stage=stage, created_by_id=getattr(actor, "id", None))
    lead.entries.append(LeadEntry(author_id=getattr(actor, "id", None), to_stage=stage,
                                  event_id=event.id, text=_note(data.note)))
    try:
        with db.session.begin_nested():
            db.session.add(lead)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("Der findes allerede et lead for denne person og løsning."),
                       "registration") from None
    audit.record(actor, event, "followup.lead", f"lead #{lead.id}")
    return lead


def import_leads(actor, event: Event) -> int:
    """New leads from "want to know more" interests and contact requests about a solution
    (each organization × solution once across the organizer's events: a lead from an
    earlier event carries on); returns how many were made or carried on."""
    require_staff(actor, event)
    have = set(db.session.execute(select(Lead.registration_id, Lead.solution_id).where(
        in_event(event.id), Lead.registration_id.is_not(None))))
    scoped = {(lead.solution_id, lead.organization_id): lead for lead in db.session.scalars(
        select(Lead).where(Lead.scope == scope_of(event), Lead.organization_id.is_not(None)))}
    found: list[tuple[Registration, int, str]] = []
    for reg, sid in db.session.execute(
            select(Registration, Interest.solution_id)
            .join(Interest, Interest.registration_id == Registration.id)
            .join(Solution, Solution.id == Interest.solution_id)
            .where(Registration.event_id == event.id, Registration.status != CANCELLED,
                   Interest.kind == LEARN, Solution.status == APPROVED)
            .order_by(Interest.created_at, Interest.id)):
        found.append((reg, sid, FROM_INTEREST))
    for reg, sid in db.session.execute(
            select(Registration, ContactRequest.solution_id)
            .join(ContactRequest, ContactRequest.sender_id == Registration.id)
            .where(ContactRequest.event_id == event.id,
                   ContactRequest.solution_id.is_not(None),
                   ContactRequest.status.in_((PENDING, ACCEPTED)),
                   Registration.status != CANCELLED)
            .order_by(ContactRequest.created_at)):
        found.append((reg, sid, FROM_CONTACT))
    made = 0
    for reg, sid, source in found:
        if (reg.id, sid) in have:
            continue
        have.add((reg.id, sid))
        known = scoped.get((sid, reg.organization_id))
        if known is not None:  # the organization's lead carries on from an earlier event
            made += carry_on(known, event, actor)
            continue
        lead = new_lead(event, solution_id=sid, registration_id=reg.id,
                        organization_id=reg.organization_id, source=source, stage=NEW,
                        created_by_id=getattr(actor, "id", None))
        lead.entries.append(LeadEntry(author_id=getattr(actor, "id", None), to_stage=NEW,
                                      event_id=event.id, text=""))
        db.session.add(lead)
        if reg.organization_id:
            scoped[(sid, reg.organization_id)] = lead
        made += 1
    db.session.flush()
    if made:
        audit.record(actor, event, "followup.import", f"{made} leads")
    return made


# --- moving and noting --------------------------------------------------------------------

def move(actor, event: Event, lead: Lead, stage: str, *, reason: str = "",
         note: str = "", when: datetime | None = None) -> LeadEntry | None:
    """Move a lead to a stage (forwards or back); the history keeps every move.
    Dropping needs a reason. Returns the new history entry (None when nothing changed)."""
    require_staff(actor, event)
    if not belongs(lead, event):
        raise NotFound(_("Leadet findes ikke."))
    return record_move(actor, event, lead, stage, reason=reason, note=note, when=when)


def report_by_participant(event: Event, lead: Lead, stage: str, *, reason: str = "",
                          note: str = "", when: datetime | None = None) -> LeadEntry | None:
    """A participant's answer to an adoption check-in moves the lead (the caller checked
    the signed link); the history line says the participant reported it."""
    return record_move(None, event, lead, stage, reason=reason, note=note, when=when,
                 by_participant=True)


def record_move(actor, event: Event, lead: Lead, stage: str, *, reason: str = "",
                note: str = "", when: datetime | None = None,
                by_participant: bool = False) -> LeadEntry | None:
    """Move a lead, filed under ``event``; the caller has checked who may (the event's
    staff, the organizing organization's community managers, a signed check-in link)."""
    if stage not in STAGES:
        raise ValidationError(_("Vælg en af mulighederne på listen."), "stage")
    reason = (reason or "").strip()
    if stage == DROPPED and not reason:
        raise ValidationError(_("Skriv hvorfor leadet droppes."), "reason")
    if len(reason) > MAX_REASON:
        raise ValidationError(_("Højst %(max)d tegn.", max=MAX_REASON), "reason")
    note = _note(note)
    if stage == lead.stage and not note and (stage != DROPPED or reason == lead.drop_reason):
        return None
    when = when or utcnow()
    text = "\n".join(t for t in (reason if stage == DROPPED else "", note) if t)
    entry = LeadEntry(author_id=getattr(actor, "id", None), from_stage=lead.stage,
                      to_stage=stage, text=text, created_at=when, event_id=event.id,
                      by_participant=by_participant)
    if stage in ADOPTED and lead.stage not in ADOPTED:
        lead.adopted_at = when
    elif stage not in ADOPTED:
        lead.adopted_at = None
    lead.drop_reason = reason if stage == DROPPED else ""
    lead.stage = stage
    lead.entries.append(entry)
    db.session.flush()
    if actor is not None:
        audit.record(actor, event, "followup.move",
                     f"lead #{lead.id}: {entry.from_stage} → {stage}")
    emit("lead.stage_changed", event_id=event.id, lead_id=lead.id, stage=stage)
    return entry


def add_note(actor, event: Event, lead: Lead, text: str) -> LeadEntry:
    """A dated note in the lead's history."""
    require_staff(actor, event)
    text = _note(text)
    if not text:
        raise ValidationError(_("Skriv en note."), "note")
    entry = LeadEntry(author_id=getattr(actor, "id", None), text=text, event_id=event.id)
    lead.entries.append(entry)
    db.session.flush()
    return entry


def assign(actor, event: Event, lead: Lead, owner_id: int | None, due_on: date | None) -> None:
    """Set the owner and the due date."""
    require_staff(actor, event)
    lead.owner_id = _check_owner(event, owner_id)
    lead.due_on = due_on
    db.session.flush()


# --- figures ------------------------------------------------------------------------------

@dataclass
class Reuse:
    name: str
    leads: int
    adopted: int

    @property
    def rate(self) -> int | None:
        """Adopted over all leads, in whole per cent (None without leads)."""
        return round(100 * self.adopted / self.leads) if self.leads else None


def reuse_rates(event: Event) -> tuple[Reuse, list[Reuse]]:
    """(overall, per solution by name): adopted leads over all leads."""
    rows = db.session.execute(
        select(Solution.name, Lead.stage, func.count())
        .select_from(Lead).outerjoin(Solution, Solution.id == Lead.solution_id)
        .where(in_event(event.id)).group_by(Solution.name, Lead.stage)).all()
    per: dict[str, Reuse] = {}
    total = Reuse(_("I alt"), 0, 0)
    for name, stage, n in rows:
        item = per.setdefault(name or _("(uden løsning)"), Reuse(name or _("(uden løsning)"), 0, 0))
        adopted = n if stage in ADOPTED else 0
        item.leads += n
        item.adopted += adopted
        total.leads += n
        total.adopted += adopted
    return total, sorted(per.values(), key=lambda r: r.name.casefold())


def stage_counts(event: Event) -> dict[str, int]:
    counts = dict.fromkeys(STAGES, 0)
    counts.update(dict(db.session.execute(
        select(Lead.stage, func.count()).where(in_event(event.id))
        .group_by(Lead.stage)).all()))
    return counts


def adoptions_per_month(event: Event, until: date | None = None) -> list[tuple[date, int]]:
    """[(first day of month, adoptions)] from the event's month to the last adoption (or
    today), months without adoptions included."""
    stamps = db.session.scalars(select(Lead.adopted_at).where(
        in_event(event.id), Lead.adopted_at.is_not(None))).all()
    counts = Counter(to_local(s).date().replace(day=1) for s in stamps)
    month = to_local(event.starts_at).date().replace(day=1)
    last = max([until or today(), *counts]).replace(day=1)
    months = []
    while month <= last and len(months) < 36:
        months.append((month, counts.get(month, 0)))
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    earlier = sum(n for m, n in counts.items() if months and m < months[0][0])
    if earlier and months:  # adopted before the event's month (by hand): count them first
        months[0] = (months[0][0], months[0][1] + earlier)
    return months


def overdue_count(event: Event) -> int:
    return db.session.scalar(select(func.count()).select_from(Lead).where(
        in_event(event.id), Lead.due_on < today(), Lead.stage.not_in(CLOSED_STAGES)))
