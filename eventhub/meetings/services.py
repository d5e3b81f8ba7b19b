"""Meetings at the event: the organizer's setup, free slots two people share, requests,
answers, counter-proposals, moves and cancellations; the staff's schedule and figures.

A meeting's slot is held by ``MeetingHold`` rows written in the same transaction as the
change: the database's unique constraints, not a check before the insert, keep a person
and a table to one meeting a slot. A hold that collides is answered with a ``Conflict``
and the request's transaction is rolled back whole.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from eventhub.db import lock_row, utcnow
from eventhub.directory.models import APPROVED, Solution
from eventhub.directory.services import is_listed, listed_person
from eventhub.errors import Conflict, Forbidden, NotFound, ValidationError
from eventhub.events.models import ORGANIZER, Event
from eventhub.events.services import has_role
from eventhub.extensions import db
from eventhub.mail import queue_built_mail
from eventhub.meetings.models import (
    ACCEPTED,
    CANCELLED,
    DECLINED,
    OPEN_STATUSES,
    REQUESTED,
    TABLE,
    WITHDRAWN,
    Meeting,
    MeetingHold,
    MeetingPeriod,
    MeetingPlace,
    MeetingSetup,
)
from eventhub.programme import agenda
from eventhub.programme.agenda import DayItem
from eventhub.registration.models import CANCELLED as REG_CANCELLED
from eventhub.registration.models import Registration
from eventhub.timeutil import LOCAL_TZ

MIN_SLOT, MAX_SLOT = 15, 30
MAX_MESSAGE = 500
MAX_PLACES = 200

Slot = tuple[datetime, datetime]


# --- setup --------------------------------------------------------------------------------

def setup_of(event: Event) -> MeetingSetup | None:
    return db.session.scalar(select(MeetingSetup).where(MeetingSetup.event_id == event.id))


def is_open(event: Event) -> bool:
    """Whether participants can book meetings at this event now."""
    setup = setup_of(event)
    return bool(setup and setup.enabled)


def periods_of(event: Event) -> list[MeetingPeriod]:
    return list(db.session.scalars(select(MeetingPeriod).where(
        MeetingPeriod.event_id == event.id).order_by(MeetingPeriod.starts_at)))


def places_of(event: Event) -> list[MeetingPlace]:
    return list(db.session.scalars(select(MeetingPlace).where(
        MeetingPlace.event_id == event.id).order_by(MeetingPlace.position, MeetingPlace.id)))


def require_organizer(actor, event: Event) -> None:
    if not has_role(actor, event, ORGANIZER):
        raise Forbidden(_("Kun arrangører kan sætte møder op."))


def is_meeting_staff(actor, event: Event) -> bool:
    from eventhub.events.models import COMMUNITY_MANAGER
    return has_role(actor, event, ORGANIZER, COMMUNITY_MANAGER)


def require_staff(actor, event: Event) -> None:
    if not is_meeting_staff(actor, event):
        raise Forbidden(_("Kun arrangører og community managers kan se mødeplanen."))


# --- slots --------------------------------------------------------------------------------

def slots_of(event: Event, setup: MeetingSetup | None = None) -> list[Slot]:
    """Every slot of the event's meeting periods, in order."""
    setup = setup or setup_of(event)
    if setup is None:
        return []
    length = timedelta(minutes=setup.slot_minutes)
    found = []
    for period in periods_of(event):
        start = period.starts_at
        while start + length <= period.ends_at:
            found.append((start, start + length))
            start += length
    return found


def _held(reg_ids: list[int], event: Event) -> set[datetime]:
    return set(db.session.scalars(select(MeetingHold.starts_at).where(
        MeetingHold.event_id == event.id, MeetingHold.registration_id.in_(reg_ids))))


def _busy_in_programme(reg: Registration, slots: list[Slot]) -> set[datetime]:
    sessions = [s for s in agenda.my_day(reg) if not s.cancelled]
    return {a for a, b in slots for s in sessions if s.starts_at < b and a < s.ends_at}


