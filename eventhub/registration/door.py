"""The door's offline check-in list: the devices that keep it, what they download, what
changed since their last pull, and the door's state for staff.

A device keeps only what the door needs: each registration's name, organization and
status, whether, when and on which device it was checked in, and a hash of its ticket
code. Never the code itself, the email address or the answers: whoever finds a lost
phone cannot open a ticket or check anyone in with what is on it. The list is served
until a few hours after the event ends; then the devices drop it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from eventhub.db import utcnow
from eventhub.errors import Conflict, DomainError, Forbidden, NotFound, ValidationError
from eventhub.events.models import ARCHIVED, CHECKIN, ORGANIZER, Event, Organization
from eventhub.events.services import require_role
from eventhub.extensions import db
from eventhub.registration.checkins import check_in_counts, lock_door
from eventhub.registration.models import (
    CheckIn,
    CheckInDevice,
    DuplicateScan,
    Registration,
    device_letters,
)

HOURS_AFTER_END = 6  # the list is served, and kept on devices, this long after the end
# A pull returns what changed since the last one minus this much, so a change whose
# transaction committed a little after it was stamped is never missed.
PULL_OVERLAP = timedelta(seconds=60)


TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class DeviceSignedOut(DomainError):
    status_code = 410


def unreadable() -> ValidationError:
    """A request the door app would never send (or garbled on the way)."""
    return ValidationError(_("Enheden sendte noget, vi ikke kan læse. Genindlæs check-in-"
                             "siden; check-ins, der venter, bliver på enheden."))


def ticket_hash(code: str) -> str:
    """What a device keeps instead of a ticket code: 128 bits of its SHA-256, base64url.

    Ticket codes are 160 random bits, so the hash cannot be turned back into a code."""
    digest = hashlib.sha256(code.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def ms(value: datetime | None) -> int | None:
    """A time as milliseconds since 1970 (what JavaScript's Date takes)."""
    return None if value is None else int(value.timestamp() * 1000)


def kept_until(event: Event) -> datetime:
    """Devices remove the event's list after this time."""
    return event.ends_at + timedelta(hours=HOURS_AFTER_END)


def is_over(event: Event) -> bool:
    return event.status == ARCHIVED or utcnow() > kept_until(event)


def require_door(user, event: Event) -> None:
    """Only the event's check-in staff and organizers work the door."""
    require_role(user, event, CHECKIN, ORGANIZER)


def _refuse_when_over(event: Event) -> None:
    if is_over(event):
        raise Conflict(_("Arrangementet er slut, så check-in-listen kan ikke længere "
                         "hentes til en enhed."))


# Devices ---------------------------------------------------------------------------------


def start_device(event: Event, user) -> CheckInDevice:
    """A new door device for the signed-in staff member: "Enhed A", "Enhed B", …"""
    require_door(user, event)
    _refuse_when_over(event)
    lock_door(event.id)
    number = db.session.scalar(select(func.coalesce(func.max(CheckInDevice.number), 0))
                               .where(CheckInDevice.event_id == event.id)) + 1
    device = CheckInDevice(event_id=event.id, number=number, user_id=user.id)
    db.session.add(device)
    db.session.flush()
    return device


def device_for(event: Event, user, token: str) -> CheckInDevice:
    """The signed-in staff member's device at this event; anyone else's, an unknown one
    and one that has signed out are refused."""
    require_door(user, event)
    if not TOKEN_RE.match(token or ""):
        raise unreadable()
    device = db.session.scalar(select(CheckInDevice).where(
        CheckInDevice.token == token, CheckInDevice.event_id == event.id))
    if device is None:
        raise NotFound(_("Enheden er ukendt. Genindlæs check-in-siden for at starte den igen."))
    if device.signed_out_at is not None:
        raise DeviceSignedOut(_("Enheden er logget ud, og dens check-in-data er slettet. "
                                "Genindlæs check-in-siden for at starte forfra."))
    if device.user_id != user.id:
        raise Forbidden(_("Enheden er startet af en anden bruger. Genindlæs check-in-siden "
                          "for at starte den som dig."))
    return device


def sign_out_device(event: Event, user, token: str) -> None:
    """The staff member signs out on the device: later syncs from it are refused."""
    device = device_for(event, user, token)
    device.signed_out_at = utcnow()
    device.queued = 0
    db.session.flush()


# The list and what changed -------------------------------------------------------------


def _rows(event: Event, *conditions) -> dict:
    """Registrations as compact rows: ``[hash, name, organization, status, checked in
    (ms) or None, device letters or ""]``, organizations by their place in ``orgs``."""
    stmt = (
        select(Registration.ticket_code, Registration.name, Organization.name,
               Registration.status, Registration.checked_in_at, CheckInDevice.number)
        .outerjoin(Organization, Registration.organization_id == Organization.id)
        .outerjoin(CheckIn, CheckIn.registration_id == Registration.id)
        .outerjoin(CheckInDevice, CheckIn.device_id == CheckInDevice.id)
        .where(Registration.event_id == event.id, *conditions)
        .order_by(Registration.id)
    )
    orgs: dict[str, int] = {}
    people = []
    for code, name, org, status, checked_in_at, number in db.session.execute(stmt):
        org_index = -1 if not org else orgs.setdefault(org, len(orgs))
        people.append([ticket_hash(code), name, org_index, status, ms(checked_in_at),
                       device_letters(number) if number else ""])
    return {"orgs": list(orgs), "people": people}


def full_list(event: Event, user) -> dict:
    """Everything a device keeps for the event, and the cursor for its next pull."""
    require_door(user, event)
    _refuse_when_over(event)
    now = utcnow()
    return {**_rows(event), "cursor": now.isoformat(), "keep_until": ms(kept_until(event))}


def changes_since(event: Event, since: datetime) -> dict:
    """Registrations changed since the device's last pull (checked in elsewhere, undone,
    cancelled, new), in the list's own row format."""
    return _rows(event, Registration.updated_at >= since - PULL_OVERLAP)


# The door's state ------------------------------------------------------------------------


@dataclass
class DeviceState:
    letters: str
    who: str
    check_ins: int
    last_seen: datetime
    queued: int
    signed_out: bool


def door_state(event: Event) -> dict:
    """Checked in / expected, and per device: its check-ins and what it last said was
    still waiting on it (queued, not yet received)."""
    counts = check_in_counts(event)
    per_device = dict(db.session.execute(
        select(CheckIn.device_id, func.count()).where(CheckIn.event_id == event.id)
        .group_by(CheckIn.device_id)).all())
    duplicates = db.session.scalar(select(func.count()).select_from(DuplicateScan)
                                   .where(DuplicateScan.event_id == event.id))
    devices = [
        DeviceState(d.letters, d.user.display_name if d.user else "", per_device.get(d.id, 0),
                    d.last_seen_at, d.queued, d.signed_out_at is not None)
        for d in db.session.scalars(select(CheckInDevice).where(
            CheckInDevice.event_id == event.id).order_by(CheckInDevice.number))
    ]
    return {**counts, "devices": devices, "on_ticket_page": per_device.get(None, 0),
            "queued": sum(d.queued for d in devices if not d.signed_out),
            "duplicates": duplicates}
