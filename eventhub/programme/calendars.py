"""RFC 5545 feeds: the whole programme, one session, a participant's own day."""

from __future__ import annotations

from flask import current_app, url_for

from eventhub.events.models import Event
from eventhub.ical import add_event, new_calendar, to_bytes
from eventhub.programme.agenda import DayItem
from eventhub.programme.models import CANCELLED, KIND_LABELS, Session


def _session_url(event: Event, session: Session) -> str:
    return current_app.config["BASE_URL"] + url_for(
        "programme.session_page", slug=event.slug, session_id=session.id)


def add_session(cal, event: Event, session: Session) -> None:
    """Add one session as a VEVENT (its UID, its SEQUENCE, cancelled as CANCELLED)."""
    url = _session_url(event, session)
    location = ", ".join(part for part in (
        session.room.name if session.room else "", event.venue) if part)
    speakers = ", ".join(s.name for s in session.speakers)
    description = "\n".join(part for part in (
        str(KIND_LABELS.get(session.kind, "")), speakers, session.description, url) if part)
    add_event(
        cal, uid=session.uid, summary=session.title, start=session.starts_at,
        end=session.ends_at, location=location, description=description, url=url,
        sequence=session.sequence or 0, cancelled=session.status == CANCELLED,
        stamp=session.updated_at,
    )


def calendar_bytes(event: Event, sessions: list[Session], name: str,
                   items: list[DayItem] = ()) -> bytes:
    """A calendar of these sessions (cancelled ones keep their UID, STATUS:CANCELLED)
    and other entries of a person's day (meetings)."""
    cal = new_calendar(name=name)
    for session in sessions:
        add_session(cal, event, session)
    for item in items:
        _add_item(cal, item)
    return to_bytes(cal)


def item_by_mail(item: DayItem) -> bytes:
    """One entry of a person's day for a mail: METHOD:PUBLISH, or METHOD:CANCEL when it is
    cancelled, with the feed's UID and SEQUENCE so a calendar updates its one entry."""
    cal = new_calendar(method="CANCEL" if item.cancelled else "PUBLISH")
    _add_item(cal, item)
    return to_bytes(cal)


def _add_item(cal, item: DayItem) -> None:
    add_event(cal, uid=item.uid, summary=item.title, start=item.starts_at,
              end=item.ends_at, location=item.location, description=item.description,
              url=item.url, sequence=item.sequence, cancelled=item.cancelled,
              stamp=item.stamp)
