"""Check-ins: one per registration, whichever way it was made.

A check-in comes from the ticket page (online, now) or from a door device's sync
(``door_sync``: possibly made offline, at the time on the device). Both lock the event
row before they look, so they cannot interleave. The earliest scan of a ticket is its
check-in; a later scan from another device is kept as a ``DuplicateScan``, and an
earlier one arriving late takes the check-in's place. ``registrations.checked_in_at``
and ``checked_in_by_id`` mirror the check-in, for every page that shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from eventhub import audit
from eventhub.db import lock_row, utcnow
from eventhub.errors import DomainError, NotFound, ValidationError
from eventhub.events.models import CHECKIN, ORGANIZER, Event
from eventhub.events.services import require_role
from eventhub.extensions import db
from eventhub.registration.models import (
    CONFIRMED,
    STATUS_LABELS,
    CheckIn,
    CheckInDevice,
    DuplicateScan,
    Registration,
)
from eventhub.registration.services import RegistrationFilter, by_ticket_code, list_registrations
from eventhub.signals import emit


@dataclass
class Scan:
    """One scan of a ticket: who, when, on which device, and the device's id for it."""

    user_id: int | None
    at: datetime
    device: CheckInDevice | None = None
    nonce: str | None = None
    offline: bool = False


@dataclass
class CheckInResult:
    registration: Registration
    first_time: bool


def status_text(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def lock_door(event_id: int) -> None:
    """Take the event's lock before reading or changing its check-ins."""
    lock_row(db.session, Event, event_id)


def check_in_of(reg: Registration) -> CheckIn | None:
    return db.session.scalar(select(CheckIn).where(CheckIn.registration_id == reg.id))


def place(reg: Registration, scan: Scan) -> CheckIn:
    """Make ``scan`` the registration's check-in (the caller holds the door lock): the
    first one, or one earlier than the check-in it replaces, which becomes a duplicate."""
    current = check_in_of(reg)
    first = current is None
    if first:
        current = CheckIn(event_id=reg.event_id, registration_id=reg.id)
        db.session.add(current)
    else:
        keep_as_duplicate(reg, Scan(current.user_id, current.checked_in_at, current.device,
                                    current.nonce, current.offline), current.received_at)
    current.user_id, current.device = scan.user_id, scan.device
    current.nonce, current.checked_in_at, current.offline = scan.nonce, scan.at, scan.offline
    current.received_at = utcnow()
    reg.checked_in_at, reg.checked_in_by_id = scan.at, scan.user_id
    db.session.flush()
    if first:
        emit("checkin.created", event_id=reg.event_id, registration_id=reg.id)
    return current


def keep_as_duplicate(reg: Registration, scan: Scan, received_at: datetime | None = None
                      ) -> DuplicateScan:
    """Keep a scan of a ticket that already has an earlier check-in."""
    duplicate = DuplicateScan(event_id=reg.event_id, registration_id=reg.id,
                              user_id=scan.user_id, device=scan.device, nonce=scan.nonce,
                              scanned_at=scan.at, offline=scan.offline,
                              received_at=received_at or utcnow())
    db.session.add(duplicate)
    db.session.flush()
    return duplicate


def check_in(reg: Registration, *, actor) -> CheckInResult:
    """Check a confirmed participant in from the ticket page; a second scan reports the
    first one."""
    require_role(actor, reg.event, CHECKIN, ORGANIZER)
    if reg.status != CONFIRMED:
        raise ValidationError(_("Kun bekræftede deltagere kan checkes ind. Status: %(s)s",
                                s=status_text(reg.status)))
    lock_door(reg.event_id)
    db.session.refresh(reg)
    if reg.checked_in_at is not None:
        return CheckInResult(reg, False)
    place(reg, Scan(actor.id, utcnow()))
    audit.record(actor, reg.event, "registration.checkin", audit.registration_label(reg))
    return CheckInResult(reg, True)


def undo_check_in(reg: Registration, *, actor) -> None:
    """Take back a check-in made by mistake."""
    require_role(actor, reg.event, CHECKIN, ORGANIZER)
    lock_door(reg.event_id)
    current = check_in_of(reg)
    if current is not None:
        db.session.delete(current)
    reg.checked_in_at, reg.checked_in_by_id = None, None
    db.session.flush()
    audit.record(actor, reg.event, "registration.checkin_undo", audit.registration_label(reg))


def check_in_counts(event: Event) -> dict[str, int]:
    """Checked in and expected (confirmed) for the live counter."""
    row = db.session.execute(
        select(
            func.count().filter(Registration.checked_in_at.is_not(None)),
            func.count(),
        ).where(Registration.event_id == event.id, Registration.status == CONFIRMED)
    ).one()
    return {"checked_in": row[0], "expected": row[1]}


def find_for_check_in(event: Event, typed: str) -> Registration | list[Registration]:
    """A ticket by its code or scanned URL, else confirmed people matching a name search."""
    typed = (typed or "").strip()
    code = typed.rsplit("/t/", 1)[-1].strip("/ ")
    try:
        reg = by_ticket_code(code)
    except DomainError as exc:
        matches = list_registrations(event, RegistrationFilter(
            search=typed, status=CONFIRMED)) if len(typed) >= 2 else []
        if not matches:
            raise NotFound(exc.message + " " + _("Ingen deltager matcher heller.")) from None
        return matches
    if reg.event_id != event.id:
        raise ValidationError(_("Billetten hører til et andet arrangement."))
    return reg