def _lanes_free(event: Event) -> dict[datetime, int]:
    """How many place lanes are taken in each slot that has any taken."""
    rows = db.session.execute(select(MeetingHold.starts_at, func.count()).where(
        MeetingHold.event_id == event.id, MeetingHold.place_id.is_not(None))
        .group_by(MeetingHold.starts_at)).all()
    return {start: count for start, count in rows}


def free_slots(event: Event, a: Registration, b: Registration) -> list[Slot]:
    """Slots where neither person has a meeting, a request, an unavailable mark or a
    session of their day, and some table is free."""
    setup = setup_of(event)
    slots = slots_of(event, setup)
    if not slots:
        return []
    taken = _held([a.id, b.id], event) | _busy_in_programme(a, slots) \
        | _busy_in_programme(b, slots)
    lanes = sum(p.capacity for p in places_of(event))
    used = _lanes_free(event)
    now = utcnow()
    return [(s, e) for s, e in slots
            if s not in taken and used.get(s, 0) < lanes and s > now]


def _slot(event: Event, starts_at: datetime | None) -> Slot:
    for slot in slots_of(event):
        if starts_at is not None and slot[0] == starts_at:
            return slot
    raise ValidationError(_("Tidspunktet ligger ikke i arrangementets mødeperioder. "
                            "Vælg et af de ledige tidspunkter."), "slot")


def parse_slot(value: str | None) -> datetime | None:
    """A slot's value from a form (its start as a UTC timestamp in seconds)."""
    try:
        return datetime.fromtimestamp(int(value or ""), tz=LOCAL_TZ).astimezone(
            utcnow().tzinfo)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def slot_value(start: datetime) -> str:
    return str(int(start.timestamp()))


# --- holding slots ------------------------------------------------------------------------

def _release(meeting: Meeting) -> None:
    db.session.execute(delete(MeetingHold).where(MeetingHold.meeting_id == meeting.id))


def _candidate_lanes(meeting: Meeting, start: datetime) -> list[tuple[MeetingPlace, int]]:
    taken = set(db.session.execute(select(MeetingHold.place_id, MeetingHold.lane).where(
        MeetingHold.event_id == meeting.event_id, MeetingHold.starts_at == start,
        MeetingHold.place_id.is_not(None))))
    places = places_of(meeting.event)
    # A meeting about a solution goes to its stand first; other meetings to tables.
    places.sort(key=lambda p: (p.solution_id != meeting.solution_id or p.solution_id is None,
                               p.kind != TABLE, p.position))
    return [(p, lane) for p in places for lane in range(p.capacity)
            if (p.id, lane) not in taken
            and (p.kind == TABLE or p.solution_id == meeting.solution_id)]


def _hold(meeting: Meeting, start: datetime) -> None:
    """Take both people and a table lane in ``start`` for ``meeting``; Conflict if the
    database says one is taken (the caller's transaction then rolls back whole)."""
    try:
        with db.session.begin_nested():
            db.session.add_all([
                MeetingHold(event_id=meeting.event_id, meeting_id=meeting.id,
                            registration_id=rid, starts_at=start)
                for rid in (meeting.requester_id, meeting.invitee_id)])
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("Tidspunktet er lige blevet optaget. Vælg et andet."), "slot") \
            from None
    for place, lane in _candidate_lanes(meeting, start):
        try:
            with db.session.begin_nested():
                db.session.add(MeetingHold(event_id=meeting.event_id, meeting_id=meeting.id,
                                           place_id=place.id, lane=lane, starts_at=start))
                db.session.flush()
        except IntegrityError:
            continue  # another meeting took this lane a moment ago: the next one
        meeting.place_id, meeting.lane = place.id, lane
        return
    raise Conflict(_("Alle borde er optaget på det tidspunkt. Vælg et andet."), "slot")


