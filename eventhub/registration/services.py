"""Registration rules: capacity, waiting list, approval, personal links, tickets.

Everything that decides a seat locks the event row first (``lock_row``) and counts
afterwards, so a rush of simultaneous registrations can never oversell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from eventhub import audit
from eventhub.accounts.services import check_email
from eventhub.db import lock_row, utcnow
from eventhub.errors import DomainError, NotFound, ValidationError
from eventhub.events.models import (
    DRAFT,
    ORGANIZATION_KINDS,
    ORGANIZER,
    PUBLISHED,
    Event,
)
from eventhub.events.services import find_or_create_organization, require_role
from eventhub.extensions import db
from eventhub.registration import questions as q
from eventhub.registration.models import (
    BADGE_ROLES,
    CANCELLED,
    CONFIRMED,
    PARTICIPANT,
    PENDING,
    WAITLISTED,
    Registration,
)
from eventhub.registration.notifications import (
    send_cancelled,
    send_confirmation,
    send_personal_link,
    send_promoted,
)
from eventhub.signals import emit

MAX_NAME = 200


@dataclass
class RegistrationData:
    """What a person (or an organizer, or an import row) gives for one registration."""

    name: str
    email: str
    organization: str
    job_title: str = ""
    organization_kind: str | None = None
    answers: dict[int, Any] = field(default_factory=dict)
    directory_consent: bool = False
    scan_consent: bool = False
    badge_role: str = PARTICIPANT
    # None: leave as it is (imports and the API do not ask).
    phone: str | None = None
    followup_consent: bool | None = None


class RegistrationInvalid(ValidationError):
    """Several field problems at once; nothing was saved."""

    def __init__(self, problems: list[ValidationError]) -> None:
        super().__init__(problems[0].message, problems[0].field)
        self.problems = problems


class AlreadyRegistered(DomainError):
    status_code = 409

    def __init__(self, registration: Registration) -> None:
        super().__init__(_("Der er allerede en tilmelding med den e-mailadresse."), "email")
        self.registration = registration


class RegistrationClosed(DomainError):
    status_code = 409


# Reading ---------------------------------------------------------------------------


def seats_taken(event: Event) -> int:
    """Confirmed registrations: the seats in use."""
    return db.session.scalar(
        select(func.count()).select_from(Registration).where(
            Registration.event_id == event.id, Registration.status == CONFIRMED
        )
    )


def registered_count(event: Event) -> int:
    """Everyone holding a registration that is not cancelled (any status)."""
    return db.session.scalar(
        select(func.count()).select_from(Registration).where(
            Registration.event_id == event.id, Registration.status != CANCELLED))


def seats_left(event: Event) -> int | None:
    """Free seats, or None when the event has no limit."""
    if event.capacity is None:
        return None
    return max(event.capacity - seats_taken(event), 0)


def waitlist_position(registration: Registration) -> int | None:
    """1 for the first on the waiting list; None when not waiting."""
    if registration.status != WAITLISTED:
        return None
    ahead = db.session.scalar(
        select(func.count()).select_from(Registration).where(
            Registration.event_id == registration.event_id,
            Registration.status == WAITLISTED,
            or_(
                Registration.waitlisted_at < registration.waitlisted_at,
                and_(Registration.waitlisted_at == registration.waitlisted_at,
                     Registration.id < registration.id),
            ),
        )
    )
    return ahead + 1


def by_manage_token(token: str) -> Registration:
    """The registration a personal link points at."""
    reg = db.session.scalar(select(Registration).where(Registration.manage_token == token))
    if reg is None or not token:
        raise NotFound(_("Linket er ugyldigt. Tjek at hele linket fra mailen er med."))
    return reg


def by_ticket_code(code: str) -> Registration:
    """The registration a ticket code belongs to."""
    reg = db.session.scalar(select(Registration).where(Registration.ticket_code == code))
    if reg is None or not code:
        raise NotFound(_("Billetten findes ikke. Tjek koden og prøv igen."))
    return reg


def get_registration(event: Event, registration_id: int) -> Registration:
    reg = db.session.get(Registration, registration_id)
    if reg is None or reg.event_id != event.id:
        raise NotFound(_("Tilmeldingen findes ikke."))
    return reg


def registration_of(event: Event, user, remembered_id: int | None) -> Registration | None:
    """Who this visitor is at the event: the registration their personal link opened in
    this browser, or the signed-in user's own (by email). Cancelled ones do not count."""
    reg = db.session.get(Registration, remembered_id) if remembered_id else None
    if reg is None or reg.event_id != event.id:
        reg = None
        if user is not None and getattr(user, "is_authenticated", False):
            reg = db.session.scalar(select(Registration).where(
                Registration.event_id == event.id, Registration.email == user.email))
    return reg if reg is not None and reg.status != CANCELLED else None


