"""A door device's sync: the check-ins it made (perhaps offline) go up, what changed at
the door comes down.

A batch is checked whole before anything is stored: a malformed one is refused (400),
and one with a check-in that cannot be taken (an unknown ticket, a nonce already used
for another ticket or by another device, a time before the device started or in the
future) is refused with the offending nonces (409), so nothing is ever stored half-way.
The device puts those aside and sends the rest again.

Each check-in carries the device's random nonce: the same nonce sent again (a lost
answer, a replay) stores nothing new and gets the same answer. Times are the device's,
moved by the difference between its clock and ours when it sent the batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from eventhub import audit
from eventhub.db import utcnow
from eventhub.errors import Conflict, NotFound, ValidationError
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.registration import door
from eventhub.registration.checkins import (
    Scan,
    check_in_of,
    keep_as_duplicate,
    lock_door,
    place,
    undo_check_in,
)
from eventhub.registration.models import (
    CONFIRMED,
    CheckIn,
    CheckInDevice,
    DuplicateScan,
    Registration,
)

MAX_BATCH = 500
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
HASH_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
CLOCK_SLACK = timedelta(minutes=2)  # how far a corrected time may lie ahead of ours
MS_RANGE = (0, 32503680000000)  # 1970 … 3000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BatchRefused(Conflict):
    """Some check-ins of a batch cannot be taken; nothing of it was stored."""

    def __init__(self, refused: list[dict[str, str]]) -> None:
        super().__init__(_("Intet fra enheden er gemt: %(n)d check-in(s) kunne ikke godtages. "
                           "Enheden lægger dem til side og sender resten igen.",
                           n=len(refused)))
        self.refused = refused


@dataclass
class Sent:
    """One check-in as the device sent it."""

    nonce: str
    ticket: str
    at: datetime  # on our clock
    offline: bool


@dataclass
class Batch:
    device: str
    since: datetime | None
    queued: int
    check_ins: list[Sent] = field(default_factory=list)


# Reading the batch -----------------------------------------------------------------------


def _bad() -> ValidationError:
    return door.unreadable()


def _ms(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int) or not (
            MS_RANGE[0] <= value <= MS_RANGE[1]):
        raise _bad()
    return datetime.fromtimestamp(value / 1000, UTC)


def _since(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        since = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        since = None
    if since is None or since.tzinfo is None:
        raise _bad()
    return max(since, EPOCH)  # anything earlier means "everything" just the same


def _one(item: Any, skew: timedelta) -> Sent:
    if not isinstance(item, dict):
        raise _bad()
    nonce, ticket = item.get("nonce"), item.get("ticket")
    if not (isinstance(nonce, str) and NONCE_RE.match(nonce)
            and isinstance(ticket, str) and HASH_RE.match(ticket)):
        raise _bad()
    return Sent(nonce, ticket, _ms(item.get("at")) + skew, item.get("offline") is True)


def parse(payload: Any) -> Batch:
    """The batch the device sent, or a ValidationError when it is not one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("device"), str):
        raise _bad()
    items = payload.get("check_ins") or []
    queued = payload.get("queued", 0)
    if not isinstance(items, list) or isinstance(queued, bool) or not isinstance(queued, int):
        raise _bad()
    if len(items) > MAX_BATCH:
        raise ValidationError(_("Højst %(n)d check-ins ad gangen.", n=MAX_BATCH))
    # The device's clock may be off: its time of sending against ours moves every time.
    skew = utcnow() - _ms(payload["sent_at"]) if "sent_at" in payload else timedelta(0)
    batch = Batch(payload["device"], _since(payload.get("since")), max(0, min(queued, 100000)),
                  [_one(item, skew) for item in items])
    return batch


# Checking it whole -----------------------------------------------------------------------


@dataclass
class _Known:
    """A nonce we have seen before: for which registration, from which device."""

    registration_id: int
    device_id: int | None


def _known_nonces(nonces: list[str]) -> dict[str, _Known]:
    known: dict[str, _Known] = {}
    for model in (CheckIn, DuplicateScan):
        for nonce, reg_id, device_id in db.session.execute(
                select(model.nonce, model.registration_id, model.device_id)
                .where(model.nonce.in_(nonces))):
            known[nonce] = _Known(reg_id, device_id)
    return known


def _problem(sent: Sent, reg: Registration | None, known: _Known | None,
             device: CheckInDevice, now: datetime) -> str | None:
    if reg is None:
        return _("Billetten findes ikke ved dette arrangement.")
    if known is not None and known.registration_id != reg.id:
        return _("Id'et er allerede brugt til en anden billet.")
    if known is not None and known.device_id != device.id:
        return _("Id'et er allerede sendt fra en anden enhed.")
    if sent.at > now + CLOCK_SLACK:
        return _("Tidspunktet ligger efter nu.")
    if sent.at < device.created_at - CLOCK_SLACK:
        return _("Tidspunktet ligger før enheden blev startet.")
    return None


