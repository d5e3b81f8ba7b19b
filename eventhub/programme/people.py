"""Speakers as people: name, job title, organization, a short bio and a photo, optionally
a registered participant. A session lists its speakers by person; the person's name and
organization are kept on the session's entries too, as the programme shows them."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from eventhub import audit, images
from eventhub.errors import NotFound, ValidationError
from eventhub.events.models import ORGANIZER, Event
from eventhub.events.services import EventValidationError, require_role
from eventhub.extensions import db
from eventhub.programme.models import EventSpeaker, Session, Speaker
from eventhub.registration.badges import SpeakerBadge
from eventhub.registration.models import CANCELLED, Registration

MAX_BIO = 2000


@dataclass
class PersonData:
    name: str
    job_title: str = ""
    organization: str = ""
    bio: str = ""
    registration_id: int | None = None
    photo: images.Picture | None = None
    remove_photo: bool = False


def speakers(event: Event) -> list[EventSpeaker]:
    """The event's speakers by name."""
    return list(db.session.scalars(select(EventSpeaker).where(
        EventSpeaker.event_id == event.id).order_by(func.lower(EventSpeaker.name))))


def get_speaker(event: Event, speaker_id: int) -> EventSpeaker:
    person = db.session.get(EventSpeaker, speaker_id)
    if person is None or person.event_id != event.id:
        raise NotFound(_("Oplægsholderen findes ikke."))
    return person


def sessions_of(person: EventSpeaker) -> list[Session]:
    """The sessions the person speaks in, by time."""
    return list(db.session.scalars(select(Session).join(
        Speaker, Speaker.session_id == Session.id).where(
        Speaker.event_speaker_id == person.id).order_by(Session.starts_at)))


def _registration(event: Event, registration_id: int | None) -> Registration | None:
    if registration_id is None:
        return None
    reg = db.session.get(Registration, registration_id)
    if reg is None or reg.event_id != event.id or reg.status == CANCELLED:
        raise ValidationError(_("Deltageren er ikke tilmeldt arrangementet."),
                              "registration_id")
    return reg


def _clean(event: Event, data: PersonData, person: EventSpeaker | None
           ) -> list[ValidationError]:
    problems = []
    for name in ("name", "job_title", "organization"):
        setattr(data, name, " ".join((getattr(data, name) or "").split()))
    data.bio = (data.bio or "").strip()
    try:
        reg = _registration(event, data.registration_id)
    except ValidationError as exc:
        return [exc]
    if reg is not None:  # a registered participant: what they registered with, by default
        data.name = data.name or reg.name
        data.job_title = data.job_title or reg.job_title
        data.organization = data.organization or (
            reg.organization.name if reg.organization else "")
        taken = db.session.scalar(select(EventSpeaker.id).where(
            EventSpeaker.event_id == event.id, EventSpeaker.registration_id == reg.id,
            EventSpeaker.id != (person.id if person else -1)))
        if taken:
            problems.append(ValidationError(_("Deltageren er allerede oplægsholder."),
                                            "registration_id"))
    if not data.name:
        problems.append(ValidationError(_("Skriv oplægsholderens navn."), "name"))
    for name, limit in (("name", 200), ("job_title", 200), ("organization", 200),
                        ("bio", MAX_BIO)):
        if len(getattr(data, name)) > limit:
            problems.append(ValidationError(_("Højst %(max)d tegn.", max=limit), name))
    return problems


def save_speaker(actor, event: Event, data: PersonData,
                 person: EventSpeaker | None = None) -> EventSpeaker:
    """Add or change a speaker; their session entries follow the new name."""
    require_role(actor, event, ORGANIZER)
    problems = _clean(event, data, person)
    if problems:
        raise EventValidationError(problems)
    if person is None:
        person = EventSpeaker(event_id=event.id)
        db.session.add(person)
    person.name, person.job_title = data.name, data.job_title
    person.organization, person.bio = data.organization, data.bio
    person.registration_id = data.registration_id
    old_photo = person.photo_image_id
    if data.photo is not None:
        person.photo_image_id = images.store(data.photo).id
    elif data.remove_photo:
        person.photo_image_id = None
    db.session.flush()
    if person.photo_image_id != old_photo:
        images.forget(old_photo)
    for entry in db.session.scalars(select(Speaker).where(
            Speaker.event_speaker_id == person.id)):
        entry.name, entry.organization = person.name, person.organization
        entry.registration_id = person.registration_id
    db.session.flush()
    audit.record(actor, event, "programme.edit", f"speaker #{person.id} edit")
    return person


def delete_speaker(actor, event: Event, person: EventSpeaker) -> None:
    """Remove a speaker from the event and from every session."""
    require_role(actor, event, ORGANIZER)
    photo = person.photo_image_id
    audit.record(actor, event, "programme.edit", f"speaker #{person.id} delete")
    db.session.delete(person)
    db.session.flush()
    images.forget(photo)


def find(event: Event, registration_id: int | None, name: str) -> int | None:
    """The id of the event's speaker with this registration or name, if there is one."""
    if registration_id is not None:
        condition = EventSpeaker.registration_id == registration_id
    else:
        condition = func.lower(EventSpeaker.name) == " ".join((name or "").split()).lower()
    return db.session.scalar(select(EventSpeaker.id).where(
        EventSpeaker.event_id == event.id, condition).limit(1))


def badge_speakers(event: Event) -> list[SpeakerBadge]:
    """Every speaker of the event, for the TALER badges."""
    return [SpeakerBadge(p.name, p.job_title, p.organization, p.registration_id)
            for p in speakers(event)]


def person_for(event: Event, *, speaker_id: int | None = None,
               registration_id: int | None = None, name: str = "",
               organization: str = "") -> EventSpeaker:
    """The event's speaker by id, by registration or by name, made when new (a session's
    form names speakers these three ways)."""
    if speaker_id is not None:
        return get_speaker(event, speaker_id)
    if registration_id is not None:
        reg = _registration(event, registration_id)
        found = db.session.scalar(select(EventSpeaker).where(
            EventSpeaker.event_id == event.id, EventSpeaker.registration_id == reg.id))
        if found is None:
            found = EventSpeaker(event_id=event.id, registration_id=reg.id, name=reg.name,
                                 job_title=reg.job_title, organization=reg.organization.name
                                 if reg.organization else "")
            db.session.add(found)
            db.session.flush()
        return found
    name = " ".join((name or "").split())[:200]
    found = db.session.scalar(select(EventSpeaker).where(
        EventSpeaker.event_id == event.id, func.lower(EventSpeaker.name) == name.lower()))
    if found is None:
        found = EventSpeaker(event_id=event.id, name=name,
                             organization=" ".join((organization or "").split())[:200])
        db.session.add(found)
        db.session.flush()
    return found
