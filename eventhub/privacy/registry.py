"""Where each domain says what it holds about a person, and how to forget it.

A domain registers, in a module of its own (``eventhub/<domain>/privacy.py``, listed in
``CONTRIBUTORS`` below, imported on first use):

- ``Section``: rows shown on "my data" and written to the JSON download;
- ``Consent``: a consent the person gave and can withdraw there;
- ``forgetter``: anonymizes what hangs on some registrations (delete participation, and
  the purge after an event's retention date), keeping rows that figures count;
- ``purger``: anonymizes what belongs to whole events past their retention date and
  hangs on no registration (anonymous voters, mails, external speakers …);
- ``corrector``: applies a corrected name / job title / organization.

The core (``eventhub.privacy.services``) only calls these, so it never imports a domain
and a new domain adds its part without touching the others. Functions flush, never
commit. The registry itself imports nothing above ``eventhub.db``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Modules that register contributions; a missing one (a domain not built yet) is skipped.
CONTRIBUTORS = [
    "eventhub.registration.privacy",
    "eventhub.programme.privacy",
    "eventhub.polls.privacy",
    "eventhub.directory.privacy",
    "eventhub.followup.privacy",
]

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


sections: list[Section] = []
consents: list[Consent] = []
_forgetters: list[_Hook] = []
_purgers: list[_Hook] = []
_correctors: list[_Hook] = []
_loaded = False


def forgetter(order: int = 100) -> Callable:
    """Register ``fn(registration_ids: list[int]) -> None``; lower orders run first
    (registrations themselves are anonymized last, at 900)."""
    return lambda fn: _forgetters.append(_Hook(fn, order)) or fn


def purger(order: int = 100) -> Callable:
    """Register ``fn(event_ids: list[int]) -> int`` (rows anonymized), run after the
    events' registrations were forgotten."""
    return lambda fn: _purgers.append(_Hook(fn, order)) or fn


def corrector(order: int = 100) -> Callable:
    """Register ``fn(subject: Subject, correction: Correction) -> None``."""
    return lambda fn: _correctors.append(_Hook(fn, order)) or fn


def load() -> None:
    """Import every contributor once (a missing domain module is fine)."""
    global _loaded
    if _loaded:
        return
    for name in CONTRIBUTORS:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Only "this domain has no privacy module (yet)" is fine, not a broken import.
            if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
                raise
    _loaded = True


def all_sections() -> list[Section]:
    load()
    return sorted(sections, key=lambda s: s.order)


def all_consents() -> list[Consent]:
    load()
    return list(consents)


def _ordered(hooks: list[_Hook]) -> list[Callable[..., Any]]:
    load()
    return [h.fn for h in sorted(hooks, key=lambda h: h.order)]


def forgetters() -> list[Callable[[list[int]], None]]:
    return _ordered(_forgetters)


def purgers() -> list[Callable[[list[int]], int]]:
    return _ordered(_purgers)


def correctors() -> list[Callable[[Subject, Correction], None]]:
    return _ordered(_correctors)


def placeholder_email(registration_id: int, token: str) -> str:
    """A unique address that is no one's (RFC 2606 .invalid)."""
    return f"slettet-{registration_id}-{token}@{PLACEHOLDER_DOMAIN}"


def is_placeholder(email: str) -> bool:
    return (email or "").endswith("@" + PLACEHOLDER_DOMAIN)

