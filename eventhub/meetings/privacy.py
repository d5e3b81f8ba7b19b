"""What meetings and badge scans hold about a person, and how it is forgotten: open
meetings are cancelled and their slots freed, messages, notes and tags go; the rows stay
so the figures (requests, acceptance rate) add up, as leads do."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, update

from eventhub import privacy_registry as registry
from eventhub.directory.models import Solution
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.meetings.models import (
    CANCELLED,
    OPEN_STATUSES,
    STATUS_LABELS,
    Meeting,
    MeetingHold,
    MeetingReminder,
    Scan,
    new_token,
)
from eventhub.meetings.services import place_name
from eventhub.registration.models import Registration
from eventhub.registration.privacy import iso, label_of


def _meetings(subject: registry.Subject) -> list[dict[str, Any]]:
    ids = subject.registration_ids
    rows = db.session.execute(
        select(Meeting, Event.title).join(Event, Meeting.event_id == Event.id)
        .where(or_(Meeting.requester_id.in_(ids), Meeting.invitee_id.in_(ids)))
        .order_by(Meeting.starts_at)).all()
    out = []
    for meeting, title in rows:
        mine = meeting.requester_id if meeting.requester_id in ids else meeting.invitee_id
        out.append({"event": title, "with": meeting.other(mine).name,
                    "asked_by_me": meeting.requester_id in ids,
                    "starts_at": iso(meeting.starts_at), "place": place_name(meeting),
                    "status": meeting.status, "message": meeting.message,
                    "answer": meeting.answer_message})
    return out


def _scans(subject: registry.Subject) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Scan, Event.title, Solution.name).join(Event, Scan.event_id == Event.id)
        .outerjoin(Solution, Solution.id == Scan.solution_id)
        .where(Scan.registration_id.in_(subject.registration_ids)).order_by(Scan.id)).all()
    return [{"event": title, "solution": name or "", "rating": scan.rating,
             "notes": scan.notes, "tags": scan.tags, "at": iso(scan.created_at)}
            for scan, title, name in rows]


SECTIONS = [
    registry.Section("meetings", _l("Møder ved arrangementet"), _meetings, {
        "event": _l("Arrangement"), "with": _l("Med"), "place": _l("Sted"),
        "status": _l("Status")}, order=75, shown={"status": label_of(STATUS_LABELS)}),
    registry.Section("badge_scans", _l("Scanninger af dit badge"), _scans, {
        "event": _l("Arrangement"), "solution": _l("Løsning")}, order=76),
]


def _forget(registration_ids: list[int]) -> None:
    """Open meetings are cancelled (the other person's slot is freed); words go."""
    mine = or_(Meeting.requester_id.in_(registration_ids),
               Meeting.invitee_id.in_(registration_ids))
    open_ids = select(Meeting.id).where(mine, Meeting.status.in_(OPEN_STATUSES))
    db.session.execute(delete(MeetingHold).where(MeetingHold.meeting_id.in_(open_ids))
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Meeting).where(mine, Meeting.status.in_(OPEN_STATUSES))
                       .values(status=CANCELLED, sequence=Meeting.sequence + 1,
                               awaiting_id=None)
                       .execution_options(synchronize_session=False))
    for meeting in db.session.scalars(select(Meeting).where(mine)):
        meeting.message, meeting.answer_message = "", ""
        meeting.requester_token, meeting.invitee_token = new_token(), new_token()
    db.session.execute(delete(MeetingHold).where(
        MeetingHold.registration_id.in_(registration_ids)))
    db.session.execute(delete(MeetingReminder).where(
        MeetingReminder.registration_id.in_(registration_ids)))
    for scan in db.session.scalars(select(Scan).where(
            Scan.registration_id.in_(registration_ids))):
        scan.notes, scan.tags, scan.registration_id = "", [], None
        scan.withdraw_token = new_token()
    db.session.flush()


def _purge(event_ids: list[int]) -> int:
    """After the retention date: every meeting's words and every scan's notes go."""
    done = db.session.execute(update(Meeting).where(Meeting.event_id.in_(event_ids))
                              .values(message="", answer_message="")).rowcount or 0
    done += db.session.execute(update(Scan).where(Scan.event_id.in_(event_ids))
                               .values(notes="", tags=[], registration_id=None)
                               ).rowcount or 0
    db.session.expire_all()
    return done


def _scan_consents(subject: registry.Subject) -> list[str]:
    return list(db.session.scalars(
        select(Event.title).join(Registration, Registration.event_id == Event.id).where(
            Registration.id.in_(subject.registration_ids),
            Registration.scan_consent_at.is_not(None))))


def _withdraw_scan_consent(subject: registry.Subject) -> None:
    db.session.execute(update(Registration).where(
        Registration.id.in_(subject.registration_ids)).values(scan_consent_at=None)
        .execution_options(synchronize_session=False))
    db.session.expire_all()


SCAN_CONSENT = registry.Consent(
    "badge_scan", _l("Udstillere og oplægsholdere må scanne dit badge"), _scan_consents,
    _withdraw_scan_consent)


def register(app: Flask) -> None:
    for section in SECTIONS:
        registry.add_section(app, section)
    registry.add_consent(app, SCAN_CONSENT)
    registry.add_forgetter(app, _forget, order=50)
    registry.add_purger(app, _purge)
