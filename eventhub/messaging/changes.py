"""Change notices: a published event's new time or place, a session's new time, room or
status reach the people affected in one mail, with the updated calendar entries.

A change is stored when it is saved (``event.changed`` / ``session.changed`` signals,
committed with the change itself). The scheduler's job sends what has waited
``CHANGE_NOTICE_WINDOW_SECONDS`` (10 minutes): an organizer fixing five sessions sends
one mail per person, not five. Each batch reaches each person once (``change_sends``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, select, update

from eventhub.db import utcnow
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.i18n import localdt
from eventhub.ical import add_event, new_calendar, to_bytes
from eventhub.mail import BuiltMail, OutboxMail
from eventhub.messaging import texts
from eventhub.messaging.models import ChangeRecord, ChangeSend
from eventhub.messaging.rules import _insert_ignoring
from eventhub.messaging.values import locale_of, values_for
from eventhub.programme.calendars import add_session
from eventhub.programme.models import CANCELLED, AgendaEntry, Session, Signup
from eventhub.registration.models import CONFIRMED, WAITLISTED, Registration


def on_signal(kind: str, ids: dict[str, Any]) -> None:
    """Keep a change to announce (unless the organizer chose to say nothing)."""
    if kind not in ("event.changed", "session.changed") or not ids.get("notify", True):
        return
    db.session.add(ChangeRecord(event_id=ids["event_id"], session_id=ids.get("session_id"),
                                changes=ids.get("changes") or {}))


def _window() -> timedelta:
    return timedelta(seconds=current_app.config["CHANGE_NOTICE_WINDOW_SECONDS"])


def send_due(now: datetime) -> int:
    """The scheduler's job: one mail per person for each event whose first unsent
    change has waited the window."""
    due = list(db.session.scalars(
        select(ChangeRecord.event_id).where(ChangeRecord.batch.is_(None))
        .group_by(ChangeRecord.event_id)
        .having(func.min(ChangeRecord.created_at) <= now - _window())))
    queued = 0
    for event_id in due:
        queued += _send_event(db.session.get(Event, event_id), now)
        db.session.commit()
    return queued


def _send_event(event: Event, now: datetime) -> int:
    batch = uuid.uuid4().hex
    claimed = db.session.execute(
        update(ChangeRecord).where(ChangeRecord.event_id == event.id,
                                   ChangeRecord.batch.is_(None),
                                   ChangeRecord.created_at <= now)
        .values(batch=batch)).rowcount
    if not claimed:  # another scheduler took them
        return 0
    records = _records(batch)
    people = _affected(event, records)
    mine = _insert_ignoring(ChangeSend, [dict(batch=batch, registration_id=rid,
                                              created_at=utcnow()) for rid in people],
                            ["batch", "registration_id"], ChangeSend.registration_id)
    emails = dict(db.session.execute(select(Registration.id, Registration.email).where(
        Registration.id.in_(mine))).all()) if mine else {}
    db.session.add_all(OutboxMail(
        to_addr=emails[rid], subject="", body_text="", kind="change",
        builder="messaging-change", builder_args={"batch": batch, "registration_id": rid},
        attachments=[], locale=locale_of(event), event_id=event.id)
        for rid in mine if not emails[rid].endswith(".invalid"))
    return len(mine)


def _records(batch: str) -> list[ChangeRecord]:
    return list(db.session.scalars(select(ChangeRecord).where(ChangeRecord.batch == batch)
                                   .order_by(ChangeRecord.id)))


def _chosen_by(session_ids: set[int]) -> set[int]:
    if not session_ids:
        return set()
    return set(db.session.scalars(select(AgendaEntry.registration_id).where(
        AgendaEntry.session_id.in_(session_ids)))) | set(db.session.scalars(
            select(Signup.registration_id).where(Signup.session_id.in_(session_ids))))


def _affected(event: Event, records: list[ChangeRecord]) -> set[int]:
    """Who hears about these changes: everyone registered for an event change, those who
    chose the session for a session change."""
    stmt = select(Registration.id).where(Registration.event_id == event.id,
                                         Registration.status.in_((CONFIRMED, WAITLISTED)))
    if any(r.session_id is None for r in records):
        return set(db.session.scalars(stmt))
    chosen = _chosen_by({r.session_id for r in records})
    return {rid for rid in db.session.scalars(stmt) if rid in chosen}


def merged(records: list[ChangeRecord]) -> dict[int | None, dict[str, list]]:
    """Changes per session (None: the event), the first old and the last new value."""
    out: dict[int | None, dict[str, list]] = {}
    for record in records:
        mine = out.setdefault(record.session_id, {})
        for key, value in (record.changes or {}).items():
            if key == "title":
                mine["title"] = value
            elif key in mine:
                mine[key][1] = value[1]
            else:
                mine[key] = list(value)
    for changes in out.values():
        for key in [k for k, v in changes.items() if k != "title" and v[0] == v[1]]:
            del changes[key]
    return {k: v for k, v in out.items() if set(v) - {"title"}}


def _when(value: str) -> str:
    return localdt(datetime.fromisoformat(value), "short")


def _time(value: str) -> str:
    return localdt(datetime.fromisoformat(value), "time")


def describe(changes: dict[str, list], english: bool) -> list[str]:
    """Lines saying what changed, in the mail's language."""
    title = changes.get("title")
    lines = []
    if "status" in changes:
        gone = changes["status"][1] == CANCELLED
        lines.append((f"«{title}» is cancelled." if gone else f"«{title}» takes place after "
                      "all.") if english else (f"«{title}» er aflyst." if gone else
                                               f"«{title}» gennemføres alligevel."))
    if "starts_at" in changes or "ends_at" in changes:
        start = changes.get("starts_at", [None, None])
        end = changes.get("ends_at", [None, None])
        if title:
            now = f"{_time(start[1]) if start[1] else ''}–{_time(end[1]) if end[1] else ''}"
            before = f"{_time(start[0]) if start[0] else ''}–{_time(end[0]) if end[0] else ''}"
            lines.append(f"«{title}»: now {now} (was {before})." if english else
                         f"«{title}»: nu kl. {now} (før kl. {before}).")
        elif start[1]:
            lines.append(f"The event is moved: now {_when(start[1])} (was {_when(start[0])})."
                         if english else f"Arrangementet er flyttet: nu {_when(start[1])} "
                         f"(før {_when(start[0])}).")
        else:
            lines.append(f"The event now ends at {_when(end[1])}." if english else
                         f"Arrangementet slutter nu {_when(end[1])}.")
    for key, what_da, what_en in (("room", "lokale", "room"), ("venue", "sted", "place")):
        if key in changes:
            old, new = changes[key]
            subject = f"«{title}»: " if title else ""
            lines.append(f"{subject}new {what_en}: {new or '-'} (was {old or '-'})." if english
                         else f"{subject}nyt {what_da}: {new or '-'} (før {old or '-'}).")
    return lines


