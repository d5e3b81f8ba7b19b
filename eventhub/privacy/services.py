"""My data and the retention purge, built from what the domains register."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, delete, exists, or_, select

from eventhub import audit
from eventhub import privacy_registry as registry
from eventhub.accounts import sessions
from eventhub.accounts.models import MagicLink, User
from eventhub.db import utcnow
from eventhub.errors import NotFound, ValidationError
from eventhub.events.models import Event, EventRole
from eventhub.extensions import db
from eventhub.mail import OutboxMail
from eventhub.privacy_registry import Correction, Subject
from eventhub.registration import services as registrations
from eventhub.registration.models import CANCELLED, Registration
from eventhub.registration.privacy import iso, scrub_mails


def _held(stmt):
    """Only registrations not yet anonymized."""
    return stmt.where(~Registration.email.endswith("@" + registry.PLACEHOLDER_DOMAIN))


def subject_for_user(user: User) -> Subject:
    """A signed-in person: every registration under their address or account."""
    ids = db.session.scalars(_held(select(Registration.id).where(or_(
        Registration.email == user.email, Registration.user_id == user.id))
        .order_by(Registration.id)))
    return Subject(user.email, list(ids), user.id, whole_account=True)


def subject_for_registration(reg: Registration) -> Subject:
    """Someone with one personal link: that registration only. (Nobody proved owning the
    address by registering with it, so other events need a sign-in by mail.)"""
    ids = [] if registry.is_placeholder(reg.email) else [reg.id]
    return Subject(reg.email, ids)


def _account_rows(subject: Subject) -> list[dict[str, Any]]:
    user = db.session.get(User, subject.user_id) if subject.user_id else None
    if user is None:
        return []
    # Where the account is signed in; the sign-in tokens are never part of it.
    signed_in = [{"browser": s.user_agent, "signed_in_at": iso(s.created_at),
                  "last_seen_at": iso(s.last_seen_at)} for s in sessions.of_user(user)]
    return [{"email": user.email, "name": user.name, "created_at": iso(user.created_at),
             "last_login_at": iso(user.last_login_at), "signed_in": signed_in}]


def sections(subject: Subject) -> list[tuple[registry.Section, list[dict[str, Any]]]]:
    """Every section with its rows for this person (empty ones included)."""
    return [(section, section.collect(subject)) for section in registry.all_sections()]


def consents(subject: Subject) -> list[tuple[registry.Consent, list[str]]]:
    return [(consent, consent.given(subject)) for consent in registry.all_consents()]


def export(subject: Subject) -> dict[str, Any]:
    """Everything held about the person, as one JSON-ready document."""
    return {
        "generated_at": iso(utcnow()),
        "email": subject.email,
        "account": _account_rows(subject),
        **{section.key: rows for section, rows in sections(subject)},
        "consents": {consent.key: given for consent, given in consents(subject)},
    }


def correct(subject: Subject, name: str, job_title: str, organization: str) -> None:
    """Correct name, job title and organization everywhere the person appears."""
    name, job_title = " ".join((name or "").split()), " ".join((job_title or "").split())
    organization = " ".join((organization or "").split())
    if not name:
        raise ValidationError(_("Skriv dit navn."), "name")
    if len(name) > 200 or len(job_title) > 200:
        raise ValidationError(_("Højst %(max)d tegn.", max=200),
                              "name" if len(name) > 200 else "job_title")
    if not organization:
        raise ValidationError(_("Skriv navnet på din organisation."), "organization")
    correction = Correction(name, job_title, organization)
    for fn in registry.correctors():
        fn(subject, correction)
    if subject.user_id:
        db.session.get(User, subject.user_id).name = name
    db.session.flush()


def withdraw(subject: Subject, key: str) -> None:
    """Withdraw one consent for everything in scope."""
    for consent in registry.all_consents():
        if consent.key == key:
            consent.withdraw(subject)
            db.session.flush()
            return
    raise NotFound(_("Samtykket findes ikke."))


def forget(registration_ids: list[int]) -> None:
    """Run every domain's forgetter on these registrations."""
    if registration_ids:
        for fn in registry.forgetters():
            fn(registration_ids)
        db.session.flush()


def delete_participation(subject: Subject, registration_id: int) -> None:
    """Anonymize one of the person's registrations; a seat at a coming event is given
    back first (the waiting list moves up), figures of past events still add up."""
    if registration_id not in subject.registration_ids:
        raise NotFound(_("Tilmeldingen findes ikke."))
    reg = db.session.get(Registration, registration_id)
    if reg.status != CANCELLED and reg.event.ends_at > utcnow():
        registrations.cancel(reg, notify=False)
    forget([registration_id])


# The retention purge ---------------------------------------------------------------


@dataclass
class PurgeReport:
    events: list[str] = field(default_factory=list)
    registrations: int = 0
    other_rows: int = 0
    users: int = 0


def expired_events(today: date | None = None) -> list[Event]:
    """Events whose retention date has passed."""
    today = today or utcnow().date()
    return list(db.session.scalars(select(Event).where(
        Event.retention_until.is_not(None), Event.retention_until < today).order_by(Event.id)))


def purge_expired(today: date | None = None) -> PurgeReport:
    """Anonymize every person's data in events past their retention date (idempotent)."""
    report = PurgeReport()
    sessions.purge_expired()  # sign-ins unused for the session lifetime, every day
    events = expired_events(today)
    if not events:
        return report
    event_ids = [e.id for e in events]
    rows = db.session.execute(_held(select(
        Registration.id, Registration.email, Registration.event_id).where(
        Registration.event_id.in_(event_ids)))).all()
    emails = {email for _id, email, _event in rows}
    forget([rid for rid, _email, _event in rows])
    report.registrations = len(rows)
    for fn in registry.purgers():
        report.other_rows += fn(event_ids) or 0
    report.users = _forget_people_no_longer_held(emails)
    for event in events:
        report.events.append(event.slug)
        audit.record(None, event, "privacy.purge",
                     str(sum(1 for *_r, event_id in rows if event_id == event.id)))
    db.session.flush()
    return report


def _forget_people_no_longer_held(emails: set[str]) -> int:
    """Addresses left with no registration: their participant account (no password, no
    role), sign-in links and mails that belong to no event go too."""
    gone = 0
    for email in emails:
        still_registered = db.session.scalar(select(exists().where(
            Registration.email == email)))
        if still_registered:
            continue
        user = db.session.scalar(select(User).where(User.email == email))
        staff = user is not None and (user.is_admin or user.password_hash or db.session.scalar(
            select(exists().where(EventRole.user_id == user.id))))
        if user is not None and not staff:
            db.session.delete(user)
            gone += 1
        if not staff:
            db.session.execute(delete(MagicLink).where(MagicLink.email == email))
            scrub_mails(and_(OutboxMail.to_addr == email, OutboxMail.event_id.is_(None)))
    db.session.execute(delete(MagicLink).where(
        MagicLink.expires_at < utcnow() - timedelta(days=1)))
    db.session.flush()
    return gone

