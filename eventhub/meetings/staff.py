"""What staff see (the schedule per table and slot, the community manager's figures)
and what follows a meeting ("vi følger op" makes a follow-up lead)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from eventhub.directory.models import APPROVED, RUNNING, Experience, Solution
from eventhub.errors import NotFound, ValidationError
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.followup import services as followup
from eventhub.followup.models import FROM_MEETING, Lead, LeadEntry
from eventhub.followup.models import MEETING as LEAD_MEETING
from eventhub.i18n import localdt
from eventhub.meetings.models import (
    ACCEPTED,
    CANCELLED,
    DECLINED,
    OPEN_STATUSES,
    REQUESTED,
    Meeting,
    MeetingPlace,
)
from eventhub.meetings.services import (
    Slot,
    message_text,
    place_name,
    places_of,
    require_staff,
    slots_of,
)
from eventhub.registration.models import Registration


def schedule(actor, event: Event) -> tuple[list[Slot], list[MeetingPlace],
                                           dict[tuple[int, datetime], list[Meeting]]]:
    """Slots × places, and the open meetings in each cell."""
    require_staff(actor, event)
    cells: dict[tuple[int, datetime], list[Meeting]] = {}
    for meeting in db.session.scalars(select(Meeting).where(
            Meeting.event_id == event.id, Meeting.status.in_(OPEN_STATUSES))
            .order_by(Meeting.lane)):
        cells.setdefault((meeting.place_id, meeting.starts_at), []).append(meeting)
    return slots_of(event), places_of(event), cells


@dataclass
class Figures:
    requests: int
    accepted: int
    declined: int
    pending: int
    cancelled: int
    attendees: int
    per_attendee: float
    acceptance_rate: int | None


def figures(actor, event: Event) -> Figures:
    """What the community manager follows: requests and their answers, meetings per
    attendee (agreed meetings × 2 over confirmed participants), acceptance rate."""
    require_staff(actor, event)
    counts = dict(db.session.execute(select(Meeting.status, func.count()).where(
        Meeting.event_id == event.id).group_by(Meeting.status)).all())
    from eventhub.registration.models import CONFIRMED
    attendees = db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.event_id == event.id, Registration.status == CONFIRMED)) or 0
    accepted = counts.get(ACCEPTED, 0)
    declined = counts.get(DECLINED, 0)
    answered = accepted + declined + counts.get(CANCELLED, 0)
    ever_accepted = db.session.scalar(select(func.count()).select_from(Meeting).where(
        Meeting.event_id == event.id, Meeting.accepted_at.is_not(None))) or 0
    return Figures(
        requests=sum(counts.values()), accepted=accepted, declined=declined,
        pending=counts.get(REQUESTED, 0), cancelled=counts.get(CANCELLED, 0),
        attendees=attendees,
        per_attendee=round(2 * accepted / attendees, 2) if attendees else 0.0,
        acceptance_rate=round(100 * ever_accepted / (ever_accepted + declined))
        if answered and (ever_accepted + declined) else None)


# --- after the meeting --------------------------------------------------------------------

def follow_up(meeting: Meeting, reg: Registration, solution_id: int | None,
              note: str = "") -> Lead:
    """"Vi følger op": the meeting becomes a follow-up lead for a solution, with the
    meeting in its history. The lead is about the side whose organization does not run
    the solution (the one who may reuse it)."""
    if reg.id not in (meeting.requester_id, meeting.invitee_id):
        raise NotFound(_("Mødet findes ikke."))
    if meeting.accepted_at is None:
        raise ValidationError(_("Kun aftalte møder kan følges op."))
    solution = db.session.get(Solution, solution_id) if solution_id else None
    if solution is None or solution.status != APPROVED:
        raise ValidationError(_("Vælg en løsning fra kataloget."), "solution")
    note = message_text(note)
    other = meeting.other(reg.id)
    who = other if _runs(reg, solution) and not _runs(other, solution) else reg
    text = _("Møde ved arrangementet %(when)s ved %(place)s mellem %(a)s og %(b)s; "
             "%(by)s følger op.", when=localdt(meeting.starts_at, "short"),
             place=place_name(meeting) or "–", a=meeting.requester.name,
             b=meeting.invitee.name, by=reg.name)
    event = db.session.get(Event, meeting.event_id)
    lead = followup.lead_for_participant(event, who, solution.id, source=FROM_MEETING,
                                         stage=LEAD_MEETING, text=text)
    if note:
        lead.entries.append(LeadEntry(event_id=event.id, text=note))
    db.session.flush()
    return lead


def _runs(reg: Registration, solution: Solution) -> bool:
    """Whether the person's organization provides or already runs the solution."""
    if not reg.organization_id:
        return False
    if reg.organization_id == solution.provider_id:
        return True
    return db.session.scalar(select(func.count()).select_from(Experience).where(
        Experience.solution_id == solution.id, Experience.organization_id == reg.organization_id,
        Experience.status.in_(RUNNING))) > 0


def solutions_for(meeting: Meeting) -> list[Solution]:
    """Solutions to follow up on: the meeting's own, and those the two organizations run
    or present."""
    ids = {meeting.solution_id} if meeting.solution_id else set()
    orgs = [o for o in (meeting.requester.organization_id, meeting.invitee.organization_id)
            if o]
    if orgs:
        ids |= set(db.session.scalars(select(Solution.id).where(
            Solution.provider_id.in_(orgs), Solution.status == APPROVED)))
        ids |= set(db.session.scalars(select(Experience.solution_id).where(
            Experience.organization_id.in_(orgs))))
    if not ids:
        return list(db.session.scalars(select(Solution).where(
            Solution.status == APPROVED).order_by(Solution.name).limit(200)))
    return list(db.session.scalars(select(Solution).where(
        Solution.id.in_(ids), Solution.status == APPROVED).order_by(Solution.name)))
