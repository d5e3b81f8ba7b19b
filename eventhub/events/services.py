"""Event rules: who may see and change an event, organizations, staff roles."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import exists, func, or_, select

from eventhub import audit, contributions
from eventhub.accounts.models import User
from eventhub.accounts.services import check_email, create_magic_link, get_or_create_user
from eventhub.errors import Forbidden, NotFound, ValidationError
from eventhub.events.models import (
    DRAFT,
    EVENT_ROLES,
    EVENT_STATUSES,
    LANGUAGES,
    ORGANIZATION_KINDS,
    ORGANIZER,
    OTHER,
    PUBLISHED,
    ROLE_LABELS,
    Event,
    EventRole,
    Organization,
    name_key,
)
from eventhub.extensions import db
from eventhub.mail import queue_mail
from eventhub.signals import emit

# Run after an event's details were saved: ``fn(event)``, added by domains above in
# their init_app (registration fills seats an edit freed).
EVENT_SAVED = "events.saved"


def on_event_saved(app: Flask, fn: Callable[[Event], None]) -> None:
    """Run ``fn(event)`` after an event's details were saved."""
    contributions.add(app, EVENT_SAVED, fn)

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TRANSLIT = str.maketrans(
    {"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "u", "ö": "oe", "ä": "ae"}
)


def slugify(text: str) -> str:
    """A URL slug from a title: "Del & Genbrug 2026" → "del-genbrug-2026"."""
    text = (text or "").lower().translate(_TRANSLIT)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:80].strip("-")


# Access ------------------------------------------------------------------------


