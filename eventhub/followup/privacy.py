"""What the follow-up holds about a person: leads about them (with the staff's notes),
introductions, and their unsubscribe from follow-up mail. Forgetting keeps the leads'
stages (the reuse rate adds up) but cuts the person and their notes."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, update

from eventhub import privacy_registry as registry
from eventhub.directory.models import Solution
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.followup.models import STAGES, Introduction, Lead, LeadEntry, Unsubscribe
from eventhub.registration.models import Registration
from eventhub.registration.privacy import iso


def _leads(subject: registry.Subject) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Lead, Event.title, Solution.name).join(Event, Lead.event_id == Event.id)
        .outerjoin(Solution, Solution.id == Lead.solution_id)
        .where(Lead.registration_id.in_(subject.registration_ids)).order_by(Lead.id)).all()
    return [{"event": title, "solution": solution or "", "stage": str(STAGES[lead.stage]),
             "notes": [e.text for e in lead.entries if e.text], "at": iso(lead.created_at)}
            for lead, title, solution in rows]


def _introductions(subject: registry.Subject) -> list[dict[str, Any]]:
    ids = subject.registration_ids
    rows = db.session.execute(
        select(Introduction, Event.title).join(Event, Introduction.event_id == Event.id)
        .where(or_(Introduction.seeker_id.in_(ids), Introduction.runner_id.in_(ids)))
        .order_by(Introduction.id)).all()
    out = []
    for intro, title in rows:
        other = intro.runner if intro.seeker_id in ids else intro.seeker
        out.append({"event": title, "solution": intro.solution.name, "with": other.name,
                    "at": iso(intro.created_at)})
    return out


def _unsubscribes(subject: registry.Subject) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Unsubscribe, Event.title).join(
            Registration, Registration.id == Unsubscribe.registration_id)
        .join(Event, Registration.event_id == Event.id)
        .where(Unsubscribe.registration_id.in_(subject.registration_ids))).all()
    return [{"event": title, "at": iso(row.created_at)} for row, title in rows]


SECTIONS = [
    registry.Section("followup_leads", _l("Opfølgning efter arrangementet"), _leads, {
        "event": _l("Arrangement"), "solution": _l("Løsning"), "stage": _l("Fase")},
        order=80),
    registry.Section("followup_introductions", _l("Introduktioner"), _introductions, {
        "event": _l("Arrangement"), "solution": _l("Løsning"), "with": _l("Person")},
        order=81),
    registry.Section("followup_unsubscribes", _l("Frameldte opfølgningsmails"),
                     _unsubscribes, {"event": _l("Arrangement")}, order=82),
]


def _cut(lead_ids) -> None:
    db.session.execute(update(LeadEntry).where(LeadEntry.lead_id.in_(lead_ids))
                       .values(text="").execution_options(synchronize_session=False))
    db.session.execute(update(Lead).where(Lead.id.in_(lead_ids))
                       .values(registration_id=None, drop_reason="")
                       .execution_options(synchronize_session=False))


def _forget(registration_ids: list[int]) -> None:
    """Leads keep organization, solution and stages; the person and notes go."""
    _cut(select(Lead.id).where(Lead.registration_id.in_(registration_ids)))
    db.session.execute(delete(Introduction).where(or_(
        Introduction.seeker_id.in_(registration_ids),
        Introduction.runner_id.in_(registration_ids))))
    db.session.execute(delete(Unsubscribe).where(
        Unsubscribe.registration_id.in_(registration_ids)))
    db.session.expire_all()
    db.session.flush()


def _purge(event_ids: list[int]) -> int:
    """After the retention date: every lead's person and notes, all introductions."""
    noted = select(LeadEntry.lead_id).where(LeadEntry.text != "")
    lead_ids = list(db.session.scalars(select(Lead.id).where(
        Lead.event_id.in_(event_ids), or_(Lead.registration_id.is_not(None),
                                          Lead.drop_reason != "", Lead.id.in_(noted)))))
    if lead_ids:
        _cut(lead_ids)
    gone = db.session.execute(delete(Introduction).where(
        Introduction.event_id.in_(event_ids))).rowcount
    db.session.expire_all()
    db.session.flush()
    return len(lead_ids) + (gone or 0)


def register(app: Flask) -> None:
    """Add this domain's part of "my data", correcting and forgetting to the app."""
    for section in SECTIONS:
        registry.add_section(app, section)
    registry.add_forgetter(app, _forget)
    registry.add_purger(app, _purge)
