"""The organizer's own texts for mails that other domains build (receipt, waiting list,
promotion, follow-up) and the frame of an organizer's message: the outbox asks here
before it renders a template (``mail.add_override``)."""

from __future__ import annotations

from typing import Any

from eventhub.messaging import texts
from eventhub.messaging.values import values_for
from eventhub.registration.models import CONFIRMED, WAITLISTED

FOOTERS = {
    "da": "--\nDu får denne mail, fordi du er tilmeldt {title}. Ingen flere af den slags "
          "mails:\n{url}",
    "en": "--\nYou receive this mail because you registered for {title}. No more mails "
          "like it:\n{url}",
}


def _key(template: str, context: dict[str, Any]) -> str | None:
    if template == "registration_receipt":
        return {CONFIRMED: "receipt", WAITLISTED: "waitlist"}.get(context.get("status"))
    if template == "registration_promoted":
        return "promotion"
    if template == "followup_mail":
        return context.get("kind") or "followup"
    return None


def override(template: str, locale: str, context: dict[str, Any]
             ) -> tuple[str, str, str | None] | None:
    """The event's own text for this mail, or None to use the template."""
    event = context.get("event")
    key = _key(template, context) if event is not None else None
    if key is None:
        return None
    own = texts.own_text(event.id, key, locale)
    if own is None and key != "message":  # messages always get their frame
        return None
    subject, body = (own.subject, own.body) if own else texts.text_of(None, key, locale)
    extra, footer = {}, ""
    if key == "waitlist":
        extra["plads"] = str(context.get("position") or "")
    if key in ("receipt", "promotion"):
        extra["billet"] = context.get("ticket_url", "")
    if key in ("message", "followup"):
        extra.update(emne=context.get("subject", ""), besked=context.get("body", ""))
        footer = FOOTERS.get(locale, FOOTERS["da"]).format(
            title=event.title, url=context.get("unsubscribe_url", ""))
    return texts.render(subject, body, values_for(event, context.get("reg"), locale, **extra),
                        footer)
