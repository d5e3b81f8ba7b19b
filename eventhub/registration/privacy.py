"""What registration holds about a person, for "my data" and the retention purge:
registrations, answers, directory consent, and the mails sent about them."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, select, update

from eventhub import privacy_registry as registry
from eventhub.events.services import find_or_create_organization
from eventhub.extensions import db
from eventhub.mail import FAILED, QUEUED, SENT, SKIPPED, OutboxMail
from eventhub.registration.models import (
    STATUS_LABELS,
    Answer,
    Registration,
    new_manage_token,
    new_scan_code,
    new_scan_token,
    new_ticket_code,
)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _registrations(subject: registry.Subject) -> list[Registration]:
    if not subject.registration_ids:
        return []
    return list(db.session.scalars(
        select(Registration).where(Registration.id.in_(subject.registration_ids))
        .order_by(Registration.id)))


def _registration_rows(subject: registry.Subject) -> list[dict[str, Any]]:
    return [{
        "event": reg.event.title, "event_slug": reg.event.slug,
        "status": str(STATUS_LABELS.get(reg.status, reg.status)),
        "name": reg.name, "email": reg.email,
        "organization": reg.organization.name if reg.organization else "",
        "job_title": reg.job_title, "registered_at": iso(reg.created_at),
        "checked_in_at": iso(reg.checked_in_at),
        "directory_consent_at": iso(reg.directory_consent_at), "source": reg.source,
    } for reg in _registrations(subject)]


def _answer_rows(subject: registry.Subject) -> list[dict[str, Any]]:
    return [{"event": reg.event.title, "question": answer.question_label
             or answer.question.label, "answer": answer.as_text()}
            for reg in _registrations(subject) for answer in reg.answers]


def _mail_filter(subject: registry.Subject):
    """Mails to the address; through one personal link only those about its event."""
    if subject.whole_account:
        return OutboxMail.to_addr == subject.email
    event_ids = select(Registration.event_id).where(
        Registration.id.in_(subject.registration_ids))
    return and_(OutboxMail.to_addr == subject.email, OutboxMail.event_id.in_(event_ids))


def _mail_rows(subject: registry.Subject) -> list[dict[str, Any]]:
    mails = db.session.scalars(
        select(OutboxMail).where(_mail_filter(subject)).order_by(OutboxMail.id))
    return [{"created_at": iso(m.created_at), "subject": m.subject or m.kind,
             "status": m.status, "sent_at": iso(m.sent_at), "to": m.to_addr,
             "body": m.body_text} for m in mails]


MAIL_STATUS_LABELS = {QUEUED: _l("Venter på at blive sendt"), SENT: _l("Sendt"),
                      FAILED: _l("Kunne ikke sendes"), SKIPPED: _l("Ikke sendt")}


def label_of(labels: dict[str, Any]) -> Any:
    """A column's display function: the code's label (the code itself if unknown)."""
    return lambda value: labels.get(value, value)


SECTIONS = [
    registry.Section("registrations", _l("Tilmeldinger"), _registration_rows, {
        "event": _l("Arrangement"), "status": _l("Status"), "name": _l("Navn"),
        "email": _l("E-mail"), "organization": _l("Organisation"),
        "job_title": _l("Stilling")}, order=10),
    registry.Section("answers", _l("Svar på arrangørens spørgsmål"), _answer_rows, {
        "event": _l("Arrangement"), "question": _l("Spørgsmål"), "answer": _l("Svar")},
        order=20),
    registry.Section("mails", _l("Mails til dig"), _mail_rows, {
        "created_at": _l("Tidspunkt"), "subject": _l("Emne"), "status": _l("Status")},
        order=90, shown={"status": label_of(MAIL_STATUS_LABELS)}),
]


def _consented_events(subject: registry.Subject) -> list[str]:
    return [reg.event.title for reg in _registrations(subject)
            if reg.directory_consent_at is not None]


def _withdraw_directory(subject: registry.Subject) -> None:
    for reg in _registrations(subject):
        reg.directory_consent_at = None
    db.session.flush()


CONSENT = registry.Consent(
    "directory", _l("Synlig i arrangementets netværksoversigt"), _consented_events,
    _withdraw_directory)


def _correct(subject: registry.Subject, correction: registry.Correction) -> None:
    organization = find_or_create_organization(correction.organization)
    for reg in _registrations(subject):
        reg.name, reg.job_title = correction.name, correction.job_title
        reg.organization = organization
    db.session.flush()


def scrub_mails(where) -> int:
    """Blank the address, body and attachments of matching mails; unsent ones are
    dropped from the queue (there is no one to send them to any more)."""
    placeholder = f"slettet@{registry.PLACEHOLDER_DOMAIN}"
    db.session.execute(
        update(OutboxMail).where(where, OutboxMail.status == QUEUED)
        .values(status=SKIPPED).execution_options(synchronize_session=False))
    done = db.session.execute(
        update(OutboxMail).where(where, OutboxMail.to_addr != placeholder)
        .values(to_addr=placeholder, body_text="", body_html=None, attachments=[],
                builder_args=None, last_error=None)
        .execution_options(synchronize_session=False))
    return done.rowcount or 0


def _anonymize(registration_ids: list[int]) -> None:
    """Name → "Slettet deltager", address → a unique placeholder, answers removed, links
    and consent gone; status, organization and times stay, so figures add up."""
    for reg in db.session.scalars(
            select(Registration).where(Registration.id.in_(registration_ids))):
        if registry.is_placeholder(reg.email):
            continue
        scrub_mails(and_(OutboxMail.to_addr == reg.email, OutboxMail.event_id == reg.event_id))
        db.session.execute(delete(Answer).where(Answer.registration_id == reg.id))
        reg.name = registry.DELETED_NAME
        reg.email = registry.placeholder_email(reg.id, secrets.token_hex(4))
        reg.job_title = ""
        reg.directory_consent_at = None
        reg.scan_consent_at = None
        reg.scan_token, reg.scan_code = new_scan_token(), new_scan_code()
        reg.user_id = None
        reg.manage_token, reg.ticket_code = new_manage_token(), new_ticket_code()
    db.session.flush()
    db.session.expire_all()


def _purge_mails(event_ids: list[int]) -> int:
    """Mails about the events (receipts, reminders, invitations) lose address and body."""
    return scrub_mails(OutboxMail.event_id.in_(event_ids))


def register(app: Flask) -> None:
    """Add this domain's part of "my data", correcting and forgetting to the app."""
    for section in SECTIONS:
        registry.add_section(app, section)
    registry.add_consent(app, CONSENT)
    registry.add_corrector(app, _correct, order=10)
    registry.add_forgetter(app, _anonymize, order=900)
    registry.add_purger(app, _purge_mails, order=900)
