"""The community's parts on other pages: reuse figures at the end of the follow-up
report, and the settings panel on the event's staff page."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from eventhub.community import checkins, figures
from eventhub.events.models import ORGANIZER, Organization
from eventhub.events.services import has_role
from eventhub.extensions import db
from eventhub.followup import report as followup_report


def manage_panel(event, user) -> dict | None:
    """Organizing organization and check-in months, for the event's organizers."""
    if not has_role(user, event, ORGANIZER):
        return None
    orgs = db.session.scalars(select(Organization).where(Organization.kind.in_(
        ("company", "knowledge", "other", "region"))).order_by(Organization.name)).all()
    from eventhub.forms import ActionForm

    return {"hosts": orgs, "months": ", ".join(str(m) for m in checkins.months_of(event)),
            "form": ActionForm()}


def section(event) -> dict:
    return {"figures": figures.for_event(event), "barometer": figures.BAROMETER,
            "kinds": figures.KINDS}


def register(app: Flask) -> None:
    followup_report.add_section(app, "community/_figures.html", section)
