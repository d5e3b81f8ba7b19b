"""Where each domain says what it holds about a person, and how to forget it.

A domain adds, in its ``init_app`` (through ``eventhub/<domain>/privacy.py``):

- ``Section``: rows shown on "my data" and written to the JSON download;
- ``Consent``: a consent the person gave and can withdraw there;
- a forgetter: anonymizes what hangs on some registrations (delete participation, and
  the purge after an event's retention date), keeping rows that figures count;
- a purger: anonymizes what belongs to whole events past their retention date and
  hangs on no registration (anonymous voters, mails, external speakers …);
- a corrector: applies a corrected name / job title / organization.

The privacy domain (``eventhub.privacy``) only calls these, so it never is imported by
a domain, and a new domain adds its part without touching the others. Functions flush,
never commit. This module sits at the bottom: it imports nothing of EventHub's but the
per-app contributions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from eventhub import contributions

DELETED_NAME = "Slettet deltager"  # what an anonymized person is called
PLACEHOLDER_DOMAIN = "slettet.invalid"  # their address becomes <unique>@slettet.invalid


@dataclass
class Subject:
    """Whose data: an address and the registrations in scope."""

    email: str
    registration_ids: list[int]
    user_id: int | None = None
    # True when signed in (every event of this address); False for one personal link.
    whole_account: bool = False


@dataclass
class Correction:
    name: str
    job_title: str
    organization: str


@dataclass
class Section:
    key: str  # the JSON key
    title: Any  # heading on the page (a lazy string)
    collect: Callable[[Subject], list[dict[str, Any]]]  # JSON-ready rows
    labels: dict[str, Any] = field(default_factory=dict)  # the columns shown on the page
    order: int = 100
    # How a column's stored value reads on the page (a code → its label); the JSON
    # download keeps the value as collected.
    shown: dict[str, Callable[[Any], Any]] = field(default_factory=dict)


@dataclass
class Consent:
    key: str
    label: Any
    given: Callable[[Subject], list[str]]  # what it covers now, e.g. event titles; [] = none
    withdraw: Callable[[Subject], None]


@dataclass
class _Hook:
    fn: Callable[..., Any]
    order: int


_SECTIONS = "privacy.sections"
_CONSENTS = "privacy.consents"
_FORGETTERS = "privacy.forgetters"
_PURGERS = "privacy.purgers"
_CORRECTORS = "privacy.correctors"


def add_section(app: Flask, section: Section) -> None:
    contributions.add(app, _SECTIONS, section)


def add_consent(app: Flask, consent: Consent) -> None:
    contributions.add(app, _CONSENTS, consent)


def add_forgetter(app: Flask, fn: Callable[[list[int]], None], order: int = 100) -> None:
    """``fn(registration_ids)``; lower orders run first (registrations themselves are
    anonymized last, at 900)."""
    contributions.add(app, _FORGETTERS, _Hook(fn, order))


def add_purger(app: Flask, fn: Callable[[list[int]], int], order: int = 100) -> None:
    """``fn(event_ids) -> rows anonymized``, run after the events' registrations were
    forgotten."""
    contributions.add(app, _PURGERS, _Hook(fn, order))


def add_corrector(app: Flask, fn: Callable[[Subject, Correction], None],
                  order: int = 100) -> None:
    contributions.add(app, _CORRECTORS, _Hook(fn, order))


def all_sections() -> list[Section]:
    return sorted(contributions.of(_SECTIONS), key=lambda s: s.order)


def all_consents() -> list[Consent]:
    return contributions.of(_CONSENTS)


def _ordered(kind: str) -> list[Callable[..., Any]]:
    return [h.fn for h in sorted(contributions.of(kind), key=lambda h: h.order)]


def forgetters() -> list[Callable[[list[int]], None]]:
    return _ordered(_FORGETTERS)


def purgers() -> list[Callable[[list[int]], int]]:
    return _ordered(_PURGERS)


def correctors() -> list[Callable[[Subject, Correction], None]]:
    return _ordered(_CORRECTORS)


def placeholder_email(registration_id: int, token: str) -> str:
    """A unique address that is no one's (RFC 2606 .invalid)."""
    return f"slettet-{registration_id}-{token}@{PLACEHOLDER_DOMAIN}"


def is_placeholder(email: str) -> bool:
    return (email or "").endswith("@" + PLACEHOLDER_DOMAIN)

