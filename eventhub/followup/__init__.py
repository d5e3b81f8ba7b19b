"""Follow-up after an event: leads to adoption, follow-up mail, post-event report."""

from __future__ import annotations

from flask import Flask

from eventhub.events import hooks


def init_app(app: Flask) -> None:
    """Follow-up pages, follow-up mail and unsubscribe; a panel on the event's staff
    page; the follow-up's part of "my data"; its mails' builders; its lines in the activity log."""
    from eventhub.followup import auditlog, comms_views, dashboard, mailing, privacy, views
    from eventhub.mail import add_builder

    app.register_blueprint(views.bp)
    app.register_blueprint(comms_views.bp)
    app.register_blueprint(comms_views.public_bp)
    hooks.add_panel(app, hooks.EVENT_MANAGE,
                    hooks.Panel("followup/_manage_panel.html", views.manage_panel, 45))
    privacy.register(app)
    auditlog.register(app)
    add_builder(app, "followup-introduction", dashboard.build_introduction)
    add_builder(app, "followup-mail", mailing.build_followup)

