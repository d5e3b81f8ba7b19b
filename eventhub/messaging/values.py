"""What the placeholders of an event's mails become for one person."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import force_locale

from eventhub.events.models import Event
from eventhub.i18n import localdt
from eventhub.mail import batch_cache
from eventhub.registration.models import Registration


def event_values(event: Event, locale: str) -> dict[str, str]:
    """The values that are the same for everyone at ``event`` (once per batch)."""
    cache = batch_cache()
    key = ("event_values", event.id, locale)
    if key not in cache:
        cache[key] = _event_values(event, locale)
    return dict(cache[key])


def _url(endpoint: str, **values: str) -> str:
    """url_for, once per batch per endpoint: the rest is string work."""
    cache = batch_cache()
    names = tuple(sorted(values))
    key = ("url", endpoint, names)
    if key not in cache:
        cache[key] = current_app.config["BASE_URL"] + url_for(
            endpoint, **{n: f"__{n}__" for n in names})
    url = cache[key]
    for name in names:
        url = url.replace(f"__{name}__", values[name])
    return url


def _event_values(event: Event, locale: str) -> dict[str, str]:
    base = current_app.config["BASE_URL"]
    with force_locale(locale):
        when = f"{localdt(event.starts_at)} – {localdt(event.ends_at, 'time')}"
    title = event.title_en if locale == "en" and event.title_en else event.title
    return {
        "arrangement": title, "dato": when, "sted": event.venue or "",
        "vejviser": event.directions or "", "kontakt": event.contact_name or event.title,
        "program": base + url_for("programme.programme", slug=event.slug),
    }


def person_values(reg: Registration) -> dict[str, str]:
    """The values that are this person's own."""
    return {
        "navn": reg.name,
        "organisation": reg.organization.name if reg.organization else "",
        "personligt_link": _url("registration.personal", token=reg.manage_token),
        "billet": _url("registration.ticket", code=reg.ticket_code),
        "min_dag": _url("programme.my_day", slug=reg.event.slug),
    }


def values_for(event: Event, reg: Registration | None, locale: str, **extra: str
               ) -> dict[str, str]:
    values = event_values(event, locale)
    if reg is not None:
        values.update(person_values(reg))
    values.update(extra)
    return values


def locale_of(event: Event) -> str:
    """The language an event's mails are written in."""
    return event.language if event.language in ("da", "en") else "da"
