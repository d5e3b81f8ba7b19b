"""Programme rules: rooms, tracks, sessions, speakers, and the warnings while editing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from eventhub.errors import NotFound, ValidationError
from eventhub.events.models import ORGANIZER, Event
from eventhub.events.services import require_role
from eventhub.extensions import db
from eventhub.programme import people
from eventhub.programme.models import (
    CANCELLED,
    SCHEDULED,
    SESSION_KINDS,
    AgendaEntry,
    EventSpeaker,
    Room,
    Session,
    Signup,
    Speaker,
    Track,
)
from eventhub.registration.models import CANCELLED as REG_CANCELLED
from eventhub.registration.models import CONFIRMED, WAITLISTED, Registration
from eventhub.signals import emit
from eventhub.timeutil import to_local

COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


# Rooms and tracks -----------------------------------------------------------------


def rooms(event: Event) -> list[Room]:
    return list(db.session.scalars(
        select(Room).where(Room.event_id == event.id).order_by(Room.position, Room.name)))


def tracks(event: Event) -> list[Track]:
    return list(db.session.scalars(
        select(Track).where(Track.event_id == event.id).order_by(Track.position, Track.name)))


def _unique_name(model, event: Event, name: str, current_id: int | None, message: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(_("Skriv et navn."), "name")
    if len(name) > 120:
        raise ValidationError(_("Navnet er for langt (højst 120 tegn)."), "name")
    clash = db.session.scalar(select(model.id).where(
        model.event_id == event.id, func.lower(model.name) == name.lower(),
        model.id != (current_id or -1)))
    if clash:
        raise ValidationError(message, "name")
    return name


def save_room(actor, event: Event, name: str, capacity: int | None,
              room: Room | None = None) -> Room:
    """Create or rename a room."""
    require_role(actor, event, ORGANIZER)
    name = _unique_name(Room, event, name, room.id if room else None,
                        _("Der er allerede et lokale med det navn."))
    if capacity is not None and capacity < 0:
        raise ValidationError(_("Kapaciteten kan ikke være negativ."), "capacity")
    if room is None:
        room = Room(event_id=event.id, position=len(rooms(event)) + 1)
        db.session.add(room)
    room.name, room.capacity = name, capacity
    db.session.flush()
    return room


def save_track(actor, event: Event, name: str, colour: str, track: Track | None = None) -> Track:
    """Create or change a track."""
    require_role(actor, event, ORGANIZER)
    name = _unique_name(Track, event, name, track.id if track else None,
                        _("Der er allerede et spor med det navn."))
    if not COLOUR_RE.match(colour or ""):
        raise ValidationError(_("Vælg en farve som #RRGGBB."), "colour")
    if track is None:
        track = Track(event_id=event.id, position=len(tracks(event)) + 1)
        db.session.add(track)
    track.name, track.colour = name, colour.lower()
    db.session.flush()
    return track


def get_room(event: Event, room_id: int | None) -> Room | None:
    if room_id is None:
        return None
    room = db.session.get(Room, room_id)
    if room is None or room.event_id != event.id:
        raise ValidationError(_("Lokalet findes ikke."), "room_id")
    return room


def get_track(event: Event, track_id: int | None) -> Track | None:
    if track_id is None:
        return None
    track = db.session.get(Track, track_id)
    if track is None or track.event_id != event.id:
        raise ValidationError(_("Sporet findes ikke."), "track_id")
    return track


# Sessions ----------------------------------------------------------------------------


@dataclass
class SpeakerData:
    name: str
    organization: str = ""
    registration_id: int | None = None
    speaker_id: int | None = None  # one of the event's speakers (people.EventSpeaker)


@dataclass
class SessionData:
    title: str
    kind: str
    starts_at: datetime | None
    ends_at: datetime | None
    room_id: int | None = None
    track_id: int | None = None
    description: str = ""
    signup_capacity: int | None = None
    speakers: list[SpeakerData] = field(default_factory=list)
    title_en: str = ""
    description_en: str = ""


class SessionProblems(ValidationError):
    """Errors (never saved) and warnings (saved only when confirmed)."""

    def __init__(self, errors: list[ValidationError], warnings: list[str]) -> None:
        first = (errors or [ValidationError(warnings[0] if warnings else "")])[0]
        super().__init__(first.message, first.field)
        self.errors, self.warnings = errors, warnings


def list_sessions(event: Event, *, include_cancelled: bool = True) -> list[Session]:
    """The event's sessions by start time, then room."""
    from sqlalchemy.orm import selectinload

    stmt = (select(Session).where(Session.event_id == event.id)
            .options(selectinload(Session.speakers), selectinload(Session.room),
                     selectinload(Session.track))
            .order_by(Session.starts_at, Session.room_id, Session.id))
    if not include_cancelled:
        stmt = stmt.where(Session.status == SCHEDULED)
    return list(db.session.scalars(stmt))


def has_sessions(event: Event) -> bool:
    """Whether the event has a programme yet (one cheap query)."""
    return db.session.scalar(
        select(Session.id).where(Session.event_id == event.id).limit(1)) is not None


