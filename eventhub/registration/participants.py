"""Which registration this browser acts for at an event (agenda, polls, directory)."""

from __future__ import annotations

from flask import session
from flask_login import current_user

from eventhub.registration import services
from eventhub.registration.models import Registration


def remember_registration(reg: Registration) -> None:
    """This browser now acts for this registration (agenda, polls) at its event."""
    known = dict(session.get("registrations", {}))
    known[str(reg.event_id)] = reg.id
    session["registrations"] = known
    session.permanent = True


def my_registrations(user) -> tuple[list[Registration], list[Registration]]:
    """A signed-in person's registrations at public events: (coming, past), the next
    first and the latest past first. Cancelled ones are left out."""
    from sqlalchemy import select

    from eventhub.db import utcnow
    from eventhub.events.models import Event
    from eventhub.extensions import db
    from eventhub.registration.models import CANCELLED

    if not getattr(user, "is_authenticated", False):
        return [], []
    regs = [reg for reg in db.session.scalars(
        select(Registration).join(Event, Event.id == Registration.event_id)
        .where(Registration.email == user.email, Registration.status != CANCELLED)
        .order_by(Event.starts_at)) if reg.event.is_public]
    now = utcnow()
    coming = [reg for reg in regs if reg.event.ends_at >= now]
    past = [reg for reg in reversed(regs) if reg.event.ends_at < now]
    return coming, past


def current_registration(event) -> Registration | None:
    """The visitor's own registration at this event, if any."""
    remembered = session.get("registrations", {}).get(str(event.id))
    return services.registration_of(event, current_user, remembered)
