"""Demo meetings: periods 12:30-14:00 and 15:00-15:45 in 20-minute slots at 12 tables
and two stands; agreed, asked and declined meetings (Mette Holm has one of each kind);
an exhibitor for "Natlig faldsensor" who scanned two badges. Loading twice changes
nothing; no mail is sent."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from eventhub.accounts.services import get_or_create_user
from eventhub.db import utcnow
from eventhub.directory.models import Solution
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.followup import services as followup
from eventhub.followup.models import FROM_SCAN, NEW
from eventhub.meetings import services
from eventhub.meetings.models import (
    ACCEPTED,
    DECLINED,
    REQUESTED,
    Exhibitor,
    Meeting,
    MeetingPeriod,
    MeetingPlace,
    MeetingSetup,
    Scan,
)
from eventhub.registration.models import Registration
from eventhub.timeutil import LOCAL_TZ

SKAERM, FALD = "Skærmbesøg i hjemmeplejen", "Natlig faldsensor"
EXHIBITOR = ("Jakob Stand", "udstiller@example.com")

# (requester, invitee, local time, status, solution or None, message)
MEETINGS = [
    ("Mette Holm", "Thomas Brandt", (13, 10), ACCEPTED, SKAERM,
     "Vi vil gerne høre, hvordan I fik aftenvagten med."),
    ("Søren Kjær", "Mette Holm", (13, 30), REQUESTED, None,
     "Kan vi tale om jeres erfaringer med faldsensorer?"),
    ("Mette Holm", "Jonas Friis", (15, 0), REQUESTED, None, ""),
    ("Thomas Brandt", "Karina Ebbesen", (12, 30), ACCEPTED, SKAERM, ""),
    ("Maria Skov", "Anne Kirkegaard", (12, 50), ACCEPTED, FALD, ""),
    ("Camilla Bach", "Karina Ebbesen", (13, 10), DECLINED, SKAERM, ""),
    ("Kasper Winther", "Signe Lauridsen", (12, 30), ACCEPTED, None, ""),
    ("Louise Thygesen", "Nanna Sørensen", (15, 20), ACCEPTED, None, ""),
]


def _at(event: Event, hour: int, minute: int) -> datetime:
    day = event.starts_at.astimezone(LOCAL_TZ).date()
    return datetime(day.year, day.month, day.day, hour, minute,
                    tzinfo=LOCAL_TZ).astimezone(event.starts_at.tzinfo)


def load_meetings(event: Event) -> None:
    if db.session.scalar(select(MeetingSetup.id).where(MeetingSetup.event_id == event.id)):
        return
    solutions = {s.name: s for s in db.session.scalars(select(Solution))}
    db.session.add(MeetingSetup(event_id=event.id, enabled=True, slot_minutes=20, kinds=[],
                                max_pending=5))
    for start, end in (((12, 30), (14, 0)), ((15, 0), (15, 45))):
        db.session.add(MeetingPeriod(event_id=event.id, starts_at=_at(event, *start),
                                     ends_at=_at(event, *end)))
    for n in range(1, 13):
        db.session.add(MeetingPlace(event_id=event.id, name=f"Bord {n}", position=n))
    for n, name in enumerate((SKAERM, FALD)):
        if name in solutions:
            db.session.add(MeetingPlace(event_id=event.id, name=f"Stand: {name}"[:80],
                                        kind="stand", solution_id=solutions[name].id,
                                        position=20 + n))
    db.session.flush()
    people = {r.name: r for r in db.session.scalars(select(Registration).where(
        Registration.event_id == event.id))}
    now = utcnow()
    for n, reg in enumerate(sorted(people.values(), key=lambda r: r.id)):
        if reg.directory_consent_at is not None and n % 2 == 0:
            reg.scan_consent_at = now
    for asker, asked, when, status, solution, message in MEETINGS:
        _meeting(event, people[asker], people[asked], _at(event, *when), status,
                 solutions.get(solution) if solution else None, message)
    _exhibitor(event, solutions.get(FALD), people)
    db.session.flush()


def _meeting(event: Event, asker: Registration, asked: Registration, start: datetime,
             status: str, solution: Solution | None, message: str) -> None:
    setup = services.setup_of(event)
    meeting = Meeting(event_id=event.id, requester_id=asker.id, invitee_id=asked.id,
                      starts_at=start, ends_at=start + timedelta(minutes=setup.slot_minutes),
                      message=message, solution_id=solution.id if solution else None,
                      status=REQUESTED, awaiting_id=asked.id)
    db.session.add(meeting)
    db.session.flush()
    if status == DECLINED:
        meeting.status, meeting.awaiting_id, meeting.answered_at = DECLINED, None, utcnow()
        meeting.answer_message = "Desværre, jeg står ved standen hele eftermiddagen."
        return
    services._hold(meeting, start)  # noqa: SLF001 (the domain's own demo)
    if status == ACCEPTED:
        meeting.status, meeting.awaiting_id = ACCEPTED, None
        meeting.accepted_at = meeting.answered_at = utcnow()


def _exhibitor(event: Event, solution: Solution | None, people: dict) -> None:
    if solution is None:
        return
    user = get_or_create_user(EXHIBITOR[1], EXHIBITOR[0])
    db.session.add(Exhibitor(event_id=event.id, user_id=user.id, solution_id=solution.id))
    for name, rating, notes, tags in (
            ("Mette Holm", 4, "Vil gerne låne to sensorer til en pilot i foråret.",
             ["pilot", "nattevagt"]),
            ("Signe Lauridsen", 2, "", ["nyhedsbrev"])):
        reg = people.get(name)
        if reg is None or reg.scan_consent_at is None:
            continue
        lead = followup.lead_for_participant(event, reg, solution.id, source=FROM_SCAN,
                                             stage=NEW, text=notes or tags[0],
                                             author_id=user.id)
        db.session.add(Scan(event_id=event.id, registration_id=reg.id,
                            solution_id=solution.id, scanned_by_id=user.id, lead_id=lead.id,
                            rating=rating, notes=notes, tags=tags))

