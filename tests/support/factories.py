"""Builders that write straight to the database, and form data the tests post.

Each builder opens its own app context and returns plain values (ids, slugs, tokens), so
no ORM object outlives its session."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from eventhub.accounts.services import create_admin, get_or_create_user, set_password
from eventhub.events.models import ORGANIZER, PUBLISHED, Event, EventRole
from eventhub.extensions import db

PASSWORD = "korrekt-hest-batteri"

# The event form (new event, edit event), filled in as an organizer would.
EVENT_FORM = {
    "title": "Velfærdsteknologi i praksis",
    "slug": "",
    "description": "En dag om skærmbesøg.",
    "venue": "Odense Rådhus",
    "starts_at": "2027-03-10T09:00",
    "ends_at": "2027-03-10T16:00",
    "capacity": "80",
    "registration_opens_at": "",
    "registration_closes_at": "2027-03-08T12:00",
    "status": "published",
    "directory_open_until": "",
    "retention_until": "2028-03-10",
}


def registration_form(**overrides) -> dict:
    """The public registration form; an override of None leaves the field out."""
    data = {
        "name": "Mette Holm",
        "email": "mette.holm@aarhus.example.dk",
        "organization": "Aarhus Kommune",
        "organization_kind": "",
        "job_title": "Udviklingskonsulent",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def make_user(app, email: str = "deltager@example.com", *, admin: bool = False,
              password: str | None = None) -> int:
    with app.app_context():
        if admin:
            user = create_admin(email, password or PASSWORD)
        else:
            user = get_or_create_user(email)
            if password:
                set_password(user, password)
        db.session.commit()
        return user.id


def set_password_for(app, email: str, password: str = PASSWORD) -> int:
    """Give the person with this address an account with a password (to sign in)."""
    with app.app_context():
        user = get_or_create_user(email)
        set_password(user, password)
        db.session.commit()
        return user.id


def make_event(app, slug: str = "test-event", *, status: str = PUBLISHED,
               organizer_id: int | None = None, role: str = ORGANIZER, **fields) -> int:
    start = datetime(2027, 3, 10, 8, 0, tzinfo=UTC)
    with app.app_context():
        event = Event(
            slug=slug, title=fields.pop("title", f"Arrangement {slug}"),
            starts_at=fields.pop("starts_at", start),
            ends_at=fields.pop("ends_at", start + timedelta(hours=7)),
            status=status, **fields,
        )
        db.session.add(event)
        db.session.flush()
        if organizer_id is not None:
            db.session.add(EventRole(event_id=event.id, user_id=organizer_id, role=role))
        db.session.commit()
        return event.id


def get_event(app, slug: str) -> Event:
    """A detached snapshot of the event's columns (for reading, not changing)."""
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == slug))
        if event is not None:
            db.session.expunge(event)
        return event


def add_question(app, event_id: int, label: str, kind: str = "short_text", *,
                 options: list[str] | None = None, required: bool = False,
                 position: int = 0) -> int:
    from eventhub.registration.models import Question

    with app.app_context():
        question = Question(event_id=event_id, label=label, kind=kind, options=options or [],
                            required=required, position=position)
        db.session.add(question)
        db.session.commit()
        return question.id


def make_registration(app, event_id: int, email: str, name: str = "Deltager",
                      status: str = "confirmed") -> tuple[int, str]:
    """A registration straight in the database: (id, personal-link token)."""
    from eventhub.registration.models import Registration

    with app.app_context():
        reg = Registration(event_id=event_id, email=email, name=name, status=status)
        db.session.add(reg)
        db.session.commit()
        return reg.id, reg.manage_token


def registrations_of(app, event_id: int):
    """(email, status, waitlisted_at, id) for every registration, in id order."""
    from eventhub.registration.models import Registration

    with app.app_context():
        return db.session.execute(
            select(Registration.email, Registration.status, Registration.waitlisted_at,
                   Registration.id)
            .where(Registration.event_id == event_id).order_by(Registration.id)
        ).all()


def make_session(app, event_id: int, title: str, start, end, **fields) -> int:
    """A programme session straight in the database (aware UTC start and end)."""
    from eventhub.programme.models import Session

    with app.app_context():
        session = Session(event_id=event_id, title=title, starts_at=start, ends_at=end,
                          **fields)
        db.session.add(session)
        db.session.commit()
        return session.id


def browser_destination(location: str, base: str = "http://localhost/login"):
    """Where a browser goes with this ``Location`` header, parsed the WHATWG way where it
    differs from urllib: leading and trailing controls and spaces dropped, tabs and line
    breaks removed anywhere, a backslash read as a slash."""
    from urllib.parse import urljoin, urlsplit

    cleaned = location.strip("".join(chr(c) for c in range(0x21)))
    cleaned = re.sub(r"[\t\n\r]", "", cleaned).replace("\\", "/")
    # Two or more slashes start a host name, however many there are ("///evil").
    cleaned = re.sub(r"^(?:([a-zA-Z][a-zA-Z0-9+.-]*):)?//+", r"\1://", cleaned).lstrip(":")
    return urlsplit(urljoin(base, cleaned))


def stays_on_this_site(location: str) -> bool:
    """A redirect a browser follows to this site, also once the server decodes the path
    again (``%2F`` → ``/``, twice for double encoding)."""
    from urllib.parse import unquote

    for candidate in (location, unquote(location), unquote(unquote(location))):
        target = browser_destination(candidate)
        if target.scheme != "http" or target.netloc != "localhost":
            return False
    return location.startswith("/") and location[1:2] not in ("/", "\\")
