"""The organizer's meeting setup: periods ("12:30-14:00" lines on the event's day),
slot length, tables and stands, who may book, the cap on open requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from eventhub.directory.models import Solution
from eventhub.errors import Conflict, ValidationError
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.meetings.models import (
    STAND,
    TABLE,
    MeetingHold,
    MeetingPeriod,
    MeetingPlace,
    MeetingSetup,
)
from eventhub.meetings.services import (
    MAX_PLACES,
    MAX_SLOT,
    MIN_SLOT,
    Slot,
    places_of,
    require_organizer,
    setup_of,
)
from eventhub.timeutil import LOCAL_TZ


@dataclass
class SetupData:
    enabled: bool = False
    slot_minutes: int = 20
    periods: str = ""  # one a line: "12:30-14:00"
    tables: int = 10
    table_capacity: int = 1
    stand_solution_ids: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    max_pending: int = 5


def _clock(text: str, event: Event) -> datetime:
    hours, _sep, minutes = text.strip().replace(".", ":").partition(":")
    if not (hours.isdigit() and minutes.isdigit()) or int(hours) > 23 or int(minutes) > 59:
        raise ValidationError(_("Skriv tidsrummene som 12:30-14:00, ét pr. linje."), "periods")
    day = event.starts_at.astimezone(LOCAL_TZ).date()
    local = datetime(day.year, day.month, day.day, int(hours), int(minutes), tzinfo=LOCAL_TZ)
    return local.astimezone(event.starts_at.tzinfo)


def parse_periods(text: str, event: Event) -> list[Slot]:
    """"12:30-14:00" lines on the event's first day, in order, not overlapping."""
    found: list[Slot] = []
    for line in (text or "").splitlines():
        line = line.strip().replace("–", "-")
        if not line:
            continue
        start, sep, end = line.partition("-")
        if not sep:
            raise ValidationError(_("Skriv tidsrummene som 12:30-14:00, ét pr. linje."),
                                  "periods")
        begins, ends = _clock(start, event), _clock(end, event)
        if ends <= begins:
            raise ValidationError(_("Et tidsrum skal slutte efter det begynder (%(line)s).",
                                    line=line), "periods")
        found.append((begins, ends))
    found.sort()
    for (_a, a_end), (b_start, _b) in zip(found, found[1:], strict=False):
        if b_start < a_end:
            raise ValidationError(_("To tidsrum overlapper hinanden."), "periods")
    return found


def _check_setup(data: SetupData) -> None:
    if not MIN_SLOT <= data.slot_minutes <= MAX_SLOT:
        raise ValidationError(_("Et møde varer mellem %(a)d og %(b)d minutter.",
                                a=MIN_SLOT, b=MAX_SLOT), "slot_minutes")
    if not 0 <= data.tables <= MAX_PLACES:
        raise ValidationError(_("Højst %(max)d borde.", max=MAX_PLACES), "tables")
    if not 1 <= data.table_capacity <= 20:
        raise ValidationError(_("Et bord har plads til 1-20 møder ad gangen."),
                              "table_capacity")
    if not 1 <= data.max_pending <= 50:
        raise ValidationError(_("Vælg et loft mellem 1 og 50."), "max_pending")


def save_setup(actor, event: Event, data: SetupData) -> MeetingSetup:
    """The organizer's meeting rules, periods and places. Places already booked keep
    their meetings: tables are only added or renumbered, never removed while in use."""
    require_organizer(actor, event)
    _check_setup(data)
    periods = parse_periods(data.periods, event)
    if data.enabled and not periods:
        raise ValidationError(_("Skriv mindst ét tidsrum til møder."), "periods")
    setup = setup_of(event) or MeetingSetup(event_id=event.id)
    db.session.add(setup)
    setup.enabled, setup.slot_minutes = data.enabled, data.slot_minutes
    setup.kinds, setup.max_pending = list(data.kinds), data.max_pending
    db.session.execute(delete(MeetingPeriod).where(MeetingPeriod.event_id == event.id))
    db.session.add_all(MeetingPeriod(event_id=event.id, starts_at=a, ends_at=b)
                       for a, b in periods)
    _save_places(event, data)
    db.session.flush()
    return setup


def _save_places(event: Event, data: SetupData) -> None:
    have = {p.name: p for p in places_of(event)}
    wanted: list[tuple[str, str, int | None, int]] = [
        (_("Bord %(n)d", n=n), TABLE, None, data.table_capacity)
        for n in range(1, data.tables + 1)]
    if data.stand_solution_ids:
        for sol in db.session.scalars(select(Solution).where(
                Solution.id.in_(data.stand_solution_ids)).order_by(Solution.name)):
            wanted.append((_("Stand: %(name)s", name=sol.name)[:80], STAND, sol.id, 1))
    names = {w[0] for w in wanted}
    for name, place in have.items():
        if name not in names:
            used = db.session.scalar(select(func.count()).select_from(MeetingHold).where(
                MeetingHold.place_id == place.id, MeetingHold.meeting_id.is_not(None)))
            if used:
                raise Conflict(_("%(name)s har møder og kan ikke fjernes.", name=name),
                               "tables")
            db.session.delete(place)
    for position, (name, kind, solution_id, capacity) in enumerate(wanted):
        place = have.get(name) or MeetingPlace(event_id=event.id, name=name)
        place.kind, place.solution_id, place.capacity, place.position = (
            kind, solution_id, capacity, position)
        db.session.add(place)
