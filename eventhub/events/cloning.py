"""Next year's edition from this year's: the event's settings copied to a new title and
date, with what each domain holds about the event (questions, rooms, sessions, polls,
linked solutions …) copied by that domain, every time moved by the same number of days.

Never copied: registrations, answers, votes, check-ins, leads, or anything else about a
person. Each domain adds its part with ``add_cloner`` in its ``init_app``; a cloner gets
a ``CloneContext`` and records the ids it made (old → new) for the domains above it
(polls map their sessions through the programme's map).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import Date, DateTime, inspect, select

from eventhub import audit, contributions, images
from eventhub.errors import ValidationError
from eventhub.events.models import DRAFT, ORGANIZER, Event, EventRole, EventSeries
from eventhub.events.services import (
    SLUG_RE,
    EventValidationError,
    can_create_events,
    require_role,
    slugify,
)
from eventhub.extensions import db
from eventhub.timeutil import LOCAL_TZ, from_local, to_local

CLONERS = "events.cloners"
# Columns of the event that are not settings: who and when, and what is made anew.
NOT_COPIED = {"id", "slug", "title", "status", "join_code", "created_at", "updated_at",
              "created_by_id", "series_id"}
YEAR_RE = re.compile(r"\b(19|20)\d{2}\b")


@dataclass
class CloneData:
    title: str
    slug: str
    starts_on: date | None  # the new edition's first day
    with_staff: bool = True


@dataclass
class CloneContext:
    """What a domain's cloner needs: both events, the shift, and the id maps so far."""

    source: Event
    target: Event
    days: int
    with_staff: bool
    maps: dict[str, dict[int, int]] = field(default_factory=dict)

    def moved(self, value: datetime | None) -> datetime | None:
        """The same wall-clock time in Copenhagen, ``days`` later (summer time kept)."""
        if value is None:
            return None
        local = to_local(value).replace(tzinfo=None)
        return from_local(local + timedelta(days=self.days))

    def moved_day(self, value: date | None) -> date | None:
        return value + timedelta(days=self.days) if value is not None else None

    def map(self, name: str) -> dict[int, int]:
        return self.maps.setdefault(name, {})


def add_cloner(app: Flask, fn: Callable[[CloneContext], None], order: int = 100) -> None:
    """``fn(context)`` copies this domain's part of an event (lower orders first)."""
    contributions.add(app, CLONERS, (order, fn))


def suggested(source: Event) -> CloneData:
    """The next edition as a starting point: the year in the title and the date moved on
    by one year (the same weekday)."""
    next_year = to_local(source.starts_at).date() + timedelta(weeks=52)
    title = YEAR_RE.sub(lambda m: str(int(m.group(0)) + 1), source.title, count=1)
    if title == source.title:
        title = _("%(title)s (ny udgave)", title=source.title)
    return CloneData(title=title[:200], slug=slugify(title), starts_on=next_year)


def _problems(data: CloneData, today: date) -> list[ValidationError]:
    problems = []
    data.title = " ".join((data.title or "").split())
    if not data.title:
        problems.append(ValidationError(_("Skriv en titel."), "title"))
    data.slug = (data.slug or "").strip().lower() or slugify(data.title)
    if not SLUG_RE.match(data.slug) or len(data.slug) > 80:
        problems.append(ValidationError(
            _("Kortnavnet må kun indeholde små bogstaver a-z, tal og bindestreger."), "slug"))
    elif db.session.scalar(select(Event.id).where(Event.slug == data.slug)):
        problems.append(ValidationError(
            _("Kortnavnet \"%(slug)s\" er allerede brugt af et andet arrangement.",
              slug=data.slug), "slug"))
    if data.starts_on is None:
        problems.append(ValidationError(_("Vælg den nye udgaves første dag."), "starts_on"))
    elif data.starts_on <= today:
        problems.append(ValidationError(
            _("Den nye udgave skal ligge i fremtiden: vælg en dag efter i dag."), "starts_on"))
    return problems


def _series_of(source: Event) -> EventSeries:
    if source.series_id is not None:
        return db.session.get(EventSeries, source.series_id)
    name = " ".join(YEAR_RE.sub("", source.title).split()) or source.title
    series = EventSeries(name=name[:200])
    db.session.add(series)
    db.session.flush()
    source.series_id = series.id
    return series


def _copy_settings(context: CloneContext) -> None:
    """Every column of the event that is a setting, times and days moved."""
    source, target = context.source, context.target
    for column in inspect(Event).columns:
        if column.key in NOT_COPIED:
            continue
        value = getattr(source, column.key)
        if column.key.endswith("_image_id"):  # a picture of its own, replaced apart
            value = images.copy(value)
        elif isinstance(column.type, DateTime) or hasattr(column.type, "impl") and \
                isinstance(column.type.impl, DateTime):
            value = context.moved(value)
        elif isinstance(column.type, Date):
            value = context.moved_day(value)
        setattr(target, column.key, value)


def clone_event(actor, source: Event, data: CloneData) -> Event:
    """A new draft edition of ``source`` on ``data.starts_on``, in the same series."""
    require_role(actor, source, ORGANIZER)
    if not can_create_events(actor):
        raise ValidationError(_("Kun administratorer og arrangører kan oprette arrangementer."))
    today = datetime.now(LOCAL_TZ).date()
    problems = _problems(data, today)
    if problems:
        raise EventValidationError(problems)
    days = (data.starts_on - to_local(source.starts_at).date()).days
    target = Event(slug=data.slug, title=data.title, status=DRAFT, created_by_id=actor.id,
                   starts_at=source.starts_at, ends_at=source.ends_at)
    context = CloneContext(source, target, days, data.with_staff)
    _copy_settings(context)
    target.series_id = _series_of(source).id
    db.session.add(target)
    db.session.flush()
    _copy_staff(actor, context)
    for _order, fn in sorted(contributions.of(CLONERS), key=lambda item: item[0]):
        fn(context)
    db.session.flush()
    audit.record(actor, target, "event.clone", source.slug)
    return target


def _copy_staff(actor, context: CloneContext) -> None:
    """The cloner is an organizer of the new edition; the team's roles when asked."""
    grants = {(actor.id, ORGANIZER)}
    if context.with_staff:
        grants |= set(db.session.execute(select(EventRole.user_id, EventRole.role).where(
            EventRole.event_id == context.source.id)).all())
    for user_id, role in sorted(grants):
        db.session.add(EventRole(event_id=context.target.id, user_id=user_id, role=role,
                                 invited_by_id=actor.id))
    db.session.flush()


def editions(event: Event, *, public_only: bool) -> list[Event]:
    """The editions of the event's series, oldest first (only the event without one)."""
    if event.series_id is None:
        return [event]
    stmt = select(Event).where(Event.series_id == event.series_id).order_by(Event.starts_at)
    found = list(db.session.scalars(stmt))
    return [e for e in found if e.id == event.id or not public_only or e.is_public]
