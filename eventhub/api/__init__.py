"""REST API (/api/v1) with tokens, its OpenAPI document, and signed webhooks.

On top of every domain: it may import them all, and none imports it. Domains tell it
what happened through ``eventhub.signals``; the webhooks listen there.
"""

from __future__ import annotations

import hashlib

from flask import Flask, current_app, request

from eventhub.events import hooks


def _token_key() -> str:
    """Rate limits count per token (per address for requests without one)."""
    from flask_limiter.util import get_remote_address

    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer " and header[7:].strip():
        return "api:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    return "api-anon:" + get_remote_address()


def _api_limit() -> str:
    return current_app.config["RATELIMIT_API"]


def init_app(app: Flask) -> None:
    """The API's blueprint (CSRF-exempt: bearer tokens only, never the session cookie),
    its problem details, per-token rate limit, organizer pages, webhooks and commands."""
    from eventhub import contributions, signals
    from eventhub.api import cli, manage_views, operations, problems, views, webhooks, write_views
    from eventhub.extensions import csrf, limiter

    write_views.register_routes(views.bp)
    problems.register(views.bp)
    operations.register_body_errors(views.bp)
    csrf.exempt(views.bp)
    limiter.limit(_api_limit, key_func=_token_key)(views.bp)
    app.register_blueprint(views.bp)
    contributions.add(app, "error_pages", ("/api/", problems.for_path))
    app.register_blueprint(manage_views.bp)
    hooks.add_panel(app, hooks.EVENT_MANAGE,
                    hooks.Panel("api/_manage_panel.html", manage_views.manage_panel, 90))
    signals.listen(app, webhooks.on_signal)
    for command in (cli.create_api_token, cli.deliver_webhooks):
        app.cli.add_command(command)