def _check(batch: Batch, regs: dict[str, Registration], device: CheckInDevice
           ) -> dict[str, _Known]:
    """Refuse the batch if any of its check-ins cannot be taken; the nonces seen before."""
    known = _known_nonces([s.nonce for s in batch.check_ins])
    refused, now, first = [], utcnow(), {}
    for sent in batch.check_ins:
        reg = regs.get(sent.ticket)
        earlier = first.setdefault(sent.nonce, sent.ticket)
        reason = (_("Id'et er brugt til to billetter i samme forsendelse.")
                  if earlier != sent.ticket else
                  _problem(sent, reg, known.get(sent.nonce), device, now))
        if reason:
            refused.append({"nonce": sent.nonce, "ticket": sent.ticket, "reason": reason})
    if refused:
        raise BatchRefused(refused)
    return known


# Storing it ------------------------------------------------------------------------------


def answer(reg: Registration, nonce: str, outcome: str | None = None) -> dict:
    """What the device is told about one check-in: checked in (this scan is the check-in),
    a duplicate (with the check-in's time and device), not a confirmed ticket, or undone
    by staff since."""
    current = check_in_of(reg)
    if outcome is None:
        outcome = ("checked_in" if current is not None and current.nonce == nonce
                   else "duplicate" if current is not None
                   else "not_confirmed" if reg.status != CONFIRMED else "undone")
    return {"nonce": nonce, "ticket": door.ticket_hash(reg.ticket_code), "outcome": outcome,
            "status": reg.status, "at": door.ms(current.checked_in_at) if current else None,
            "device": current.device.letters if current and current.device else ""}


def _take(sent: Sent, reg: Registration, device: CheckInDevice, user) -> dict:
    if reg.status != CONFIRMED:
        return answer(reg, sent.nonce, "not_confirmed")
    scan = Scan(user.id, sent.at, device, sent.nonce, sent.offline)
    current = check_in_of(reg)
    if current is None or sent.at < current.checked_in_at:
        place(reg, scan)
        if current is None:
            audit.record(user, reg.event, "registration.checkin", audit.registration_label(reg))
        return answer(reg, sent.nonce, "checked_in")
    keep_as_duplicate(reg, scan)
    return answer(reg, sent.nonce, "duplicate")


def _registrations_by_hash(event: Event, hashes: set[str]) -> dict[str, Registration]:
    """The event's registrations whose ticket hashes are among ``hashes``."""
    ids = {h: reg_id for reg_id, code in db.session.execute(
        select(Registration.id, Registration.ticket_code)
        .where(Registration.event_id == event.id))
        if (h := door.ticket_hash(code)) in hashes}
    regs = {reg.id: reg for reg in db.session.scalars(
        select(Registration).where(Registration.id.in_(list(ids.values()))))}
    return {h: regs[reg_id] for h, reg_id in ids.items()}


def sync(event: Event, user, payload: Any) -> dict:
    """Take the device's check-ins (all or none), note what it still holds, and return
    each one's outcome and what changed at the door since its last pull."""
    door.require_door(user, event)
    batch = parse(payload)
    device = door.device_for(event, user, batch.device)
    results = []
    if batch.check_ins:
        lock_door(event.id)
        regs = _registrations_by_hash(event, {s.ticket for s in batch.check_ins})
        known = _check(batch, regs, device)
        seen: set[str] = set()
        for sent in batch.check_ins:
            reg = regs[sent.ticket]
            if sent.nonce in known or sent.nonce in seen:
                results.append(answer(reg, sent.nonce))  # sent before: nothing new
            else:
                results.append(_take(sent, reg, device, user))
            seen.add(sent.nonce)
    now = utcnow()
    device.last_seen_at, device.queued = now, batch.queued
    db.session.flush()
    changes = door.changes_since(event, batch.since) if batch.since else None
    return {"results": results, "changes": changes, "cursor": now.isoformat()}


def undo(event: Event, user, token: str, nonce: str) -> dict:
    """Take back a check-in this device made and has sent (its "Fortryd")."""
    device = door.device_for(event, user, token)
    if not NONCE_RE.match(nonce):
        raise _bad()
    current = db.session.scalar(select(CheckIn).where(
        CheckIn.nonce == nonce, CheckIn.device_id == device.id))
    if current is None:
        raise NotFound(_("Check-in'en findes ikke længere: den er allerede fortrudt, eller en "
                         "tidligere scanning af billetten har taget dens plads."))
    reg = current.registration
    undo_check_in(reg, actor=user)
    return answer(reg, nonce)
