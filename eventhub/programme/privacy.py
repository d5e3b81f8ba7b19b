"""What the programme holds about a person: "my day", workshop sign-ups, speaker entries."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from eventhub import images
from eventhub import privacy_registry as registry
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.programme.models import (
    AgendaEntry,
    AgendaFeed,
    EventSpeaker,
    Session,
    Signup,
    Speaker,
)
from eventhub.registration.privacy import iso

SIGNUP_LABELS = {"signed_up": _l("Tilmeldt"), "waiting": _l("På venteliste")}


def _rows(model, subject: registry.Subject):
    return db.session.execute(
        select(model, Session.title, Session.starts_at, Event.title)
        .join(Session, model.session_id == Session.id)
        .join(Event, Session.event_id == Event.id)
        .where(model.registration_id.in_(subject.registration_ids))
        .order_by(Session.starts_at)).all()


def _agenda(subject: registry.Subject) -> list[dict[str, Any]]:
    return [{"event": event, "session": title, "starts_at": iso(starts)}
            for _e, title, starts, event in _rows(AgendaEntry, subject)]


def _signups(subject: registry.Subject) -> list[dict[str, Any]]:
    return [{"event": event, "session": title, "starts_at": iso(starts),
             "status": str(SIGNUP_LABELS.get(s.status, s.status))}
            for s, title, starts, event in _rows(Signup, subject)]


def _speaking(subject: registry.Subject) -> list[dict[str, Any]]:
    return [{"event": event, "session": title, "starts_at": iso(starts),
             "name": s.name, "organization": s.organization}
            for s, title, starts, event in _rows(Speaker, subject)]


SECTIONS = [
    registry.Section("agenda", _l("Min dag (programpunkter du har markeret)"), _agenda, {
        "event": _l("Arrangement"), "session": _l("Programpunkt")}, order=30),
    registry.Section("workshop_signups", _l("Tilmeldinger til workshops"), _signups, {
        "event": _l("Arrangement"), "session": _l("Programpunkt"), "status": _l("Status")},
        order=40),
    registry.Section("speaker", _l("Du står i programmet som oplægsholder"), _speaking, {
        "event": _l("Arrangement"), "session": _l("Programpunkt"), "name": _l("Navn")},
        order=45),
]


def _person_rows(subject: registry.Subject) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(EventSpeaker, Event.title).join(Event, Event.id == EventSpeaker.event_id)
        .where(EventSpeaker.registration_id.in_(subject.registration_ids))).all()
    return [{"event": title, "name": p.name, "job_title": p.job_title,
             "organization": p.organization, "bio": p.bio,
             "photo": bool(p.photo_image_id)} for p, title in rows]


SECTIONS.append(registry.Section(
    "speaker_profile", _l("Din præsentation som oplægsholder"), _person_rows, {
        "event": _l("Arrangement"), "name": _l("Navn"), "job_title": _l("Stilling"),
        "bio": _l("Kort om dig"), "photo": _l("Foto")}, order=46))


def _blank_people(where) -> int:
    """Speakers lose name, job title, organization, bio and photo."""
    photos = list(db.session.scalars(select(EventSpeaker.photo_image_id).where(
        where, EventSpeaker.photo_image_id.is_not(None))))
    result = db.session.execute(
        update(EventSpeaker).where(where, EventSpeaker.name != registry.DELETED_NAME)
        .values(name=registry.DELETED_NAME, job_title="", organization="", bio="",
                photo_image_id=None, registration_id=None)
        .execution_options(synchronize_session=False))
    for photo in photos:
        images.forget(photo)
    return result.rowcount or 0


def _correct(subject: registry.Subject, correction: registry.Correction) -> None:
    db.session.execute(
        update(EventSpeaker).where(EventSpeaker.registration_id.in_(subject.registration_ids))
        .values(name=correction.name[:200], job_title=correction.job_title[:200],
                organization=correction.organization[:200])
        .execution_options(synchronize_session=False))
    db.session.execute(
        update(Speaker).where(Speaker.registration_id.in_(subject.registration_ids))
        .values(name=correction.name[:200], organization=correction.organization[:200])
        .execution_options(synchronize_session=False))


def _forget(registration_ids: list[int]) -> None:
    """"My day" and the calendar feed go; workshop seats stay (anonymous) for the counts;
    a speaker entry (and the speaker's profile) loses the name."""
    _blank_people(EventSpeaker.registration_id.in_(registration_ids))
    db.session.execute(delete(AgendaEntry).where(AgendaEntry.registration_id.in_(
        registration_ids)))
    db.session.execute(delete(AgendaFeed).where(AgendaFeed.registration_id.in_(
        registration_ids)))
    db.session.execute(
        update(Speaker).where(Speaker.registration_id.in_(registration_ids))
        .values(name=registry.DELETED_NAME, organization="", registration_id=None)
        .execution_options(synchronize_session=False))


def _purge(event_ids: list[int]) -> int:
    """Every speaker of the events, external ones too, loses name and organization (and
    their profile its job title, bio and photo)."""
    people = _blank_people(EventSpeaker.event_id.in_(event_ids))
    sessions = select(Session.id).where(Session.event_id.in_(event_ids))
    result = db.session.execute(
        update(Speaker).where(Speaker.session_id.in_(sessions),
                              Speaker.name != registry.DELETED_NAME)
        .values(name=registry.DELETED_NAME, organization="", registration_id=None)
        .execution_options(synchronize_session=False))
    return (result.rowcount or 0) + people


def register(app: Flask) -> None:
    """Add this domain's part of "my data", correcting and forgetting to the app."""
    for section in SECTIONS:
        registry.add_section(app, section)
    registry.add_corrector(app, _correct, order=20)
    registry.add_forgetter(app, _forget)
    registry.add_purger(app, _purge)