# --- requests -----------------------------------------------------------------------------

def bookable(event: Event, requester: Registration, registration_id: int) -> Registration:
    """The person ``requester`` may book a meeting with: the picker's check, the same as a
    request's."""
    if not is_open(event):
        raise NotFound(_("Der kan ikke bookes møder til dette arrangement."))
    invitee = listed_person(event, registration_id)
    _check_people(event, requester, invitee, setup_of(event))
    return invitee


def _check_people(event: Event, requester: Registration, invitee: Registration,
                  setup: MeetingSetup | None) -> None:
    if setup is None or not setup.enabled:
        raise ValidationError(_("Der kan ikke bookes møder til dette arrangement."))
    if requester.id == invitee.id:
        raise ValidationError(_("Du kan ikke booke et møde med dig selv."))
    if not is_listed(requester, event):
        raise Forbidden(_("Sig ja til at være med i netværksoversigten for at booke møder. "
                          "Det gør du under Min profil i netværket."))
    if not is_listed(invitee, event):
        raise NotFound(_("Personen er ikke med i netværket og kan ikke bookes."))
    if invitee.status == REG_CANCELLED:
        raise NotFound(_("Personen er ikke med i netværket og kan ikke bookes."))
    kind = requester.organization.kind if requester.organization else None
    if setup.kinds and kind not in setup.kinds:
        raise Forbidden(_("Ved dette arrangement kan din organisationstype ikke booke "
                          "møder."))


def _check_programme(event: Event, start: Slot, *people: Registration) -> None:
    for reg in people:
        if _busy_in_programme(reg, [start]):
            raise Conflict(_("Tidspunktet er ikke ledigt for jer begge. Vælg et andet."),
                           "slot")