def build_change_mail(batch: str, registration_id: int) -> BuiltMail | None:
    """One person's notice of a batch of changes, with the calendar entries updated."""
    reg = db.session.get(Registration, registration_id)
    if reg is None or reg.status not in (CONFIRMED, WAITLISTED):
        return None
    event = reg.event
    chosen = set(db.session.scalars(select(AgendaEntry.session_id).where(
        AgendaEntry.registration_id == reg.id))) | set(db.session.scalars(
            select(Signup.session_id).where(Signup.registration_id == reg.id)))
    changes = merged([r for r in _records(batch)
                      if r.session_id is None or r.session_id in chosen])
    if not changes:
        return None
    locale = locale_of(event)
    with force_locale(locale):
        lines = [line for key in sorted(changes, key=lambda k: (k is not None, k or 0))
                 for line in describe(changes[key], locale == "en")]
    rendered = texts.render_key(event, "change", locale, values_for(
        event, reg, locale, aendringer="\n".join(f"- {line}" for line in lines)))
    return BuiltMail("", {"event": event}, calendar_files(event, changes),
                     rendered=rendered)


def calendar_files(event: Event, changes: dict[int | None, dict]) -> list[tuple[str, str, bytes]]:
    """The updated entries (same UID, higher SEQUENCE) and the cancelled ones
    (METHOD:CANCEL, STATUS:CANCELLED), so calendars change entries, not add them."""
    files = []
    sessions = list(db.session.scalars(select(Session).where(
        Session.id.in_([k for k in changes if k is not None])).order_by(Session.starts_at)))
    live = [s for s in sessions if s.status != CANCELLED]
    gone = [s for s in sessions if s.status == CANCELLED]
    if None in changes or live:
        cal = new_calendar(method="PUBLISH")
        if None in changes:
            add_event(cal, uid=f"event-{event.id}@eventhub", summary=event.title,
                      start=event.starts_at, end=event.ends_at, location=event.venue,
                      sequence=event_sequence(event))
        for session in live:
            add_session(cal, event, session)
        files.append(("opdateret.ics", "text/calendar", to_bytes(cal)))
    if gone:
        cal = new_calendar(method="CANCEL")
        for session in gone:
            add_session(cal, event, session)
        files.append(("aflyst.ics", "text/calendar", to_bytes(cal)))
    return files


def event_sequence(event: Event) -> int:
    """The event's calendar SEQUENCE: one more for every announced change of it."""
    return db.session.scalar(select(func.count(ChangeRecord.id)).where(
        ChangeRecord.event_id == event.id, ChangeRecord.session_id.is_(None))) or 0
