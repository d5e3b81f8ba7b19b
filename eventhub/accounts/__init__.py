"""Users, sign-in with password or magic link, sessions."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Sign-in pages (and single sign-on when an identity provider is configured)."""
    from eventhub.accounts import oidc, oidc_views, views

    app.register_blueprint(views.bp)
    oidc.init_app(app)
    app.register_blueprint(oidc_views.bp)