def message_text(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_MESSAGE:
        raise ValidationError(_("Højst %(max)d tegn.", max=MAX_MESSAGE), "message")
    return text


def request_meeting(requester: Registration, invitee: Registration,
                    starts_at: datetime | None, message: str = "",
                    solution_id: int | None = None) -> Meeting:
    """Ask ``invitee`` for a meeting in a slot: it holds the slot for both until answered."""
    event = requester.event
    setup = setup_of(event)
    _check_people(event, requester, invitee, setup)
    slot = _slot(event, starts_at)
    if slot[0] <= utcnow():
        raise ValidationError(_("Tidspunktet er allerede gået. Vælg et senere."), "slot")
    message = message_text(message)
    lock_row(db.session, Registration, requester.id)  # one person's requests in turn
    pending = db.session.scalar(select(func.count()).select_from(Meeting).where(
        Meeting.requester_id == requester.id, Meeting.status == REQUESTED))
    if pending >= setup.max_pending:
        raise ValidationError(_("Du har %(n)d ubesvarede mødeforespørgsler, som er det "
                                "højeste antal. Vent på svar, eller træk en tilbage.",
                                n=pending), "slot")
    _check_programme(event, slot, requester, invitee)
    solution = db.session.get(Solution, solution_id) if solution_id else None
    solution_id = solution.id if solution is not None and solution.status == APPROVED \
        else None  # a forged or withdrawn solution is left out, not an error
    meeting = Meeting(event_id=event.id, requester_id=requester.id, invitee_id=invitee.id,
                      awaiting_id=invitee.id, starts_at=slot[0], ends_at=slot[1],
                      message=message, solution_id=solution_id, status=REQUESTED)
    db.session.add(meeting)
    db.session.flush()
    _hold(meeting, slot[0])
    db.session.flush()
    _mail(meeting, invitee, "request")
    return meeting


def get_meeting(event: Event, meeting_id: int, reg: Registration | None) -> Meeting:
    """One of the person's own meetings at this event."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.event_id != event.id or reg is None \
            or reg.id not in (meeting.requester_id, meeting.invitee_id):
        raise NotFound(_("Mødet findes ikke."))
    return meeting


def by_token(token: str) -> tuple[Meeting, Registration]:
    """The meeting and the person a mail link was sent to."""
    if not token:
        raise NotFound(_("Mødet findes ikke."))
    meeting = db.session.scalar(select(Meeting).where(or_(
        Meeting.requester_token == token, Meeting.invitee_token == token)))
    if meeting is None:
        raise NotFound(_("Mødet findes ikke. Linket kan være forældet."))
    who = meeting.requester if meeting.requester_token == token else meeting.invitee
    return meeting, who


def _fresh(meeting: Meeting) -> None:
    """Read the meeting's row again under a lock: two answers in flight see each other."""
    lock_row(db.session, Meeting, meeting.id)
    db.session.refresh(meeting)


def answer(meeting: Meeting, reg: Registration, accept: bool, message: str = "") -> None:
    """The awaited person accepts or declines (with an optional message)."""
    _fresh(meeting)
    if meeting.status == WITHDRAWN:
        raise Conflict(_("%(name)s har trukket forespørgslen tilbage.",
                         name=meeting.requester.name))
    if meeting.status != REQUESTED:
        raise Conflict(_("Forespørgslen er allerede besvaret."))
    if meeting.awaiting_id != reg.id:
        raise Forbidden(_("Det er den anden persons tur til at svare."))
    meeting.answer_message = message_text(message)
    meeting.answered_at = utcnow()
    if accept:
        meeting.status, meeting.accepted_at, meeting.awaiting_id = ACCEPTED, utcnow(), None
    else:
        meeting.status, meeting.awaiting_id = DECLINED, None
        meeting.sequence += 1
        _release(meeting)
    db.session.flush()
    _mail(meeting, meeting.other(reg.id), "accepted" if accept else "declined")


def move(meeting: Meeting, reg: Registration, starts_at: datetime | None,
         message: str = "") -> None:
    """Another slot: for a request, a counter-proposal the other person must answer; for
    an agreed meeting, it moves (same calendar entry, higher SEQUENCE)."""
    _fresh(meeting)
    if meeting.status not in OPEN_STATUSES:
        raise Conflict(_("Mødet er ikke længere aktivt."))
    if meeting.status == REQUESTED and meeting.awaiting_id != reg.id:
        raise Forbidden(_("Vent på den anden persons svar, eller træk forespørgslen "
                          "tilbage."))
    slot = _slot(meeting.event, starts_at)
    if slot[0] == meeting.starts_at:
        raise ValidationError(_("Vælg et andet tidspunkt end det nuværende."), "slot")
    if slot[0] <= utcnow():
        raise ValidationError(_("Tidspunktet er allerede gået. Vælg et senere."), "slot")
    _check_programme(meeting.event, slot, meeting.requester, meeting.invitee)
    _release(meeting)
    db.session.flush()
    meeting.starts_at, meeting.ends_at = slot
    meeting.sequence += 1
    _hold(meeting, slot[0])
    if message:
        meeting.answer_message = message_text(message)
    if meeting.status == REQUESTED:
        meeting.awaiting_id = meeting.other(reg.id).id
    db.session.flush()
    _mail(meeting, meeting.other(reg.id),
          "proposed" if meeting.status == REQUESTED else "moved")


def cancel(meeting: Meeting, reg: Registration, message: str = "") -> None:
    """The requester withdraws a request, or either side cancels an agreed meeting."""
    _fresh(meeting)
    if meeting.status not in OPEN_STATUSES:
        raise Conflict(_("Mødet er ikke længere aktivt."))
    if meeting.status == REQUESTED:
        if reg.id != meeting.requester_id and meeting.awaiting_id == reg.id:
            return answer(meeting, reg, False, message)
        meeting.status = WITHDRAWN
    else:
        meeting.status = CANCELLED
    meeting.answer_message = message_text(message) or meeting.answer_message
    meeting.awaiting_id = None
    meeting.sequence += 1
    _release(meeting)
    db.session.flush()
    _mail(meeting, meeting.other(reg.id), "cancelled")
    return None


def set_unavailable(reg: Registration, starts_at: datetime | None, busy: bool) -> None:
    """Mark one of one's own slots as unavailable (or free again)."""
    slot = _slot(reg.event, starts_at)
    row = db.session.scalar(select(MeetingHold).where(
        MeetingHold.registration_id == reg.id, MeetingHold.starts_at == slot[0]))
    if not busy:
        if row is not None and row.meeting_id is None:
            db.session.delete(row)
            db.session.flush()
        return
    if row is not None:
        if row.meeting_id is not None:
            raise Conflict(_("Du har et møde på det tidspunkt. Aflys det først."), "slot")
        return
    try:
        with db.session.begin_nested():
            db.session.add(MeetingHold(event_id=reg.event_id, registration_id=reg.id,
                                       starts_at=slot[0]))
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("Tidspunktet er lige blevet optaget."), "slot") from None


