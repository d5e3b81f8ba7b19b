"""Publishing an event: a checklist of what must be in place, and the status buttons.

The checklist is a list of rules, each a question about the event with a message that
names what is missing and where to fix it. The event's own rules are added in
``events.init_app``; a domain above adds its own (programme: at least one session) with
``add_rule``. A new field that must be filled in before publishing is one more rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from eventhub import audit, contributions
from eventhub.db import utcnow
from eventhub.errors import Conflict, ValidationError
from eventhub.events.models import ARCHIVED, CLOSED, DRAFT, ORGANIZER, PUBLISHED, Event
from eventhub.events.services import require_role
from eventhub.extensions import db

RULES = "events.publish_rules"


@dataclass
class Rule:
    """One line of the checklist."""

    key: str
    label: Any  # what is checked ("Dato og tid")
    missing: Any  # what to do when it is not in place
    ok: Callable[[Event], bool]
    fix: str = "manage.edit"  # the endpoint (with ``slug``) where it is fixed
    anchor: str = ""  # the field on that page
    order: int = 100


@dataclass
class Check:
    rule: Rule
    ok: bool


def add_rule(app: Flask, rule: Rule) -> None:
    """Add a line to this app's publishing checklist."""
    contributions.add(app, RULES, rule)


def checklist(event: Event) -> list[Check]:
    """Every rule, in order, with whether the event meets it."""
    rules = sorted(contributions.of(RULES), key=lambda r: r.order)
    return [Check(rule, bool(rule.ok(event))) for rule in rules]


def missing(event: Event) -> list[Rule]:
    return [check.rule for check in checklist(event) if not check.ok]


class NotReady(ValidationError):
    """Publishing refused: the rules not met, each with its message."""

    def __init__(self, rules: list[Rule]) -> None:
        names = ", ".join(str(rule.label).lower() for rule in rules)
        super().__init__(_("Arrangementet kan ikke offentliggøres endnu. Der mangler: "
                           "%(names)s.", names=names))
        self.rules = rules


class NeedsConfirmation(Conflict):
    """An unpublish that would hide the event from people who registered."""

    def __init__(self, registered: int) -> None:
        super().__init__(ngettext(
            "%(num)d person er tilmeldt. Gøres arrangementet til kladde, kan vedkommende "
            "ikke længere se arrangementets side, programmet eller afstemningerne.",
            "%(num)d personer er tilmeldt. Gøres arrangementet til kladde, kan de ikke "
            "længere se arrangementets side, programmet eller afstemningerne.", registered))
        self.registered = registered


def publish(actor, event: Event) -> Event:
    """Publish a draft, if every rule of the checklist is met."""
    require_role(actor, event, ORGANIZER)
    if event.status == PUBLISHED:
        return event
    if event.status != DRAFT:
        raise ValidationError(_("Kun en kladde kan offentliggøres."))
    not_met = missing(event)
    if not_met:
        raise NotReady(not_met)
    event.status = PUBLISHED
    db.session.flush()
    audit.record(actor, event, "event.publish", event.slug)
    return event


AUDIENCE = "events.audience_counters"


def add_audience_counter(app: Flask, fn: Callable[[Event], int]) -> None:
    """``fn(event)``: how many people hold a place at the event (registration adds it)."""
    contributions.add(app, AUDIENCE, fn)


def registered_count(event: Event) -> int:
    """People who registered and would lose sight of the event if it became a draft."""
    return sum(fn(event) for fn in contributions.of(AUDIENCE))


def unpublish(actor, event: Event, *, confirmed: bool = False) -> Event:
    """Make a published event a draft again; with people registered only when confirmed."""
    require_role(actor, event, ORGANIZER)
    if event.status == DRAFT:
        return event
    registered = registered_count(event)
    if registered and not confirmed:
        raise NeedsConfirmation(registered)
    event.status = DRAFT
    db.session.flush()
    audit.record(actor, event, "event.unpublish", f"{event.slug}: {registered}")
    return event


# Closing registration and archiving need no checklist: the event was published.
MOVES = {"close": (PUBLISHED, CLOSED), "reopen": (CLOSED, PUBLISHED),
         "archive": (CLOSED, ARCHIVED), "unarchive": (ARCHIVED, CLOSED)}


def move(actor, event: Event, move_name: str) -> Event:
    """Close registration, open it again, archive, or take out of the archive."""
    require_role(actor, event, ORGANIZER)
    if move_name not in MOVES or event.status != MOVES[move_name][0]:
        raise ValidationError(_("Det kan ikke lade sig gøre med arrangementets status nu."))
    event.status = MOVES[move_name][1]
    db.session.flush()
    audit.record(actor, event, "event.edit", event.slug)
    return event


# The event's own rules ---------------------------------------------------------------


def _dates(event: Event) -> bool:
    return bool(event.starts_at and event.ends_at and event.ends_at > event.starts_at
                and event.ends_at > utcnow())


def _window(event: Event) -> bool:
    return bool(event.registration_opens_at and event.registration_closes_at
                and event.registration_closes_at > utcnow())


def _contact(event: Event) -> bool:
    return bool((event.contact_email or "").strip())


def event_rules() -> list[Rule]:
    """What the event itself must hold before it is published."""
    rules = [
        Rule("dates", _l("Dato og tid"),
             _l("Angiv start og slut, og slut skal ligge i fremtiden."), _dates,
             anchor="starts_at", order=10),
        Rule("place", _l("Sted"), _l("Skriv hvor arrangementet holdes."),
             lambda e: bool((e.venue or "").strip()), anchor="venue", order=20),
        Rule("capacity", _l("Antal pladser"), _l("Angiv hvor mange der kan deltage."),
             lambda e: e.capacity is not None and e.capacity > 0, anchor="capacity",
             order=30),
        Rule("privacy", _l("Privatlivspolitik"),
             _l("Skriv, hvordan deltagernes oplysninger bruges."),
             lambda e: bool((e.privacy_notice or "").strip()), anchor="privacy_notice",
             order=50),
        Rule("window", _l("Tilmeldingsperiode"),
             _l("Angiv hvornår tilmeldingen åbner og lukker (lukker i fremtiden)."), _window,
             anchor="registration_opens_at", order=60),
        Rule("contact", _l("Kontaktadresse"),
             _l("Skriv en e-mailadresse, deltagerne kan skrive til."), _contact,
             anchor="contact_email", order=40),
    ]
    return rules
