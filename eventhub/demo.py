"""The Del & Genbrug demo event. Loading it twice changes nothing.

All people are fictional; the municipalities are real (reference data).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from eventhub.accounts.models import User
from eventhub.accounts.services import create_admin, get_or_create_user, set_password
from eventhub.db import utcnow
from eventhub.events.models import (
    CHECKIN,
    COMMUNITY_MANAGER,
    COMPANY,
    KNOWLEDGE,
    ORGANIZER,
    PUBLISHED,
    Event,
    EventRole,
    Organization,
)
from eventhub.events.services import find_or_create_organization
from eventhub.extensions import db
from eventhub.registration.models import (
    CANCELLED,
    CONFIRMED,
    PARTICIPANT,
    PENDING,
    SPEAKER,
    Answer,
    Question,
    Registration,
)
from eventhub.timeutil import LOCAL_TZ, from_local

DEMO_SLUG = "del-genbrug-2026"
ADMIN_EMAIL = "admin@example.com"

DESCRIPTION = """\
En dag hvor kommuner, regioner og virksomheder viser hinanden velfærdsteknologi, der \
virker – så den næste kommune kan genbruge løsningen i stedet for at bygge sin egen.

Hør kommunale cases om skærmbesøg, sensorer, digital genoptræning og medicinrobotter, \
vær med i workshops om gevinstrealisering og spredning, og mød dem, der allerede har \
gjort det. Se hele programmet og vælg dine punkter under "Se programmet".
"""

# (name, job title, organization, kind or None for reference data, status)
PARTICIPANTS = [
    ("Mette Holm", "Udviklingskonsulent", "Aarhus Kommune", None, CONFIRMED),
    ("Søren Kjær", "Teamleder, hjemmeplejen", "Odense Kommune", None, CONFIRMED),
    ("Line Vestergaard", "Projektleder, velfærdsteknologi", "Aalborg Kommune", None, CONFIRMED),
    ("Jonas Friis", "Digitaliseringschef", "Københavns Kommune", None, CONFIRMED),
    ("Camilla Bach", "Terapeut", "Esbjerg Kommune", None, CONFIRMED),
    ("Henrik Dahl", "Sundhedschef", "Svendborg Kommune", None, CONFIRMED),
    ("Pernille Krogh", "Sygeplejerske", "Randers Kommune", None, CONFIRMED),
    ("Anders Lund", "IT-arkitekt", "Region Midtjylland", None, CONFIRMED),
    ("Rikke Juhl", "Konsulent", "Region Syddanmark", None, CONFIRMED),
    ("Thomas Brandt", "Innovationskonsulent", "Vejle Kommune", None, CONFIRMED),
    ("Maria Skov", "Ergoterapeut", "Viborg Kommune", None, CONFIRMED),
    ("Peter Munk", "Leder af hjælpemiddelcentret", "Herning Kommune", None, CONFIRMED),
    ("Louise Thygesen", "Projektleder", "Sønderborg Kommune", None, CONFIRMED),
    ("Kasper Winther", "Chefkonsulent", "Roskilde Kommune", None, CONFIRMED),
    ("Ida Mortensen", "Fysioterapeut", "Holbæk Kommune", None, CONFIRMED),
    ("Martin Ravn", "Digitaliseringskonsulent", "Næstved Kommune", None, CONFIRMED),
    ("Anne Kirkegaard", "Områdeleder", "Horsens Kommune", None, CONFIRMED),
    ("Jesper Bundgaard", "Velfærdsteknologisk konsulent", "Silkeborg Kommune", None, CONFIRMED),
    ("Signe Lauridsen", "Udviklingssygeplejerske", "Kolding Kommune", None, CONFIRMED),
    ("Morten Eskildsen", "Konsulent", "Frederiksberg Kommune", None, CONFIRMED),
    ("Helle Bjerre", "Teamleder, rehabilitering", "Gentofte Kommune", None, CONFIRMED),
    ("Rasmus Toft", "Projektmedarbejder", "Hjørring Kommune", None, CONFIRMED),
    ("Nanna Sørensen", "Leder, sundhedsinnovation", "Region Hovedstaden", None, CONFIRMED),
    ("Frederik Boesen", "Produktchef", "Tryghedsteknik ApS", COMPANY, CONFIRMED),
    ("Karina Ebbesen", "Direktør", "Skærmbesøg A/S", COMPANY, CONFIRMED),
    ("Ole Stenholt", "Salgschef", "SensorHjem ApS", COMPANY, CONFIRMED),
    ("Birgitte Hald", "Forsker", "Center for Velfærdsteknologisk Evaluering", KNOWLEDGE,
     CONFIRMED),
    ("Mads Overgaard", "Ph.d.-studerende", "Institut for Sundhedsinnovation", KNOWLEDGE,
     CONFIRMED),
    ("Trine Nygaard", "Konsulent", "Lolland Kommune", None, CONFIRMED),
    ("Lars Hvidberg", "Sektionsleder", "Thisted Kommune", None, CONFIRMED),
    ("Charlotte Iversen", "Projektleder", "Bornholms Regionskommune", None, CONFIRMED),
    ("Niels Kragh", "Konsulent", "Guldborgsund Kommune", None, PENDING),
    ("Sara Dam", "Sygeplejerske", "Fredericia Kommune", None, PENDING),
    ("Emil Schou", "Studentermedhjælper", "Region Sjælland", None, CANCELLED),
    ("Julie Præstegaard", "Udviklingskonsulent", "Faaborg-Midtfyn Kommune", None, CANCELLED),
    ("Bo Lykke", "Chefkonsulent", "Region Nordjylland", None, CANCELLED),
]

QUESTIONS = [
    ("Hvilke velfærdsteknologier arbejder I med?", "multiple_choice",
     ["Skærmbesøg", "Sensorer og monitorering", "Digital genoptræning", "Medicinhåndtering",
      "Hjælpemidler"], False),
    ("Deltager du i frokosten?", "yes_no", [], True),
    ("Kostønsker eller allergier", "short_text", [], False),
]

STAFF = [
    ("Anna Kragelund", "arrangoer@example.com", ORGANIZER),
    ("Kim Hedegaard", "community@example.com", COMMUNITY_MANAGER),
    ("Lene Poulsen", "checkin@example.com", CHECKIN),
]


@dataclass
class DemoLogin:
    email: str
    password: str


def _email_for(name: str, organization: str) -> str:
    local = ".".join(name.lower().split())
    domain = organization.lower().replace(" kommune", "").replace(" ", "-")
    for a, b in (("æ", "ae"), ("ø", "oe"), ("å", "aa"), ("é", "e")):
        local, domain = local.replace(a, b), domain.replace(a, b)
    domain = "".join(ch for ch in domain if ch.isalnum() or ch == "-")
    return f"{local}@{domain}.example.dk"


def _demo_event() -> Event:
    event = db.session.scalar(select(Event).where(Event.slug == DEMO_SLUG))
    if event is None:
        event = Event(
            slug=DEMO_SLUG,
            title="Del & Genbrug 2026",
            description=DESCRIPTION,
            venue="Dokk1, Hack Kampmanns Plads 2, 8000 Aarhus C",
            starts_at=from_local(datetime(2026, 12, 10, 8, 30)),
            ends_at=from_local(datetime(2026, 12, 10, 16, 0)),
            capacity=120,
            registration_opens_at=from_local(datetime(2026, 9, 1, 9, 0)),
            registration_closes_at=from_local(datetime(2026, 12, 8, 23, 59)),
            status=PUBLISHED,
            directory_open_until=date(2027, 6, 30),
            retention_until=date(2027, 12, 31),
        )
        db.session.add(event)
        db.session.flush()
    if not event.contact_email:  # the mails' Reply-To; required to stay publishable
        event.contact_name = event.contact_name or "Mette Kjær, Del & Genbrug"
        event.contact_email = "mette.kjaer@delgenbrug.example.dk"
    return event


def load_demo() -> DemoLogin:
    """Create the demo event, its staff and participants if missing; return the admin login."""
    password = secrets.token_urlsafe(9)
    admin = db.session.scalar(select(User).where(User.email == ADMIN_EMAIL))
    if admin is None:
        admin = create_admin(ADMIN_EMAIL, password, "Demo Admin")
    else:
        set_password(admin, password)
    event = _demo_event()
    for name, email, role in STAFF:
        user = get_or_create_user(email, name)
        exists = db.session.scalar(
            select(EventRole.id).where(
                EventRole.event_id == event.id, EventRole.user_id == user.id,
                EventRole.role == role,
            )
        )
        if not exists:
            db.session.add(EventRole(event_id=event.id, user_id=user.id, role=role))
    questions = _questions(event)
    have = set(
        db.session.scalars(select(Registration.email).where(Registration.event_id == event.id))
    )
    now = utcnow()
    for n, (name, job_title, org_name, kind, status) in enumerate(PARTICIPANTS):
        email = _email_for(name, org_name)
        if email in have:
            continue
        org = _organization(org_name, kind)
        reg = Registration(
            event_id=event.id, name=name, email=email, organization_id=org.id,
            job_title=job_title, status=status, source="import",
            badge_role=SPEAKER if n in SPEAKERS else PARTICIPANT,
            confirmed_at=now if status == CONFIRMED else None,
            cancelled_at=now if status == CANCELLED else None,
            directory_consent_at=now if n % 3 != 2 else None,
        )
        reg.answers = [
            Answer(question_id=questions[0].id, question_label=questions[0].label,
                   value=[questions[0].options[n % 5], questions[0].options[(n * 2 + 1) % 5]]),
            Answer(question_id=questions[1].id, question_label=questions[1].label,
                   value=n % 4 != 0),
        ]
        db.session.add(reg)
    db.session.flush()
    load_programme(event)
    load_polls(event)
    from eventhub.directory.demo import load_directory

    load_directory(event)
    _followup_demo(event)
    return DemoLogin(ADMIN_EMAIL, password)


def _followup_demo(event: Event) -> None:
    """Leads in every stage with some history (eventhub/followup/demo.py)."""
    from eventhub.community.demo import host_for, load_community
    from eventhub.followup.demo import load_followup

    host_for(event)
    load_followup(event)
    load_community(event)
    from eventhub.meetings.demo import load_meetings

    load_meetings(event)


# Presenters of the municipal cases and keynotes (indexes into PARTICIPANTS).
SPEAKERS = {0, 1, 2, 5, 22}


def _questions(event: Event) -> list[Question]:
    existing = {q.label: q for q in db.session.scalars(
        select(Question).where(Question.event_id == event.id))}
    result = []
    for position, (label, kind, options, required) in enumerate(QUESTIONS, start=1):
        question = existing.get(label)
        if question is None:
            question = Question(event_id=event.id, label=label, kind=kind, options=options,
                                required=required, position=position)
            db.session.add(question)
            db.session.flush()
        result.append(question)
    return result


def _organization(name: str, kind: str | None) -> Organization:
    if kind is None:  # reference data must already be there
        from eventhub.events.models import name_key

        org = db.session.scalar(select(Organization).where(Organization.name_key == name_key(name)))
        if org is None:
            raise LookupError(f"reference organization missing: {name}")
        return org
    return find_or_create_organization(name, kind)


# The programme: (start, end, title, kind, room, track, speaker indexes, external, seats)
ROOMS = [("Store Sal", 200), ("Lokale 2", 40)]
TRACKS = [("Drift og spredning", "#0b5c54"), ("Nye løsninger", "#b8420f")]
SESSIONS = [
    ("08:30", "09:00", "Morgenkaffe og registrering", "break", None, None, [], [], None),
    ("09:00", "09:30", "Velkommen: Del og genbrug det, der virker", "keynote", "Store Sal",
     None, [], [("Anna Kragelund", "Arrangør")], None),
    ("09:30", "10:15", "Keynote: Fra pilot til drift – hvorfor spredning er det svære",
     "keynote", "Store Sal", "Drift og spredning", [22], [], None),
    ("10:15", "10:30", "Pause", "break", None, None, [], [], None),
    ("10:30", "11:00", "Skærmbesøg i hjemmeplejen: 40.000 besøg senere", "case", "Store Sal",
     "Drift og spredning", [0], [], None),
    ("10:30", "11:00", "Sensorer mod fald om natten", "case", "Lokale 2", "Nye løsninger",
     [1], [], None),
    ("11:00", "11:30", "Digital genoptræning efter hofteoperation", "case", "Store Sal",
     "Drift og spredning", [2], [], None),
    ("11:00", "11:30", "Medicinhåndtering med dispenserrobot", "case", "Lokale 2",
     "Nye løsninger", [5], [], None),
    ("11:30", "12:30", "Frokost og netværk", "break", None, None, [], [], None),
    ("12:30", "14:00", "Workshop: Gevinstrealisering med MAST", "workshop", "Lokale 2",
     "Drift og spredning", [], [("Birgitte Hald", "Center for Velfærdsteknologisk Evaluering")],
     30),
    ("12:30", "14:00", "Workshop: Fra 'ikke opfundet her' til 'godt fundet der'", "workshop",
     "Store Sal", "Nye løsninger", [], [("Kim Hedegaard", "EventHub")], 40),
    ("14:00", "14:15", "Kaffe", "break", None, None, [], [], None),
    ("14:15", "15:00", "Pitch: fem løsninger på fem minutter", "pitch", "Store Sal",
     "Nye løsninger", [], [("Frederik Boesen", "Tryghedsteknik ApS"),
                           ("Karina Ebbesen", "Skærmbesøg A/S")], None),
    ("15:00", "15:45", "Afstemning og fælles opsamling", "talk", "Store Sal", None, [], [],
     None),
    ("15:45", "16:00", "Tak for i dag", "break", "Store Sal", None, [], [], None),
]


def load_programme(event: Event) -> None:
    """Rooms, tracks and a day of sessions, if the event has none yet."""
    from eventhub.programme.models import Room, Session, Speaker, Track

    if db.session.scalar(select(Session.id).where(Session.event_id == event.id).limit(1)):
        return
    rooms = {}
    for position, (name, capacity) in enumerate(ROOMS, start=1):
        rooms[name] = Room(event_id=event.id, name=name, capacity=capacity, position=position)
    tracks = {}
    for position, (name, colour) in enumerate(TRACKS, start=1):
        tracks[name] = Track(event_id=event.id, name=name, colour=colour, position=position)
    db.session.add_all([*rooms.values(), *tracks.values()])
    db.session.flush()
    regs = list(db.session.scalars(select(Registration).where(
        Registration.event_id == event.id).order_by(Registration.id)))
    day = event.starts_at.astimezone(LOCAL_TZ).date()
    for start, end, title, kind, room, track, speaker_idx, external, seats in SESSIONS:
        session = Session(
            event_id=event.id, title=title, kind=kind, signup_capacity=seats,
            starts_at=from_local(datetime.combine(day, datetime.strptime(start, "%H:%M").time())),
            ends_at=from_local(datetime.combine(day, datetime.strptime(end, "%H:%M").time())),
            room_id=rooms[room].id if room else None,
            track_id=tracks[track].id if track else None,
        )
        people = [_person(event, reg=regs[index]) for index in speaker_idx]
        people += [_person(event, name=name, organization=org) for name, org in external]
        session.speakers = [Speaker(event_speaker_id=p.id, registration_id=p.registration_id,
                                    name=p.name, organization=p.organization, position=n)
                            for n, p in enumerate(people, start=1)]
        db.session.add(session)
    db.session.flush()


# Speakers from outside: job title (the organization is in SESSIONS), and a bio or two.
SPEAKER_TITLES = {"Anna Kragelund": "Projektleder", "Birgitte Hald": "Forsker",
                  "Kim Hedegaard": "Community manager", "Frederik Boesen": "Produktchef",
                  "Karina Ebbesen": "Direktør"}
SPEAKER_BIOS = {
    "Nanna Sørensen": "Leder sundhedsinnovationen i Region Hovedstaden og har fulgt "
                      "telemedicin fra de første forsøg til drift i hele regionen.",
    "Birgitte Hald": "Forsker i gevinstrealisering og har evalueret velfærdsteknologi i "
                     "over 30 kommuner efter MAST-modellen.",
}


def _person(event: Event, reg: Registration | None = None, name: str = "",
            organization: str = ""):
    """The event's speaker as a person: a registered participant or someone from
    outside; one per person, however many sessions."""
    from eventhub.programme.models import EventSpeaker

    name = reg.name if reg is not None else name
    found = db.session.scalar(select(EventSpeaker).where(
        EventSpeaker.event_id == event.id, EventSpeaker.name == name))
    if found is None:
        found = EventSpeaker(
            event_id=event.id, name=name, registration_id=reg.id if reg else None,
            job_title=reg.job_title if reg else SPEAKER_TITLES.get(name, ""),
            organization=(reg.organization.name if reg and reg.organization else
                          organization), bio=SPEAKER_BIOS.get(name, ""))
        db.session.add(found)
        db.session.flush()
    return found


POLLS = [
    ("Hvad er den største barriere for at genbruge andre kommuners løsninger?", "single",
     ["Ejerskab – løsningen skal være \"vores egen\"",
      "Ingen tid eller luft til at sætte os ind i det", "Budget", "Ledelsens prioriteringer"],
     "open", True, "Keynote"),
    ("Hvor klar er jeres kommune til at tage skærmbesøg i brug?", "scale", [], "draft", False,
     "Skærmbesøg"),
    ("Ét til tre ord: hvad skal der til for at en løsning spreder sig?", "wordcloud", [],
     "open", True, None),
    ("Spørgsmål til keynoten", "qa", [], "open", True, "Keynote"),
    ("Hvilken løsning vil I genbruge først?", "ranking",
     ["Skærmbesøg i hjemmeplejen", "Medicinrobot", "Sensorgulve"], "draft", False, None),
    # A quiz: * marks the right answer.
    ("Hvor mange kommuner har Danmark?", "quiz", ["5", "*98", "275"], "draft", False, None),
]


def load_polls(event: Event) -> None:
    """A few polls on the programme's sessions, if the event has none yet."""
    from eventhub.polls.models import Poll, PollOption, Vote
    from eventhub.programme.models import Session

    if db.session.scalar(select(Poll.id).where(Poll.event_id == event.id).limit(1)):
        return
    sessions = list(db.session.scalars(select(Session).where(Session.event_id == event.id)))
    for position, (question, kind, options, status, visible, session_word) in enumerate(
            POLLS, start=1):
        session = next((s for s in sessions if session_word and session_word in s.title), None)
        poll = Poll(event_id=event.id, question=question, kind=kind, status=status,
                    results_visible=visible, position=position,
                    session_id=session.id if session else None,
                    opened_at=utcnow() if status == "open" else None,
                    time_limit=30 if kind == "quiz" else None,
                    options=[PollOption(label=label.lstrip("*"), position=i,
                                        correct=label.startswith("*"))
                             for i, label in enumerate(options, start=1)])
        db.session.add(poll)
        db.session.flush()
        if kind == "single":  # some early votes so the chart shows something
            for n, weights in enumerate((0, 1, 1, 0, 1, 2, 1, 3, 1, 0, 1, 2)):
                db.session.add(Vote(poll_id=poll.id, voter_key=f"a:demo-{n}",
                                    value=[poll.options[weights].id]))
        if kind == "wordcloud":
            for n, words in enumerate((["ledelse"], ["tid", "netværk"], ["ejerskab"],
                                       ["netværk"], ["data", "evidens"], ["netværk", "mod"])):
                db.session.add(Vote(poll_id=poll.id, voter_key=f"a:demo-{n}", value=words))
    db.session.flush()
