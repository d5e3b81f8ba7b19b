"""Reuse figures a steering group can set beside the Innovation Barometer: the reuse rate
split into copy / adaptation / inspiration, the barriers people named, the median days
from event to adoption, and the trend across a series' editions. Counts only, never
people, so they stay after the retention purge."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, func, select

from eventhub.community.models import BARRIERS, NO, CheckinAnswer
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.followup.models import (
    ADOPTED,
    ADOPTED_ADAPTATION,
    ADOPTED_COPY,
    ADOPTED_INSPIRATION,
    Lead,
    LeadEvent,
)

# The national figures, with their source: Center for Offentlig Innovation's
# Innovationsbarometeret (Danish public sector) and its Norwegian counterpart by KS.
BAROMETER = {
    # Copies: COI, "Innovationsbarometeret. Offentlig innovation skaber effektivitet og
    # kvalitet i Norge og Danmark" (2018), municipal data collected in 2017 in both.
    "source": "Center for Offentlig Innovation, Innovationsbarometeret for Norge og Danmark",
    "year": 2018,
    # Reuse of any kind: CO-PI, "Store kunstnere stjæler – spredning af offentlig
    # innovation", from the same national statistics.
    "reuse_source": "CO-PI, Store kunstnere stjæler – spredning af offentlig innovation",
    "dk_copy": 16,     # Danish municipal innovations that were largely copies
    "no_copy": 41,     # Norwegian municipal innovations that were largely copies
    "dk_reuse": 72,    # Danish public innovations that reused (copied or inspired)
}
KINDS = {ADOPTED_COPY: _l("Kopi"), ADOPTED_ADAPTATION: _l("Tilpasning"),
         ADOPTED_INSPIRATION: _l("Inspiration")}


@dataclass
class Figures:
    leads: int = 0
    kinds: dict[str, int] = field(default_factory=dict)       # adopted stage → leads
    barriers: list[tuple[str, int]] = field(default_factory=list)
    median_days: int | None = None
    trend: list[tuple[str, int, int]] = field(default_factory=list)  # (edition, leads, adopted)

    def share(self, stage: str) -> int | None:
        """Leads adopted this way over all leads, in whole per cent."""
        return round(100 * self.kinds.get(stage, 0) / self.leads) if self.leads else None

    @property
    def adopted(self) -> int:
        return sum(self.kinds.values())

    @property
    def reuse(self) -> int | None:
        return round(100 * self.adopted / self.leads) if self.leads else None


def _days(later, earlier):
    """Whole days between two timestamps, counted by the database (no rows to convert)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.cast(func.julianday(later) - func.julianday(earlier), Integer)
    return func.floor(func.extract("epoch", later - earlier) / 86400)


def _figures(lead_ids, answer_events) -> Figures:
    out = Figures()
    rows = db.session.execute(select(Lead.stage, func.count()).where(
        Lead.id.in_(lead_ids)).group_by(Lead.stage)).all()
    out.leads = sum(n for _s, n in rows)
    out.kinds = {stage: 0 for stage in KINDS}
    out.kinds.update({s: n for s, n in rows if s in ADOPTED})
    named = dict(db.session.execute(select(CheckinAnswer.barrier, func.count()).where(
        CheckinAnswer.event_id.in_(answer_events), CheckinAnswer.answer == NO)
        .group_by(CheckinAnswer.barrier)).all())
    out.barriers = [(str(label), named.get(key, 0)) for key, label in BARRIERS.items()]
    days = db.session.scalars(select(_days(Lead.adopted_at, Event.ends_at))
                              .join(Event, Event.id == Lead.event_id)
                              .where(Lead.id.in_(lead_ids), Lead.adopted_at.is_not(None))).all()
    out.median_days = int(median(days)) if days else None
    return out


def for_event(event: Event) -> Figures:
    """One event's figures (its leads, its check-in answers) and its series' trend."""
    ids = select(LeadEvent.lead_id).where(LeadEvent.event_id == event.id)
    out = _figures(ids, select(Event.id).where(Event.id == event.id))
    if event.series_id:
        out.trend = trend(select(Event.id).where(Event.series_id == event.series_id))
    return out


def trend(event_ids) -> list[tuple[str, int, int]]:
    """Per edition, oldest first: leads found there and how many are adopted."""
    rows = db.session.execute(
        select(Event.title, Event.starts_at, Lead.stage, func.count())
        .join(LeadEvent, LeadEvent.event_id == Event.id).join(Lead, Lead.id == LeadEvent.lead_id)
        .where(Event.id.in_(event_ids))
        .group_by(Event.id, Event.title, Event.starts_at, Lead.stage)
        .order_by(Event.starts_at)).all()
    per: dict[tuple, list[int]] = {}
    for title, starts, stage, n in rows:
        item = per.setdefault((starts, title), [0, 0])
        item[0] += n
        item[1] += n if stage in ADOPTED else 0
    return [(title, leads, adopted) for (_s, title), (leads, adopted) in sorted(per.items())]
