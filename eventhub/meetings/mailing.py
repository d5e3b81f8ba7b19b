"""Meeting mails (request, answer, change, reminder) built when the worker sends them,
and the scheduled reminder 10 minutes before a meeting, once per person and start time."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from eventhub.extensions import db
from eventhub.mail import BuiltMail, queue_built_mail
from eventhub.meetings.models import ACCEPTED, Meeting, MeetingReminder, Scan
from eventhub.meetings.services import day_item, place_name
from eventhub.programme.calendars import item_by_mail
from eventhub.registration.models import Registration

REMINDER_BEFORE = timedelta(minutes=10)


def _link(meeting: Meeting, reg: Registration) -> str:
    token = meeting.requester_token if reg.id == meeting.requester_id else meeting.invitee_token
    return current_app.config["BASE_URL"] + url_for(
        "meetings.by_link", slug=meeting.event.slug, token=token)


def build_meeting(meeting_id: int, to_registration_id: int, what: str,
                  sequence: int = 0) -> BuiltMail | None:
    """A mail about a meeting; moot when the meeting has changed again since."""
    meeting = db.session.get(Meeting, meeting_id)
    reg = db.session.get(Registration, to_registration_id)
    if meeting is None or reg is None or meeting.sequence != sequence:
        return None
    return BuiltMail("meeting", dict(
        meeting=meeting, event=meeting.event, reg=reg, other=meeting.other(reg.id),
        what=what, place=place_name(meeting), link=_link(meeting, reg)),
        attachments=_calendar_entry(meeting, reg, what))


def _calendar_entry(meeting: Meeting, reg: Registration, what: str
                    ) -> list[tuple[str, str, bytes]]:
    """An agreed meeting, moved or called off, as a calendar entry to open from the mail
    (the feed's UID and SEQUENCE: the calendar keeps one entry)."""
    if what in ("accepted", "moved") and meeting.status == ACCEPTED:
        return [("moede.ics", "text/calendar", item_by_mail(day_item(meeting, reg)))]
    if what == "cancelled" and meeting.accepted_at is not None:
        return [("aflyst-moede.ics", "text/calendar", item_by_mail(day_item(meeting, reg)))]
    return []


def build_reminder(meeting_id: int, to_registration_id: int) -> BuiltMail | None:
    meeting = db.session.get(Meeting, meeting_id)
    reg = db.session.get(Registration, to_registration_id)
    if meeting is None or reg is None or meeting.status != ACCEPTED:
        return None
    return BuiltMail("meeting", dict(
        meeting=meeting, event=meeting.event, reg=reg, other=meeting.other(reg.id),
        what="reminder", place=place_name(meeting), link=_link(meeting, reg)))


def queue_reminders(now: datetime) -> int:
    """Remind both people of each agreed meeting that starts within 10 minutes; a
    reminder row unique per (meeting, person, start) makes it once, also when two
    schedulers run."""
    due = db.session.scalars(select(Meeting).where(
        Meeting.status == ACCEPTED, Meeting.starts_at > now,
        Meeting.starts_at <= now + REMINDER_BEFORE))
    sent = 0
    for meeting in due:
        for reg in (meeting.requester, meeting.invitee):
            try:
                with db.session.begin_nested():
                    db.session.add(MeetingReminder(meeting_id=meeting.id,
                                                   registration_id=reg.id,
                                                   starts_at=meeting.starts_at))
                    db.session.flush()
            except IntegrityError:
                continue
            queue_built_mail(reg.email, "meeting-reminder", kind="meeting",
                             event_id=meeting.event_id, meeting_id=meeting.id,
                             to_registration_id=reg.id)
            sent += 1
    return sent


def build_scanned(scan_id: int) -> BuiltMail | None:
    """Tell a scanned participant who scanned them, with the link to withdraw."""
    scan = db.session.get(Scan, scan_id)
    if scan is None or scan.registration is None:
        return None
    link = current_app.config["BASE_URL"] + url_for(
        "meetings.withdraw_scan", slug=scan.registration.event.slug, token=scan.withdraw_token)
    return BuiltMail("badge_scanned", dict(scan=scan, event=scan.registration.event,
                                           reg=scan.registration, link=link))
