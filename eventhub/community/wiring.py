"""What the community domain adds to the app (called from init_app)."""

from __future__ import annotations

from flask import Flask

from eventhub import scheduler
from eventhub.events import hooks


def register(app: Flask) -> None:
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
