"""What the directory holds about a person: profile, interests, contact requests, being an
experience's contact person; and how it is forgotten."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, update

from eventhub import privacy_registry as registry
from eventhub.directory.models import (
    ACCEPTED,
    DECLINED,
    INTEREST_KINDS,
    PENDING,
    ContactRequest,
    Experience,
    Interest,
    Profile,
    SearchDoc,
    Solution,
)
from eventhub.events.models import Event, Organization
from eventhub.extensions import db
from eventhub.registration.models import Registration
from eventhub.registration.privacy import iso, label_of


def _profiles(subject: registry.Subject) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Profile, Event.title).join(Registration, Registration.id == Profile.registration_id)
        .join(Event, Event.id == Registration.event_id)
        .where(Profile.registration_id.in_(subject.registration_ids)))
    return [{"event": title, "bio": p.bio, "can_help_with": p.can_help_with,
             "looking_for": p.looking_for, "categories": p.looking_for_categories}
            for p, title in rows]


def _interests(subject: registry.Subject) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Interest, Solution.name).join(Solution, Solution.id == Interest.solution_id)
        .where(Interest.registration_id.in_(subject.registration_ids))
        .order_by(Interest.created_at))
    return [{"solution": name, "kind": str(INTEREST_KINDS.get(i.kind, i.kind)),
             "created_at": iso(i.created_at)} for i, name in rows]


def _contacts(subject: registry.Subject) -> list[dict[str, Any]]:
    ids = set(subject.registration_ids)
    rows = db.session.scalars(select(ContactRequest).where(or_(
        ContactRequest.sender_id.in_(ids), ContactRequest.recipient_id.in_(ids)))
        .order_by(ContactRequest.created_at))
    out = []
    for r in rows:
        sent = r.sender_id in ids
        other = r.recipient if sent else r.sender
        out.append({"direction": "sent" if sent else "received", "other": other.name,
                    "status": r.status, "message": r.message,
                    "created_at": iso(r.created_at)})
    return out


def _contact_for(subject: registry.Subject) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Solution.name, Organization.name).select_from(Experience)
        .join(Solution, Solution.id == Experience.solution_id)
        .join(Organization, Organization.id == Experience.organization_id)
        .where(Experience.contact_registration_id.in_(subject.registration_ids)))
    return [{"solution": sol, "organization": org} for sol, org in rows]


CONTACT_STATUS_LABELS = {PENDING: _l("Venter på svar"), ACCEPTED: _l("Accepteret"),
                         DECLINED: _l("Afslået")}

SECTIONS = [
    registry.Section("directory_profile", _l("Din profil i netværket"), _profiles, {
        "event": _l("Arrangement"), "bio": _l("Kort om mig"),
        "can_help_with": _l("Jeg kan hjælpe med"), "looking_for": _l("Jeg leder efter")},
        order=50),
    registry.Section("interests", _l("Løsninger, du har markeret"), _interests, {
        "solution": _l("Løsning"), "kind": _l("Markering")}, order=55),
    registry.Section("contact_requests", _l("Kontaktanmodninger"), _contacts, {
        "direction": _l("Retning"), "other": _l("Den anden"), "status": _l("Status"),
        "message": _l("Besked")}, order=60, shown={
            "direction": label_of({"sent": _l("Sendt af dig"), "received": _l("Til dig")}),
            "status": label_of(CONTACT_STATUS_LABELS)}),
    registry.Section("experience_contact", _l("Du er kontaktperson for erfaringer"),
                     _contact_for, {"solution": _l("Løsning"),
                                    "organization": _l("Organisation")}, order=65),
]


def _forget(registration_ids: list[int]) -> None:
    """Profiles and search documents go; interests stay (they are counted) on the
    anonymized registration; messages are blanked; nobody is a contact person any more."""
    db.session.execute(delete(Profile).where(Profile.registration_id.in_(registration_ids)))
    db.session.execute(delete(SearchDoc).where(SearchDoc.kind == "person",
                                               SearchDoc.ref_id.in_(registration_ids)))
    db.session.execute(
        update(ContactRequest).where(or_(ContactRequest.sender_id.in_(registration_ids),
                                         ContactRequest.recipient_id.in_(registration_ids)))
        .values(message="").execution_options(synchronize_session=False))
    db.session.execute(
        update(Experience).where(Experience.contact_registration_id.in_(registration_ids))
        .values(contact_registration_id=None).execution_options(synchronize_session=False))


def register(app: Flask) -> None:
    """Add this domain's part of "my data", correcting and forgetting to the app."""
    for section in SECTIONS:
        registry.add_section(app, section)
    registry.add_forgetter(app, _forget, order=50)
