"""REST API (/api/v1) with tokens, its OpenAPI document, and signed webhooks.

On top of every domain: it may import them all, and none imports it. Domains tell it
what happened through ``eventhub.signals``; the webhooks listen there.
"""

from __future__ import annotations

from flask import Flask

from eventhub.events import hooks


def init_app(app: Flask) -> None:
    """The API's blueprints (CSRF-exempt: bearer tokens only, never the session cookie),
    problem details for unknown routes, organizer pages, webhooks and commands."""
    from eventhub import contributions, signals
    from eventhub.api import cli, manage_views, problems, views, webhooks, write_views
    from eventhub.extensions import csrf

    for bp in (views.bp, write_views.bp):
        csrf.exempt(bp)
        app.register_blueprint(bp)
    contributions.add(app, "error_pages", ("/api/", problems.for_path))
    app.register_blueprint(manage_views.bp)
    hooks.add_panel(app, hooks.EVENT_MANAGE,
                    hooks.Panel("api/_manage_panel.html", manage_views.manage_panel, 90))
    signals.listen(app, webhooks.on_signal)
    for command in (cli.create_api_token, cli.deliver_webhooks):
        app.cli.add_command(command)
