"""Domain signals: a domain says what happened (``emit("registration.created",
event_id=…, registration_id=…)``) without knowing who listens.

Listeners are added per app in a domain's ``init_app`` (``listen``), kept in
``contributions.py``; the API's webhooks listen here. A listener runs inside the
current unit of work, so whatever it stores is committed with the change itself or not
at all. Nothing listens by being imported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context

from eventhub import contributions

_KIND = "signals.listeners"
Listener = Callable[[str, dict[str, Any]], None]


def listen(app: Flask, fn: Listener) -> None:
    """Call ``fn(kind, ids)`` for every signal emitted in this app."""
    contributions.add(app, _KIND, fn)


def emit(kind: str, **ids: Any) -> None:
    """Tell this app's listeners that ``kind`` happened to the objects named by ``ids``."""
    if not has_app_context():
        return
    for fn in contributions.of(_KIND, current_app):
        fn(kind, ids)
