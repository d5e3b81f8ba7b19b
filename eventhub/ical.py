"""iCalendar (RFC 5545) building blocks: Europe/Copenhagen times with a VTIMEZONE."""

from __future__ import annotations

from datetime import date, datetime

from icalendar import Calendar
from icalendar import Event as VEvent

from eventhub.timeutil import LOCAL_TZ

PRODID = "-//EventHub//Del og Genbrug//DA"


def new_calendar(name: str | None = None, method: str | None = None) -> Calendar:
    """An empty calendar with our PRODID (and METHOD when it is sent by mail)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
        cal.add("x-wr-timezone", "Europe/Copenhagen")
    return cal


def add_event(
    cal: Calendar,
    *,
    uid: str,
    summary: str,
    start: datetime,
    end: datetime,
    location: str = "",
    description: str = "",
    url: str | None = None,
    sequence: int = 0,
    cancelled: bool = False,
    stamp: datetime | None = None,
) -> VEvent:
    """Add a VEVENT whose times carry TZID=Europe/Copenhagen."""
    ev = VEvent()
    ev.add("uid", uid)
    ev.add("summary", summary)
    ev.add("dtstart", start.astimezone(LOCAL_TZ))
    ev.add("dtend", end.astimezone(LOCAL_TZ))
    ev.add("dtstamp", stamp or datetime.now(LOCAL_TZ))
    ev.add("sequence", sequence)
    if location:
        ev.add("location", location)
    if description:
        ev.add("description", description)
    if url:
        ev.add("url", url)
    ev.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    cal.add_component(ev)
    return ev


def to_bytes(cal: Calendar) -> bytes:
    """Serialise, adding the VTIMEZONE (transitions from 2000 on) for every TZID used."""
    cal.add_missing_timezones(first_date=date(2000, 1, 1), last_date=date(2037, 12, 31))
    return cal.to_ical()