def unavailable_of(reg: Registration) -> set[datetime]:
    return set(db.session.scalars(select(MeetingHold.starts_at).where(
        MeetingHold.registration_id == reg.id, MeetingHold.meeting_id.is_(None))))


def meetings_of(reg: Registration, *, everything: bool = False) -> list[Meeting]:
    """The person's meetings and requests (open ones unless ``everything``), in time order."""
    q = select(Meeting).where(or_(Meeting.requester_id == reg.id,
                                  Meeting.invitee_id == reg.id))
    if not everything:
        q = q.where(Meeting.status.in_(OPEN_STATUSES))
    return list(db.session.scalars(q.order_by(Meeting.starts_at, Meeting.id)))


def _meeting_url(meeting: Meeting, reg: Registration) -> str:
    token = meeting.requester_token if reg.id == meeting.requester_id else meeting.invitee_token
    return current_app.config["BASE_URL"] + url_for(
        "meetings.by_link", slug=meeting.event.slug, token=token)


def place_name(meeting: Meeting) -> str:
    if meeting.place is None:
        return ""
    if meeting.place.capacity > 1:
        return f"{meeting.place.name}{'ABCDEFGHIJKLMNOPQRST'[meeting.lane]}"
    return meeting.place.name


def day_items(reg: Registration) -> list[DayItem]:
    """Meetings in the person's day: agreed and asked ones on the page; in the feed the
    agreed ones, and cancelled ones that once were agreed (STATUS:CANCELLED)."""
    return [day_item(meeting, reg) for meeting in db.session.scalars(select(Meeting).where(
        or_(Meeting.requester_id == reg.id, Meeting.invitee_id == reg.id),
        or_(Meeting.status.in_(OPEN_STATUSES), Meeting.accepted_at.is_not(None))))]


def day_item(meeting: Meeting, reg: Registration) -> DayItem:
    """One meeting as an entry of ``reg``'s day (and calendar)."""
    other = meeting.other(reg.id)
    where = ", ".join(p for p in (place_name(meeting), meeting.event.venue) if p)
    return DayItem(
        uid=meeting.uid, title=_("Møde med %(name)s", name=other.name),
        starts_at=meeting.starts_at, ends_at=meeting.ends_at, location=where,
        description=meeting.message, url=_meeting_url(meeting, reg),
        sequence=meeting.sequence, cancelled=not meeting.is_open,
        shown=meeting.is_open, in_feed=meeting.accepted_at is not None,
        stamp=meeting.updated_at,
        note="" if meeting.status == ACCEPTED else str(_("Afventer svar")))


# --- mail ---------------------------------------------------------------------------------

def _mail(meeting: Meeting, to: Registration, what: str) -> None:
    queue_built_mail(to.email, "meeting", kind="meeting", event_id=meeting.event_id,
                     meeting_id=meeting.id, to_registration_id=to.id, what=what,
                     sequence=meeting.sequence)
