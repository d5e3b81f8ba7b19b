"""A participant's day: starred sessions, workshop sign-ups (locked like registrations),
overlap warnings and the personal calendar feed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import func, select

from eventhub import contributions
from eventhub.db import lock_row, utcnow
from eventhub.errors import DomainError, NotFound, ValidationError
from eventhub.extensions import db
from eventhub.programme.models import (
    CANCELLED,
    SIGNED_UP,
    WAITING,
    AgendaEntry,
    AgendaFeed,
    Session,
    Signup,
    new_feed_token,
)
from eventhub.registration.models import CONFIRMED, Registration


class SignupClosed(DomainError):
    status_code = 409


# Other domains' entries in a participant's day (meetings at the event): shown on
# "my day" and written to the personal calendar feed beside the sessions.
_DAY_ITEMS = "programme.day_items"


@dataclass
class DayItem:
    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime
    location: str = ""
    description: str = ""
    url: str | None = None
    sequence: int = 0
    cancelled: bool = False  # kept in the feed with STATUS:CANCELLED
    shown: bool = True  # False: only in the feed (a cancelled entry), not on the page
    in_feed: bool = True  # False: only on the page (a request not yet agreed)
    note: str = ""  # a short state on the page ("Afventer svar")
    stamp: datetime | None = None


def add_day_items(app: Flask, fn: Callable[[Registration], list[DayItem]]) -> None:
    """``fn(registration)`` adds entries to that person's day and calendar feed."""
    contributions.add(app, _DAY_ITEMS, fn)


def day_items(reg: Registration) -> list[DayItem]:
    """Every domain's entries in the person's day, in time order."""
    items = [item for fn in contributions.of(_DAY_ITEMS) for item in fn(reg)]
    return sorted(items, key=lambda i: (i.starts_at, i.uid))


def starred_ids(reg: Registration | None) -> set[int]:
    if reg is None:
        return set()
    return set(db.session.scalars(
        select(AgendaEntry.session_id).where(AgendaEntry.registration_id == reg.id)))


def set_star(reg: Registration, session: Session, starred: bool) -> None:
    """Add a session to "my day" or take it off."""
    _check_same_event(reg, session)
    entry = db.session.scalar(select(AgendaEntry).where(
        AgendaEntry.registration_id == reg.id, AgendaEntry.session_id == session.id))
    if starred and entry is None:
        try:
            with db.session.begin_nested():
                db.session.add(AgendaEntry(registration_id=reg.id, session_id=session.id))
        except Exception:  # starred twice at once from two tabs: already there
            pass
    elif not starred and entry is not None:
        db.session.delete(entry)
    db.session.flush()


def _check_same_event(reg: Registration, session: Session) -> None:
    if reg.event_id != session.event_id:
        raise NotFound(_("Programpunktet findes ikke."))


def signups_of(reg: Registration | None) -> dict[int, str]:
    """session id → signed_up / waiting, for this participant."""
    if reg is None:
        return {}
    return dict(db.session.execute(select(Signup.session_id, Signup.status).where(
        Signup.registration_id == reg.id)).all())


def seats_taken(session: Session) -> int:
    return db.session.scalar(select(func.count()).select_from(Signup).where(
        Signup.session_id == session.id, Signup.status == SIGNED_UP))


def sign_up(reg: Registration, session: Session) -> Signup:
    """Take a seat in a workshop, or a place on its waiting list when it is full.

    The session row is locked before counting, as registrations lock their event.
    """
    _check_same_event(reg, session)
    if not session.has_signup:
        raise ValidationError(_("Dette programpunkt kræver ikke tilmelding."))
    if session.status == CANCELLED:
        raise SignupClosed(_("Programpunktet er aflyst."))
    if session.starts_at <= utcnow():
        raise SignupClosed(_("Programpunktet er begyndt, så tilmeldingen er lukket."))
    if reg.status != CONFIRMED:
        raise SignupClosed(_("Kun deltagere med en bekræftet plads kan tilmelde sig workshops."))
    lock_row(db.session, Session, session.id)
    existing = db.session.scalar(select(Signup).where(
        Signup.session_id == session.id, Signup.registration_id == reg.id))
    if existing is not None:
        return existing
    status = SIGNED_UP if seats_taken(session) < session.signup_capacity else WAITING
    signup = Signup(session_id=session.id, registration_id=reg.id, status=status)
    db.session.add(signup)
    db.session.flush()
    set_star(reg, session, True)  # a sign-up belongs in "my day" too
    return signup


def withdraw(reg: Registration, session: Session) -> list[Signup]:
    """Give up a workshop seat; the first waiting gets it. Returns who moved up."""
    _check_same_event(reg, session)
    lock_row(db.session, Session, session.id)
    signup = db.session.scalar(select(Signup).where(
        Signup.session_id == session.id, Signup.registration_id == reg.id))
    if signup is None:
        return []
    db.session.delete(signup)
    db.session.flush()
    moved: list[Signup] = []
    free = session.signup_capacity - seats_taken(session)
    if free > 0:
        moved = list(db.session.scalars(
            select(Signup).where(Signup.session_id == session.id, Signup.status == WAITING)
            .order_by(Signup.created_at, Signup.id).limit(free)))
        for waiting in moved:
            waiting.status = SIGNED_UP
        db.session.flush()
    return moved


def waiting_position(signup: Signup) -> int | None:
    if signup.status != WAITING:
        return None
    return db.session.scalar(select(func.count()).select_from(Signup).where(
        Signup.session_id == signup.session_id, Signup.status == WAITING,
        Signup.id < signup.id)) + 1


def my_day(reg: Registration) -> list[Session]:
    """Starred and signed-up sessions, in time order."""
    ids = starred_ids(reg) | set(signups_of(reg))
    if not ids:
        return []
    return list(db.session.scalars(
        select(Session).where(Session.id.in_(ids)).order_by(Session.starts_at, Session.id)))


def overlaps(sessions: list[Session]) -> list[tuple[Session, Session]]:
    """Pairs of chosen (not cancelled) sessions that run at the same time."""
    live = [s for s in sessions if s.status != CANCELLED]
    return [(a, b) for i, a in enumerate(live) for b in live[i + 1:]
            if a.starts_at < b.ends_at and b.starts_at < a.ends_at]


def feed_for(reg: Registration) -> AgendaFeed:
    """The participant's calendar-feed secret, created on first use."""
    feed = db.session.scalar(select(AgendaFeed).where(AgendaFeed.registration_id == reg.id))
    if feed is None:
        feed = AgendaFeed(registration_id=reg.id)
        db.session.add(feed)
        db.session.flush()
    return feed


def reset_feed(reg: Registration) -> AgendaFeed:
    """A new secret: the old feed address stops working at once."""
    feed = feed_for(reg)
    feed.token = new_feed_token()
    db.session.flush()
    return feed


def registration_by_feed(token: str) -> Registration:
    feed = db.session.scalar(select(AgendaFeed).where(AgendaFeed.token == token))
    if feed is None or not token:
        raise NotFound(_("Kalenderen findes ikke. Linket kan være nulstillet."))
    return db.session.get(Registration, feed.registration_id)
