"""Users, sign-in with password or magic link, sessions."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Sign-in pages."""
    from eventhub.accounts import views

    app.register_blueprint(views.bp)