def get_session(event: Event, session_id: int) -> Session:
    session = db.session.get(Session, session_id)
    if session is None or session.event_id != event.id:
        raise NotFound(_("Programpunktet findes ikke."))
    return session


def validate_session(event: Event, data: SessionData) -> list[ValidationError]:
    """What is wrong with the session's fields (nothing is saved)."""
    return _errors(event, data)


def _errors(event: Event, data: SessionData) -> list[ValidationError]:
    """Every problem with the fields, in the form's order (the title is tidied)."""
    return (_title_errors(data) + _time_errors(data) + _place_errors(event, data)
            + _speaker_errors(event, data))


def _title_errors(data: SessionData) -> list[ValidationError]:
    data.title = " ".join((data.title or "").split())
    if not data.title:
        return [ValidationError(_("Skriv en titel."), "title")]
    if len(data.title) > 300:
        return [ValidationError(_("Titlen er for lang (højst 300 tegn)."), "title")]
    return []


def _time_errors(data: SessionData) -> list[ValidationError]:
    """Kind, start and end, and the workshop's seats."""
    errors: list[ValidationError] = []
    if data.kind not in SESSION_KINDS:
        errors.append(ValidationError(_("Vælg en gyldig type."), "kind"))
    if data.starts_at is None:
        errors.append(ValidationError(_("Angiv start."), "starts_at"))
    if data.ends_at is None:
        errors.append(ValidationError(_("Angiv slut."), "ends_at"))
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        errors.append(ValidationError(_("Slut skal ligge efter start."), "ends_at"))
    if data.signup_capacity is not None and data.signup_capacity < 0:
        errors.append(ValidationError(_("Pladser kan ikke være negativt."), "signup_capacity"))
    return errors


def _place_errors(event: Event, data: SessionData) -> list[ValidationError]:
    """A room and a track, when chosen, must be the event's own."""
    errors: list[ValidationError] = []
    for attr, getter in (("room_id", get_room), ("track_id", get_track)):
        try:
            getter(event, getattr(data, attr))
        except ValidationError as exc:
            errors.append(exc)
    return errors


def _speaker_errors(event: Event, data: SessionData) -> list[ValidationError]:
    """Speakers are registered participants of the event, or named people."""
    errors: list[ValidationError] = []
    for speaker in data.speakers:
        if speaker.speaker_id is not None:
            person = db.session.get(EventSpeaker, speaker.speaker_id)
            if person is None or person.event_id != event.id:
                errors.append(ValidationError(_("Oplægsholderen findes ikke."), "speakers"))
        elif speaker.registration_id is not None:
            reg = db.session.get(Registration, speaker.registration_id)
            if reg is None or reg.event_id != event.id or reg.status == REG_CANCELLED:
                errors.append(ValidationError(
                    _("Oplægsholderen er ikke tilmeldt arrangementet."), "speakers"))
        elif not speaker.name.strip():
            errors.append(ValidationError(_("Skriv oplægsholderens navn."), "speakers"))
    return errors


def _overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


def _speaker_key(event: Event, speaker: SpeakerData | Speaker) -> str:
    """Who a speaker is, the same for a form's line and a session's entry."""
    if isinstance(speaker, SpeakerData):
        person = speaker.speaker_id or people.find(event, speaker.registration_id,
                                                   speaker.name)
    else:
        person = speaker.event_speaker_id
    if person:
        return f"p{person}"
    if speaker.registration_id:
        return f"r{speaker.registration_id}"
    return "n" + " ".join(speaker.name.split()).casefold()


def session_warnings(event: Event, data: SessionData, current: Session | None) -> list[str]:
    """Clashes worth a second look: a double-booked room or speaker, outside the event."""
    warnings: list[str] = []
    start, end = data.starts_at, data.ends_at
    if start < event.starts_at or end > event.ends_at:
        warnings.append(_("Programpunktet ligger uden for arrangementets tid (%(start)s – "
                          "%(end)s).", start=_fmt(event.starts_at), end=_fmt(event.ends_at)))
    others = [s for s in list_sessions(event, include_cancelled=False)
              if (current is None or s.id != current.id) and _overlaps(start, end, s.starts_at,
                                                                       s.ends_at)]
    for other in others:
        if data.room_id and other.room_id == data.room_id:
            warnings.append(_("Lokalet %(room)s er optaget af \"%(title)s\" (%(when)s).",
                              room=other.room.name, title=other.title, when=_fmt(other.starts_at)))
    mine = {_speaker_key(event, s): s for s in data.speakers}
    for other in others:
        for speaker in other.speakers:
            key = _speaker_key(event, speaker)
            if key in mine:
                warnings.append(_("%(name)s taler også i \"%(title)s\" på samme tid.",
                                  name=speaker.name, title=other.title))
    return warnings


def _fmt(value: datetime) -> str:
    return to_local(value).strftime("%d-%m %H:%M")