def is_authenticated(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def roles_of(user: User | None, event: Event) -> set[str]:
    """The roles this user holds on this event (empty for anonymous users)."""
    if not is_authenticated(user):
        return set()
    return set(
        db.session.scalars(
            select(EventRole.role).where(
                EventRole.event_id == event.id, EventRole.user_id == user.id
            )
        )
    )


def has_role(user: User | None, event: Event, *roles: str) -> bool:
    """Admins hold every role; others hold what EventRole rows give them."""
    if not is_authenticated(user):
        return False
    if user.is_admin:
        return True
    held = roles_of(user, event)
    return bool(held & set(roles or EVENT_ROLES))


def require_role(user: User | None, event: Event, *roles: str) -> None:
    """Raise Forbidden unless the user holds one of ``roles`` on the event."""
    if not has_role(user, event, *roles):
        raise Forbidden(_("Du har ikke adgang til at gøre dette for dette arrangement."))


def is_staff(user: User | None, event: Event) -> bool:
    return has_role(user, event, *EVENT_ROLES)


def works_on_any_event(user: User | None) -> bool:
    """Whether the user holds a staff role on some event."""
    if not is_authenticated(user):
        return False
    return bool(db.session.scalar(select(exists().where(EventRole.user_id == user.id))))


def can_create_events(user: User | None) -> bool:
    """Admins and anyone who organizes an event may create events."""
    if not is_authenticated(user):
        return False
    if user.is_admin:
        return True
    return bool(
        db.session.scalar(
            select(
                exists().where(EventRole.user_id == user.id, EventRole.role == ORGANIZER)
            )
        )
    )


# Reading events ----------------------------------------------------------------


def published_events() -> list[Event]:
    """Published events, the next first, then past ones."""
    return list(
        db.session.scalars(
            select(Event).where(Event.status == PUBLISHED).order_by(Event.starts_at)
        )
    )


def get_event(slug: str, user: User | None = None) -> Event:
    """The event with this slug as this user may see it; drafts only for its staff."""
    event = db.session.scalar(select(Event).where(Event.slug == slug))
    if event is None or (not event.is_public and not is_staff(user, event)):
        raise NotFound(_("Arrangementet findes ikke."))
    return event


def get_event_for(slug: str, user: User | None, *roles: str) -> Event:
    """The event, if the user holds one of ``roles`` on it (404 first, then 403)."""
    event = get_event(slug, user)
    require_role(user, event, *roles)
    return event


def events_for_staff(user: User) -> list[Event]:
    """Events this user works on (all events for admins), newest first."""
    stmt = select(Event).order_by(Event.starts_at.desc())
    if not user.is_admin:
        stmt = stmt.where(
            Event.id.in_(select(EventRole.event_id).where(EventRole.user_id == user.id))
        )
    return list(db.session.scalars(stmt))


# Creating and editing ------------------------------------------------------------


@dataclass
class EventData:
    title: str
    slug: str
    description: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    # None keeps the status: it changes through publishing (the checklist) only.
    status: str | None = None
    directory_open_until: date | None = None
    retention_until: date | None = None
    requires_approval: bool = False
    privacy_notice: str = ""
    language: str = "da"
    title_en: str = ""
    description_en: str = ""
    contact_name: str = ""
    contact_email: str = ""


# Fields whose change the participants hear about (messaging sends the notice).
NOTICED_FIELDS = ("starts_at", "ends_at", "venue")


def _check_event_data(data: EventData, event: Event | None) -> list[ValidationError]:
    problems: list[ValidationError] = []
    if not (data.title or "").strip():
        problems.append(ValidationError(_("Skriv en titel."), "title"))
    if not SLUG_RE.match(data.slug or "") or len(data.slug) > 80:
        problems.append(ValidationError(
            _("Kortnavnet må kun indeholde små bogstaver a-z, tal og bindestreger."), "slug"))
    else:
        taken = db.session.scalar(
            select(Event.id).where(Event.slug == data.slug, Event.id != (event.id if event else -1))
        )
        if taken:
            problems.append(ValidationError(
                _("Kortnavnet \"%(slug)s\" er allerede brugt af et andet arrangement.",
                  slug=data.slug), "slug"))
    if data.status is not None and data.status not in EVENT_STATUSES:
        problems.append(ValidationError(_("Vælg en gyldig status."), "status"))
    if data.language not in LANGUAGES:
        problems.append(ValidationError(_("Vælg et sprog på listen."), "language"))
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        problems.append(ValidationError(_("Slut skal ligge efter start."), "ends_at"))
    problems += _contact_problems(data)
    if data.capacity is not None and data.capacity < 0:
        problems.append(ValidationError(_("Kapaciteten kan ikke være negativ."), "capacity"))
    opens, closes = data.registration_opens_at, data.registration_closes_at
    if opens and closes and closes <= opens:
        problems.append(ValidationError(
            _("Tilmeldingen skal lukke efter den åbner."), "registration_closes_at"))
    if closes and data.ends_at and closes > data.ends_at:
        problems.append(ValidationError(
            _("Tilmeldingen kan ikke lukke efter arrangementets slutning."),
            "registration_closes_at"))
    return problems


def _contact_problems(data: EventData) -> list[ValidationError]:
    """The contact address, if given, is an address (normalised in ``data``)."""
    problems = []
    if (data.contact_email or "").strip():
        try:
            data.contact_email = check_email(data.contact_email)
        except ValidationError:
            problems.append(ValidationError(
                _("Kontaktadressen skal være en e-mailadresse, fx navn@kommune.dk."),
                "contact_email"))
    if len((data.contact_name or "").strip()) > 200:
        problems.append(ValidationError(_("Højst %(max)d tegn.", max=200), "contact_name"))
    return problems


class EventValidationError(ValidationError):
    """Several field problems at once."""

    def __init__(self, problems: list[ValidationError]) -> None:
        super().__init__(problems[0].message, problems[0].field)
        self.problems = problems


def _apply(event: Event, data: EventData) -> None:
    for f in fields(EventData):
        value = getattr(data, f.name)
        if f.name == "status" and value is None:
            continue
        if isinstance(value, str):
            value = value.strip()
        setattr(event, f.name, value)


def create_event(user: User, data: EventData) -> Event:
    """Create an event; its creator becomes its organizer."""
    if not can_create_events(user):
        raise Forbidden(_("Kun administratorer og arrangører kan oprette arrangementer."))
    problems = _check_event_data(data, None)
    if problems:
        raise EventValidationError(problems)
    event = Event(created_by_id=user.id)
    _apply(event, data)
    event.status = DRAFT  # published through the checklist (events/publishing.py)
    db.session.add(event)
    db.session.flush()
    db.session.add(EventRole(event_id=event.id, user_id=user.id, role=ORGANIZER))
    db.session.flush()
    audit.record(user, event, "event.create", event.slug)
    return event


def _plain(value):
    """A changed value as a signal carries it (JSON-friendly)."""
    return value.isoformat() if isinstance(value, datetime) else value


def update_event(user: User, event: Event, data: EventData, *, notify: bool = True) -> Event:
    """Change an event's details (organizers of the event and admins). A published
    event's new time or place is announced (``event.changed``) unless ``notify`` is off."""
    require_role(user, event, ORGANIZER)
    if data.status is not None and data.status != event.status:
        raise EventValidationError([ValidationError(_(
            "Status ændres med knapperne på arrangementets side (\"Offentliggør\" tjekker "
            "først, at intet mangler)."), "status")])
    problems = _check_event_data(data, event)
    if problems:
        raise EventValidationError(problems)
    before = {name: getattr(event, name) for name in NOTICED_FIELDS}
    _apply(event, data)
    db.session.flush()
    audit.record(user, event, "event.edit", event.slug)
    changed = {name: [_plain(old), _plain(getattr(event, name))]
               for name, old in before.items() if old != getattr(event, name)}
    if changed and event.is_public:
        emit("event.changed", event_id=event.id, changes=changed, notify=notify)
    for fn in contributions.of(EVENT_SAVED):
        fn(event)
    return event


# Staff roles ---------------------------------------------------------------------


def event_staff(event: Event) -> list[EventRole]:
    """The event's role holders, by role then email."""
    return list(
        db.session.scalars(
            select(EventRole)
            .join(User, EventRole.user_id == User.id)
            .where(EventRole.event_id == event.id)
            .order_by(EventRole.role, User.email)
        )
    )


def invite_staff(actor: User, event: Event, email: str, role: str, name: str = "") -> EventRole:
    """Give someone a role on the event and mail them a sign-in link to it."""
    require_role(actor, event, ORGANIZER)
    if role not in EVENT_ROLES:
        raise ValidationError(_("Vælg en gyldig rolle."), "role")
    email = check_email(email)
    user = get_or_create_user(email, name)
    existing = db.session.scalar(
        select(EventRole).where(
            EventRole.event_id == event.id, EventRole.user_id == user.id, EventRole.role == role
        )
    )
    if existing is not None:
        raise ValidationError(_("%(email)s har allerede den rolle.", email=email), "email")
    grant = EventRole(event_id=event.id, user_id=user.id, role=role, invited_by_id=actor.id)
    db.session.add(grant)
    db.session.flush()
    audit.record(actor, event, "staff.invite", f"{role}: #{user.id}")
    from flask import url_for

    link = create_magic_link(email, url_for("manage.event", slug=event.slug))
    queue_mail(
        email, "staff_invite", kind="staff-invite", event=event,
        role=str(ROLE_LABELS[role]).lower(),
        inviter=actor.display_name, url=link,
    )
    return grant


def remove_staff(actor: User, event: Event, role_id: int) -> None:
    """Take a role away; the last organizer cannot be removed."""
    require_role(actor, event, ORGANIZER)
    grant = db.session.get(EventRole, role_id)
    if grant is None or grant.event_id != event.id:
        raise NotFound(_("Rollen findes ikke."))
    if grant.role == ORGANIZER:
        organizers = db.session.scalar(
            select(func.count()).select_from(EventRole).where(
                EventRole.event_id == event.id, EventRole.role == ORGANIZER
            )
        )
        if organizers <= 1:
            raise ValidationError(_("Et arrangement skal have mindst én arrangør."))
    audit.record(actor, event, "staff.remove", f"{grant.role}: #{grant.user_id}")
    db.session.delete(grant)
    db.session.flush()


# Organizations ---------------------------------------------------------------------


def find_or_create_organization(name: str, kind: str | None = None) -> Organization:
    """The organization with this name (ignoring case and spacing), created if new."""
    clean = " ".join((name or "").split())
    if not clean:
        raise ValidationError(_("Skriv navnet på din organisation."), "organization")
    if len(clean) > 200:
        raise ValidationError(_("Organisationens navn er for langt (højst 200 tegn)."),
                              "organization")
    if kind is not None and kind not in ORGANIZATION_KINDS:
        raise ValidationError(_("Ukendt organisationstype."), "organization_kind")
    key = name_key(clean)
    org = db.session.scalar(select(Organization).where(Organization.name_key == key))
    if org is None:
        org = Organization(name=clean, name_key=key, kind=kind or OTHER)
        db.session.add(org)
        db.session.flush()
    return org


def organization_names() -> list[str]:
    """Every organization's name, alphabetically (suggestions for a form field)."""
    return list(db.session.scalars(select(Organization.name).order_by(Organization.name)))


def search_organizations(query: str, limit: int = 10) -> list[Organization]:
    """Organizations whose name contains the query, reference data first."""
    key = name_key(query)
    if not key:
        return []
    like = f"%{key.replace('%', '').replace('_', '')}%"
    return list(
        db.session.scalars(
            select(Organization)
            .where(or_(Organization.name_key.like(like)))
            .order_by(Organization.code.is_(None), Organization.name)
            .limit(limit)
        )
    )