def personal_url(reg: Registration) -> str:
    return current_app.config["BASE_URL"] + url_for("registration.personal",
                                                    token=reg.manage_token)


def ticket_url(reg: Registration) -> str:
    return current_app.config["BASE_URL"] + url_for("registration.ticket", code=reg.ticket_code)


def registration_window_problem(event: Event, now: datetime | None = None, *,
                                preview: bool = False) -> str | None:
    """Why people cannot register right now, or None when they can. ``preview``: as it
    will be once a draft is published (the staff's preview)."""
    now = now or utcnow()
    if event.status != PUBLISHED and not (preview and event.status == DRAFT):
        return _("Tilmeldingen er lukket for dette arrangement.")
    if event.registration_opens_at and now < event.registration_opens_at:
        return _("Tilmeldingen er ikke åbnet endnu.")
    if event.registration_closes_at and now > event.registration_closes_at:
        return _("Tilmeldingsfristen er overskredet.")
    if now > event.ends_at:
        return _("Arrangementet er slut.")
    return None


# Checking input ------------------------------------------------------------------


def _check(event: Event, data: RegistrationData, questions) -> tuple[dict, list]:
    problems: list[ValidationError] = []
    data.name = " ".join((data.name or "").split())
    if not data.name:
        problems.append(ValidationError(_("Skriv dit navn."), "name"))
    elif len(data.name) > MAX_NAME:
        problems.append(ValidationError(_("Navnet er for langt (højst 200 tegn)."), "name"))
    try:
        data.email = check_email(data.email)
    except ValidationError as exc:
        problems.append(exc)
    data.organization = " ".join((data.organization or "").split())
    if not data.organization:
        problems.append(ValidationError(_("Skriv navnet på din organisation."), "organization"))
    elif len(data.organization) > 200:
        problems.append(ValidationError(
            _("Organisationens navn er for langt (højst 200 tegn)."), "organization"))
    if data.organization_kind and data.organization_kind not in ORGANIZATION_KINDS:
        problems.append(ValidationError(_("Ukendt organisationstype."), "organization_kind"))
    data.job_title = " ".join((data.job_title or "").split())
    if len(data.job_title) > 200:
        problems.append(ValidationError(_("Stillingen er for lang (højst 200 tegn)."),
                                        "job_title"))
    if data.badge_role not in BADGE_ROLES:
        problems.append(ValidationError(_("Ukendt rolle."), "badge_role"))
    cleaned, answer_problems = q.clean_answers(questions, data.answers)
    return cleaned, problems + answer_problems


# Changing ------------------------------------------------------------------------------


def register(event: Event, data: RegistrationData, *, source: str = "web",
             actor=None, notify: bool = True) -> Registration:
    """Register one person: confirmed, waiting list or awaiting approval.

    People register only in the event's window; organizers (``source`` staff/import)
    may add people any time. Capacity always holds.
    """
    if source != "web":
        require_role(actor, event, ORGANIZER)
    else:
        problem = registration_window_problem(event)
        if problem:
            raise RegistrationClosed(problem)
    questions = q.active_questions(event)
    cleaned, problems = _check(event, data, questions)
    if problems:
        raise RegistrationInvalid(problems)

    organization = find_or_create_organization(data.organization, data.organization_kind)
    lock_row(db.session, Event, event.id)  # held until the request commits: keep it short
    reg = db.session.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.email == data.email
        )
    )
    if reg is not None and reg.status != CANCELLED:
        raise AlreadyRegistered(reg)
    status = _new_status(event)  # counted before this registration is in the session
    if reg is None:
        reg = Registration(event_id=event.id, email=data.email, source=source)
        db.session.add(reg)
    reg.status, reg.cancelled_at = status, None
    reg.confirmed_at = utcnow() if status == CONFIRMED else None
    reg.waitlisted_at = utcnow() if status == WAITLISTED else None
    _apply(reg, data, questions, cleaned, organization)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # same email at the same instant from elsewhere
        raise AlreadyRegistered(reg) from None
    if source == "staff":
        audit.record(actor, event, "registration.add", audit.registration_label(reg))
    emit("registration.created", event_id=event.id, registration_id=reg.id)
    if notify:
        send_confirmation(reg, waitlist_position(reg))
    return reg


