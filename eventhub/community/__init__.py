"""The organizing organization's workspace across its events (/community/), adoption
check-ins months after an event, reuse figures and open data."""

from __future__ import annotations

from flask import Flask

from eventhub import scheduler
from eventhub.events import hooks


def init_app(app: Flask) -> None:
    """Workspace and public pages, the check-in job and its mail, the lead mail, "my data"
    parts, the settings panel on the event's staff page, figures in the report."""
    from eventhub.community import checkins, privacy, report, services, views
    from eventhub.mail import add_builder

    app.register_blueprint(views.bp)
    app.register_blueprint(views.public_bp)
    hooks.add_panel(app, hooks.EVENT_MANAGE,
                    hooks.Panel("community/_manage_panel.html", report.manage_panel, 46))
    add_builder(app, checkins.MAIL, checkins.build_checkin)
    add_builder(app, "community-lead-mail", services.build_lead_mail)
    scheduler.add_job(app, "adoption-checkins", checkins.send_due)
    privacy.register(app)
    report.register(app)
