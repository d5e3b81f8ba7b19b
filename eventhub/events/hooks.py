"""Places where domains above events add to event pages without events importing them.

Registration, programme, polls … each register a contribution when their blueprint is
loaded: a partial template and the context it needs. Imports stay one-way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint
from flask_login import login_required

from eventhub.events.models import Event


@dataclass
class Panel:
    template: str
    context: Callable[[Event, Any], dict[str, Any] | None]  # None: not shown
    order: int = 100


public_panels: list[Panel] = []  # on /e/<slug>
manage_panels: list[Panel] = []  # on /manage/e/<slug>


def render_panels(panels: list[Panel], event: Event, user: Any) -> list[tuple[str, dict]]:
    """The (template, context) pairs to include, in order."""
    shown = []
    for panel in sorted(panels, key=lambda p: p.order):
        context = panel.context(event, user)
        if context is not None:
            shown.append((panel.template, context))
    return shown


@login_required
def _signed_in() -> None:
    """Nothing to do once signed in; login_required answers everyone else."""


def staff_blueprint(name: str, import_name: str, url_prefix: str) -> Blueprint:
    """A blueprint of staff pages: every request needs a signed-in user, and each page
    checks the event role it needs (the services check again)."""
    bp = Blueprint(name, import_name, url_prefix=url_prefix)
    bp.before_request(_signed_in)
    return bp