def _apply(reg: Registration, data: RegistrationData, questions, cleaned,
           organization=None) -> None:
    reg.name = data.name
    reg.job_title = data.job_title
    reg.organization = organization or find_or_create_organization(
        data.organization, data.organization_kind)
    reg.badge_role = data.badge_role
    if data.directory_consent and reg.directory_consent_at is None:
        reg.directory_consent_at = utcnow()
    elif not data.directory_consent:
        reg.directory_consent_at = None
    if data.phone is not None:
        reg.phone = " ".join(data.phone.split())[:40]
    if data.followup_consent and reg.followup_consent_at is None:
        reg.followup_consent_at = utcnow()
    elif data.followup_consent is False:
        reg.followup_consent_at = None
    if data.scan_consent and reg.scan_consent_at is None:
        reg.scan_consent_at = utcnow()
    elif not data.scan_consent:
        reg.scan_consent_at = None
    q.store_answers(reg, questions, cleaned)


def _new_status(event: Event) -> str:
    """The status a new registration gets now (the event row is locked)."""
    if event.requires_approval:
        return PENDING
    if event.capacity is None or seats_taken(event) < event.capacity:
        return CONFIRMED
    return WAITLISTED


def update_registration(reg: Registration, data: RegistrationData, *, actor=None) -> None:
    """Change name, organization, answers and consent (and, for organizers, email/role)."""
    event = reg.event
    if actor is not None:
        require_role(actor, event, ORGANIZER)
    else:
        data.email, data.badge_role = reg.email, reg.badge_role
    questions = q.active_questions(event)
    cleaned, problems = _check(event, data, questions)
    if problems:
        raise RegistrationInvalid(problems)
    if data.email != reg.email:
        taken = db.session.scalar(select(Registration.id).where(
            Registration.event_id == event.id, Registration.email == data.email))
        if taken:
            raise ValidationError(
                _("Der er allerede en tilmelding med den e-mailadresse."), "email")
        reg.email = data.email
    _apply(reg, data, questions, cleaned)
    db.session.flush()
    if actor is not None:
        audit.record(actor, event, "registration.edit", audit.registration_label(reg))


def set_directory_consent(reg: Registration, consent: bool) -> None:
    """Give (timestamped) or withdraw consent to appear in the directory."""
    if consent and reg.directory_consent_at is None:
        reg.directory_consent_at = utcnow()
    elif not consent:
        reg.directory_consent_at = None
    db.session.flush()


def cancel(reg: Registration, *, actor=None, notify: bool = True) -> list[Registration]:
    """Cancel a registration; a freed seat goes to the waiting list. Returns the promoted."""
    event = reg.event
    if actor is not None:
        require_role(actor, event, ORGANIZER)
    lock_row(db.session, Event, event.id)
    db.session.refresh(reg)
    if reg.status == CANCELLED:
        return []
    reg.status, reg.cancelled_at = CANCELLED, utcnow()
    db.session.flush()
    if actor is not None:
        audit.record(actor, event, "registration.cancel", audit.registration_label(reg))
    emit("registration.cancelled", event_id=event.id, registration_id=reg.id)
    if notify:
        send_cancelled(reg)
    return promote_waitlist(event)


