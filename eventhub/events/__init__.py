"""Events, organizations and the staff roles on each event."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Event pages and the organizers' event list."""
    from eventhub.events import auditlog, manage_views, publishing, views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.manage_bp)
    app.register_blueprint(manage_views.bp)
    for rule in publishing.event_rules():
        publishing.add_rule(app, rule)
    auditlog.register(app)

