"""EventHub: the application factory."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from eventhub import (
    accounts,
    api,
    community,
    directory,
    events,
    followup,
    i18n,
    meetings,
    messaging,
    polls,
    privacy,
    programme,
    registration,
    transactions,
)
from eventhub.db import configure_sqlite
from eventhub.extensions import csrf, db, init_limiter, login_manager, migrate
from eventhub.paths import MIGRATIONS_DIR, STATIC_DIR, TEMPLATES_DIR
from eventhub.settings import INSTANCE_DIR, config_for

# The domains, bottom up: each wires its blueprints, panels and privacy parts.
DOMAINS = (accounts, events, registration, programme, polls, directory, privacy, followup,
           community, meetings, messaging, api)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` (tests) overrides the environment's settings."""
    app = transactions.TransactionalFlask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(TEMPLATES_DIR),
        static_folder=str(STATIC_DIR),
    )
    app.config.from_object(config_for((config or {}).get("ENV_NAME")))
    if config:
        app.config.update(config)
    _ensure_secret_key(app)
    register_extensions(app)
    i18n.init_app(app)
    transactions.init_app(app)
    register_blueprints(app)
    register_security(app)
    register_errorhandlers(app)
    register_templates(app)
    register_cli(app)
    register_operations(app)
    from eventhub.realtime import init_broker

    init_broker(app)
    if app.config.get("MAIL_DELIVER_IN_PROCESS"):
        from eventhub import scheduler
        from eventhub.mail import start_worker_thread

        start_worker_thread(app)
        scheduler.start_thread(app)
    return app


def _ensure_secret_key(app: Flask) -> None:
    """Production needs SECRET_KEY; development keeps a generated one in instance/."""
    if app.config.get("SECRET_KEY"):
        return
    if app.config.get("ENV_NAME") == "production":
        raise RuntimeError(
            "SECRET_KEY is not set. Production refuses to start without it: "
            "set SECRET_KEY to a long random value (python -c 'import secrets; "
            "print(secrets.token_hex(32))')."
        )
    key_file = Path(app.instance_path) / "secret_key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        os.chmod(key_file, 0o600)
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def register_extensions(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if uri.startswith("postgresql") and app.config.get("DATABASE_CONNECT_TIMEOUT"):
        # A database that is down answers 503 within seconds instead of hanging.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"connect_timeout": app.config["DATABASE_CONNECT_TIMEOUT"],
                                   **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                configure_sqlite(engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), compare_type=True)
    csrf.init_app(app)
    init_limiter(app)

    from eventhub.accounts.services import load_user

    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"

    # Import every model so metadata (and Alembic) sees all tables.
    from eventhub import images, mail  # noqa: F401
    from eventhub.accounts import models as _a  # noqa: F401
    from eventhub.api import models as _api  # noqa: F401
    from eventhub.community import models as _c  # noqa: F401
    from eventhub.directory import models as _d  # noqa: F401
    from eventhub.events import models as _e  # noqa: F401
    from eventhub.followup import models as _f  # noqa: F401
    from eventhub.polls import models as _pl  # noqa: F401
    from eventhub.programme import models as _p  # noqa: F401
    from eventhub.registration import models as _r  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from eventhub import admin, site

    app.register_blueprint(site.bp)
    for domain in DOMAINS:
        domain.init_app(app)
    app.register_blueprint(admin.bp)


def register_security(app: Flask) -> None:
    csp = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )

    @app.after_request
    def security_headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", csp)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def register_errorhandlers(app: Flask) -> None:
    from eventhub.site import register_error_pages

    register_error_pages(app)


def register_templates(app: Flask) -> None:
    from eventhub.site import register_template_helpers

    register_template_helpers(app)


def register_operations(app: Flask) -> None:
    """Behind a proxy, request logs, /metrics and /readyz (eventhub/observability.py)."""
    from eventhub import observability

    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    observability.init_app(app)


def register_cli(app: Flask) -> None:
    from eventhub.cli import register_commands

    register_commands(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
