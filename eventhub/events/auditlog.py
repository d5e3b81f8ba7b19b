"""How the activity log words the event's own actions (roles by their labels)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from eventhub import audit
from eventhub.events.models import ROLE_LABELS


def _role(target: str) -> str:
    """"organizer: #3" → "Arrangør: #3"."""
    role, _sep, who = target.partition(": ")
    return f"{ROLE_LABELS[role]}: {who}" if who else str(ROLE_LABELS[role])


def register(app: Flask) -> None:
    """The event's actions in this app's activity log."""
    audit.add_action(app, "staff.invite", _l("Rolle givet"), _role)
    audit.add_action(app, "staff.remove", _l("Rolle fjernet"), _role)
    audit.add_action(app, "event.publish", _l("Arrangement offentliggjort"))
    audit.add_action(app, "event.unpublish", _l("Arrangement gjort til kladde igen"))
    audit.add_action(app, "event.clone", _l("Arrangement kopieret fra en tidligere udgave"))
