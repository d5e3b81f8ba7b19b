"""Events, organizations and the staff roles on each event."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Event pages and the organizers' event list."""
    from eventhub.events import auditlog, views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.manage_bp)
    auditlog.register(app)

