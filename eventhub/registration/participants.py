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


def current_registration(event) -> Registration | None:
    """The visitor's own registration at this event, if any."""
    remembered = session.get("registrations", {}).get(str(event.id))
    return services.registration_of(event, current_user, remembered)
