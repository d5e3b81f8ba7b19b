"""The room's screen and the presenter's remote: what the screen shows, and the
commands that move it (staff of the event only)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from eventhub.errors import NotFound, ValidationError
from eventhub.events.models import ORGANIZER, Event
from eventhub.events.services import require_role
from eventhub.extensions import db
from eventhub.polls import services
from eventhub.polls.models import CLOSED, OPEN, Poll, Screen

COMMANDS = ("show", "next", "previous", "open", "close", "reveal", "hide", "qr", "theme")


def state_of(event_id: int) -> dict:
    """The event's open polls in order and what its screen shows (for the streams)."""
    polls = list(db.session.scalars(
        select(Poll.id).where(Poll.event_id == event_id, Poll.status == OPEN)
        .order_by(Poll.position, Poll.id)))
    screen = db.session.get(Screen, event_id)
    shown = db.session.get(Poll, screen.poll_id) if screen and screen.poll_id else None
    return {"polls": polls, "screen": {
        "poll": shown.id if shown else None,
        "status": shown.status if shown else None,
        "revealed": shown.results_visible if shown else False,
        "qr": bool(screen and screen.show_qr), "dark": screen.dark if screen else True}}


def screen_of(event: Event) -> Screen:
    """The event's screen (made on first use, showing the join code)."""
    screen = db.session.get(Screen, event.id)
    if screen is None:
        screen = Screen(event_id=event.id, poll_id=None, show_qr=True, dark=True)
        db.session.add(screen)
        db.session.flush()
    return screen


def current_poll(event: Event, screen: Screen) -> Poll | None:
    return db.session.get(Poll, screen.poll_id) if screen.poll_id else None


def polls_in_order(event: Event, session_id: int | None = None) -> list[Poll]:
    """The polls the remote steps through: the event's, or one session's, in order."""
    polls = services.polls_of(event)
    return [p for p in polls if p.session_id == session_id] if session_id else polls


def command(actor, event: Event, name: str, poll_id: int | None = None,
            session_id: int | None = None) -> Screen:
    """Carry out one remote command; only the event's organizers may. Next and previous
    step through the polls of ``session_id`` when given, else of the whole event."""
    require_role(actor, event, ORGANIZER)
    if name not in COMMANDS:
        raise ValidationError(_("Ukendt kommando."))
    screen = screen_of(event)
    polls = polls_in_order(event, session_id)
    if name == "show":
        target = next((p for p in services.polls_of(event) if p.id == poll_id), None)
        if target is None:
            raise NotFound(_("Afstemningen findes ikke."))
        screen.poll_id, screen.show_qr = target.id, False
    elif name in ("next", "previous"):
        ids = [p.id for p in polls]
        if not ids:
            raise ValidationError(_("Der er ingen afstemninger endnu."))
        at = ids.index(screen.poll_id) if screen.poll_id in ids else -1
        step = 1 if name == "next" else -1
        screen.poll_id = ids[min(max(at + step, 0), len(ids) - 1)]
        screen.show_qr = False
    elif name == "qr":
        screen.show_qr = not screen.show_qr
    elif name == "theme":
        screen.dark = not screen.dark
    else:
        poll = current_poll(event, screen)
        if poll is None:
            raise ValidationError(_("Vælg først en afstemning på skærmen."))
        if name in ("open", "close"):
            services.set_status(actor, event, poll, OPEN if name == "open" else CLOSED)
        else:
            services.set_results_visible(actor, event, poll, name == "reveal")
    db.session.flush()
    return screen
