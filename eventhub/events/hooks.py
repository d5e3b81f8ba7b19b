"""Places where domains above events add to pages without those pages importing them.

Registration, programme, polls … each add a panel in their ``init_app``: a partial
template and the context it needs, to a named place (``EVENT_PUBLIC`` on /e/<slug>,
``EVENT_MANAGE`` on the event's staff page, ``SESSION`` under a programme session,
``POLL`` under a poll on the join page, ``PARTICIPANT`` beside each of a participant's
events on their home page). Imports stay one-way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask
from flask_login import login_required

from eventhub import contributions


@dataclass
class Panel:
    template: str
    context: Callable[[Any, Any], dict[str, Any] | None]  # None: not shown
    order: int = 100


EVENT_PUBLIC = "panels.event_public"  # on /e/<slug>: context(event, user)
EVENT_MANAGE = "panels.event_manage"  # on /manage/e/<slug>: context(event, user)
SESSION = "panels.session"  # under a programme session: context(session, registration)
POLL = "panels.poll"  # under a poll on the join page: context(poll, event)
# A participant's event on "Mine arrangementer": context(registration, user)
PARTICIPANT = "panels.participant"
# On a person's page in the directory: context(that registration, my registration or None)
PERSON = "panels.person"
# On a solution's page in an event's directory: context((event, solution), my registration)
SOLUTION = "panels.solution"


def add_panel(app: Flask, place: str, panel: Panel) -> None:
    """Show ``panel`` at ``place`` on this app's pages."""
    contributions.add(app, place, panel)


def render_panels(place: str, subject: Any, viewer: Any) -> list[tuple[str, dict]]:
    """The (template, context) pairs to include at ``place``, in order."""
    shown = []
    for panel in sorted(contributions.of(place), key=lambda p: p.order):
        context = panel.context(subject, viewer)
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