def _noticed(session: Session) -> dict:
    """What participants hear about when it changes: time and room."""
    return {"starts_at": session.starts_at.isoformat(), "ends_at": session.ends_at.isoformat(),
            "room": session.room.name if session.room else ""}


def _announce(event: Event, session: Session, before: dict, after: dict, notify: bool) -> None:
    """Say that a published event's session changed (messaging sends the notice)."""
    changes = {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}
    if changes and event.is_public:
        changes["title"] = session.title
        emit("session.changed", event_id=event.id, session_id=session.id, changes=changes,
             notify=notify)


def save_session(actor, event: Event, data: SessionData, *, confirmed: bool = False,
                 session: Session | None = None, notify: bool = True) -> Session:
    """Create or change a session. Errors are never saved; warnings only when confirmed.
    A new time or room of a published event's session is announced unless ``notify`` is
    off (a typo)."""
    require_role(actor, event, ORGANIZER)
    errors = _errors(event, data)
    warnings = [] if errors else session_warnings(event, data, session)
    if errors or (warnings and not confirmed):
        raise SessionProblems(errors, warnings)
    before = None
    if session is None:
        session = Session(event_id=event.id)
        db.session.add(session)
    else:
        before = _noticed(session)
        session.sequence = (session.sequence or 0) + 1
    session.title, session.kind = data.title, data.kind
    session.description = (data.description or "").strip()
    session.title_en = " ".join((data.title_en or "").split())[:300]
    session.description_en = (data.description_en or "").strip()
    session.starts_at, session.ends_at = data.starts_at, data.ends_at
    session.room_id, session.track_id = data.room_id, data.track_id
    session.signup_capacity = data.signup_capacity
    session.speakers = _unique([
        _speaker(event, s, position) for position, s in enumerate(data.speakers, start=1)])
    db.session.flush()
    if before is not None:
        db.session.refresh(session, ["room"])
        _announce(event, session, before, _noticed(session), notify)
    return session


def _speaker(event: Event, data: SpeakerData, position: int) -> Speaker:
    """The session's entry for a speaker: the event's person (made when new)."""
    person = people.person_for(event, speaker_id=data.speaker_id,
                               registration_id=data.registration_id, name=data.name,
                               organization=data.organization)
    return Speaker(event_speaker_id=person.id, registration_id=person.registration_id,
                   name=person.name, organization=person.organization, position=position)


def _unique(entries: list[Speaker]) -> list[Speaker]:
    """Each person once, in the order given (picked as a speaker and named again)."""
    seen: set[int] = set()
    kept = []
    for entry in entries:
        if entry.event_speaker_id not in seen:
            seen.add(entry.event_speaker_id)
            entry.position = len(kept) + 1
            kept.append(entry)
    return kept


def session_data(session: Session) -> SessionData:
    """A session's fields, as a starting point for a copy or a move."""
    return SessionData(
        title=session.title, kind=session.kind, starts_at=session.starts_at,
        ends_at=session.ends_at, room_id=session.room_id, track_id=session.track_id,
        description=session.description, signup_capacity=session.signup_capacity,
        title_en=session.title_en, description_en=session.description_en,
        speakers=[SpeakerData(s.name, s.organization, s.registration_id, s.event_speaker_id)
                  for s in session.speakers],
    )


def duplicate_session(actor, event: Event, session: Session) -> Session:
    """A copy right after the original, in the same room (a new UID)."""
    data = session_data(session)
    length = session.ends_at - session.starts_at
    data.starts_at, data.ends_at = session.ends_at, session.ends_at + length
    data.title = _("%(title)s (kopi)", title=session.title)[:300]
    return save_session(actor, event, data, confirmed=True)


def set_cancelled(actor, event: Event, session: Session, cancelled: bool, *,
                  notify: bool = True) -> None:
    """Cancel (or reinstate) a session; it stays in the programme, marked cancelled.
    Those who chose it hear about it unless ``notify`` is off."""
    require_role(actor, event, ORGANIZER)
    new = CANCELLED if cancelled else SCHEDULED
    if session.status != new:
        old, session.status = session.status, new
        session.sequence = (session.sequence or 0) + 1
        db.session.flush()
        _announce(event, session, {"status": old}, {"status": new}, notify)


def audience_of(event: Event, session: Session) -> int:
    """How many people hear about a change to this programme item (in their day or signed up)."""
    if not event.is_public:
        return 0
    regs = select(AgendaEntry.registration_id).where(AgendaEntry.session_id == session.id) \
        .union(select(Signup.registration_id).where(Signup.session_id == session.id))
    return db.session.scalar(select(func.count()).select_from(
        select(Registration.id).where(Registration.id.in_(regs),
                                      Registration.status.in_((CONFIRMED, WAITLISTED)))
        .subquery())) or 0


def speaker_choices(event: Event) -> list[Registration]:
    """Registered people who can be picked as speakers."""
    return list(db.session.scalars(
        select(Registration).where(Registration.event_id == event.id,
                                   Registration.status != REG_CANCELLED)
        .order_by(Registration.name)))
