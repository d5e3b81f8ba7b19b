"""The mails a registration sends, all through the outbox."""

from __future__ import annotations

from flask import current_app, url_for

from eventhub.documents import qr_png
from eventhub.extensions import db
from eventhub.ical import add_event, new_calendar, to_bytes
from eventhub.mail import BuiltMail, queue_built_mail, queue_mail
from eventhub.registration.models import CONFIRMED, STATUS_LABELS, Registration


def event_ics(reg: Registration) -> bytes:
    """The event as a calendar entry, linking to the person's own page."""
    event = reg.event
    cal = new_calendar(method="PUBLISH")
    page = current_app.config["BASE_URL"] + url_for("events.event_page", slug=event.slug)
    add_event(
        cal, uid=f"event-{event.id}@eventhub", summary=event.title,
        start=event.starts_at, end=event.ends_at, location=event.venue,
        description=f"{page}\n", url=page,
    )
    return to_bytes(cal)


def _links(reg: Registration) -> dict[str, str]:
    base = current_app.config["BASE_URL"]
    return {
        "personal_url": base + url_for("registration.personal", token=reg.manage_token),
        "ticket_url": base + url_for("registration.ticket", code=reg.ticket_code),
        "event_url": base + url_for("events.event_page", slug=reg.event.slug),
    }


def send_confirmation(reg: Registration, waitlist_position: int | None = None) -> None:
    """Receipt with status; confirmed people also get the ticket QR and the .ics.

    Built by the outbox worker, so the registration request (holding the event lock)
    renders no templates, QR codes or calendars.
    """
    db.session.flush()
    queue_built_mail(reg.email, "registration-receipt", kind="registration",
                     event_id=reg.event_id, registration_id=reg.id, status=reg.status,
                     position=waitlist_position)


def build_receipt(registration_id: int, status: str, position: int | None = None
                  ) -> BuiltMail | None:
    """The receipt says what the status was when the person registered (or was approved)."""
    reg = db.session.get(Registration, registration_id)
    if reg is None:
        return None
    links = _links(reg)
    attachments = [("arrangement.ics", "text/calendar", event_ics(reg))]
    if status == CONFIRMED:
        attachments.insert(0, ("billet-qr.png", "image/png", qr_png(links["ticket_url"])))
    return BuiltMail("registration_receipt", dict(
        reg=reg, event=reg.event, status=status, status_label=STATUS_LABELS[status],
        position=position, **links), attachments)


def send_promoted(reg: Registration) -> None:
    """A seat freed up and is now theirs."""
    db.session.flush()
    queue_built_mail(reg.email, "registration-promoted", kind="promoted",
                     event_id=reg.event_id, registration_id=reg.id)


def build_promoted(registration_id: int) -> BuiltMail | None:
    reg = db.session.get(Registration, registration_id)
    if reg is None:
        return None
    links = _links(reg)
    return BuiltMail("registration_promoted", dict(reg=reg, event=reg.event, **links), [
        ("billet-qr.png", "image/png", qr_png(links["ticket_url"])),
        ("arrangement.ics", "text/calendar", event_ics(reg))])


def send_cancelled(reg: Registration) -> None:
    queue_mail(reg.email, "registration_cancelled", kind="cancelled", reg=reg,
               event=reg.event, **_links(reg))


def send_personal_link(reg: Registration) -> None:
    queue_mail(reg.email, "registration_link", kind="personal-link", reg=reg,
               event=reg.event, **_links(reg))