def approve(reg: Registration, *, actor) -> Registration:
    """Approve a pending registration: a seat if there is one, else the waiting list."""
    event = reg.event
    require_role(actor, event, ORGANIZER)
    lock_row(db.session, Event, event.id)
    db.session.refresh(reg)
    if reg.status != PENDING:
        raise ValidationError(_("Kun tilmeldinger, der afventer godkendelse, kan godkendes."))
    with db.session.no_autoflush:
        has_seat = event.capacity is None or seats_taken(event) < event.capacity
    if has_seat:
        reg.status, reg.confirmed_at = CONFIRMED, utcnow()
    else:
        reg.status, reg.waitlisted_at = WAITLISTED, utcnow()
    db.session.flush()
    audit.record(actor, event, "registration.approve", audit.registration_label(reg))
    send_confirmation(reg, waitlist_position(reg))
    return reg


def promote_waitlist(event: Event) -> list[Registration]:
    """Fill free seats from the waiting list in arrival order (event row locked)."""
    promoted: list[Registration] = []
    free = seats_left(event)
    if free is None:
        free = db.session.scalar(select(func.count()).select_from(Registration).where(
            Registration.event_id == event.id, Registration.status == WAITLISTED))
    if not free:
        return promoted
    waiting = db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status == WAITLISTED)
        .order_by(Registration.waitlisted_at, Registration.id)
        .limit(free)
    ).all()
    for reg in waiting:
        reg.status, reg.confirmed_at = CONFIRMED, utcnow()
        promoted.append(reg)
    db.session.flush()
    for reg in promoted:
        send_promoted(reg)
    return promoted


def seats_may_have_freed(event: Event) -> None:
    """More capacity (or no more approval) after an edit: promote from the waiting list."""
    if event.requires_approval:
        return
    lock_row(db.session, Event, event.id)
    promote_waitlist(event)


def resend_link(event: Event, email: str) -> bool:
    """Mail the personal link again to whoever registered with this address."""
    try:
        email = check_email(email)
    except ValidationError:
        return False
    reg = db.session.scalar(select(Registration).where(
        Registration.event_id == event.id, Registration.email == email,
        Registration.status != CANCELLED))
    if reg is None:
        return False
    send_personal_link(reg)
    return True


def resend_ticket(reg: Registration, *, actor) -> None:
    """Send the confirmation with ticket again (organizers)."""
    require_role(actor, reg.event, ORGANIZER)
    audit.record(actor, reg.event, "registration.resend", audit.registration_label(reg))
    send_confirmation(reg, waitlist_position(reg))


# Lists -------------------------------------------------------------------------------


@dataclass
class RegistrationFilter:
    search: str = ""
    status: str = ""
    organization_id: int | None = None
    organization_kind: str = ""
    question_id: int | None = None
    answer: str = ""


def list_registrations(event: Event, flt: RegistrationFilter | None = None
                       ) -> list[Registration]:
    """The event's registrations matching the filter, in arrival order."""
    from sqlalchemy.orm import selectinload

    from eventhub.events.models import Organization

    flt = flt or RegistrationFilter()
    stmt = (
        select(Registration)
        .outerjoin(Organization, Registration.organization_id == Organization.id)
        .where(Registration.event_id == event.id)
        .options(selectinload(Registration.answers), selectinload(Registration.organization))
        .order_by(Registration.id)
    )
    if flt.search.strip():
        like = f"%{flt.search.strip().lower()}%"
        stmt = stmt.where(or_(
            func.lower(Registration.name).like(like),
            func.lower(Registration.email).like(like),
            func.lower(Registration.job_title).like(like),
            Organization.name_key.like(like),
        ))
    if flt.status:
        stmt = stmt.where(Registration.status == flt.status)
    if flt.organization_id:
        stmt = stmt.where(Registration.organization_id == flt.organization_id)
    if flt.organization_kind:
        stmt = stmt.where(Organization.kind == flt.organization_kind)
    regs = list(db.session.scalars(stmt))
    if flt.question_id and flt.answer:
        wanted = flt.answer.strip().lower()
        regs = [r for r in regs if any(
            a.question_id == flt.question_id and wanted in a.as_text().lower()
            for a in r.answers)]
    return regs

