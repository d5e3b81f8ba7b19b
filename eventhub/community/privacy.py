"""What the community holds about a person: the check-ins sent to them and their answers,
and their consent to be contacted about follow-up. Forgetting and the retention purge
keep each answer (organization level, so the figures add up) but cut its free text."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from eventhub import privacy_registry as registry
from eventhub.community.models import ANSWERS, Checkin, CheckinAnswer
from eventhub.directory.models import Solution
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.registration.models import Registration
from eventhub.registration.privacy import iso


def _answers(subject: registry.Subject) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Checkin, CheckinAnswer, Event.title, Solution.name)
        .join(Event, Event.id == Checkin.event_id)
        .outerjoin(CheckinAnswer, CheckinAnswer.checkin_id == Checkin.id)
        .outerjoin(Solution, Solution.id == CheckinAnswer.solution_id)
        .where(Checkin.registration_id.in_(subject.registration_ids))
        .order_by(Checkin.id)).all()
    return [{"event": title, "months": checkin.month, "at": iso(checkin.sent_at),
             "solution": solution or "", "answer": str(ANSWERS[a.answer]) if a else "",
             "text": a.text if a else ""} for checkin, a, title, solution in rows]


def _consented(subject: registry.Subject) -> list[str]:
    return [reg.event.title for reg in db.session.scalars(select(Registration).where(
        Registration.id.in_(subject.registration_ids),
        Registration.followup_consent_at.is_not(None)))]


def _withdraw(subject: registry.Subject) -> None:
    db.session.execute(update(Registration).where(
        Registration.id.in_(subject.registration_ids)).values(followup_consent_at=None)
        .execution_options(synchronize_session=False))
    db.session.expire_all()
    db.session.flush()


SECTION = registry.Section(
    "community_checkins", _l("Spørgsmål om genbrug efter arrangementet"), _answers, {
        "event": _l("Arrangement"), "months": _l("Måneder efter"), "solution": _l("Løsning"),
        "answer": _l("Svar"), "text": _l("Din begrundelse")}, order=83)
CONSENT = registry.Consent(
    "followup_contact", _l("Arrangøren må kontakte mig om opfølgning efter arrangementet"),
    _consented, _withdraw)


def _cut(checkin_ids) -> None:
    db.session.execute(update(CheckinAnswer).where(CheckinAnswer.checkin_id.in_(checkin_ids))
                       .values(text="").execution_options(synchronize_session=False))


def _forget(registration_ids: list[int]) -> None:
    _cut(select(Checkin.id).where(Checkin.registration_id.in_(registration_ids)))
    db.session.execute(update(Registration).where(Registration.id.in_(registration_ids))
                       .values(followup_consent_at=None, phone="")
                       .execution_options(synchronize_session=False))
    db.session.expire_all()
    db.session.flush()


def _purge(event_ids: list[int]) -> int:
    ids = list(db.session.scalars(select(Checkin.id).where(Checkin.event_id.in_(event_ids))))
    if ids:
        _cut(ids)
    db.session.flush()
    return 0


def register(app: Flask) -> None:
    registry.add_section(app, SECTION)
    registry.add_consent(app, CONSENT)
    registry.add_forgetter(app, _forget)
    registry.add_purger(app, _purge)
