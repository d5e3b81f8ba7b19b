"""EventHub: the application factory."""

from __future__ import annotations

import functools
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, request, session
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine

from eventhub.extensions import babel, csrf, db, limiter, login_manager, migrate
from eventhub.paths import MIGRATIONS_DIR, STATIC_DIR, TEMPLATES_DIR
from eventhub.settings import INSTANCE_DIR, config_for


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` (tests) overrides the environment's settings."""
    app = Flask(
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
    register_i18n(app)
    register_blueprints(app)
    register_security(app)
    register_errorhandlers(app)
    register_templates(app)
    register_cli(app)
    register_operations(app)
    from eventhub.realtime import init_broker

    init_broker(app)
    if app.config.get("MAIL_DELIVER_IN_PROCESS"):
        from eventhub.mail import start_worker_thread

        start_worker_thread(app)
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


@sa_event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys, wait for locks, let readers run beside a writer."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


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
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)

    from eventhub.accounts.services import load_user

    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"

    # Import every model so metadata (and Alembic) sees all tables.
    from eventhub import mail  # noqa: F401
    from eventhub.accounts import models as _a  # noqa: F401
    from eventhub.directory import models as _d  # noqa: F401
    from eventhub.directory import search as _ds  # noqa: F401  (keeps the index in step)
    from eventhub.events import models as _e  # noqa: F401
    from eventhub.followup import models as _f  # noqa: F401
    from eventhub.polls import models as _pl  # noqa: F401
    from eventhub.programme import models as _p  # noqa: F401
    from eventhub.registration import models as _r  # noqa: F401
    from eventhub.registration import services as _rs  # noqa: F401  (signal receivers)


@functools.cache
def _locale(name: str):
    from babel import Locale

    return Locale.parse(name)


def select_locale():
    """The visitor's language as a babel ``Locale``: ``?lang=``, else the one chosen
    earlier in this session, else Danish. Parsed once per language: Flask-Babel takes a
    Locale as it is, where it would parse a name on every request."""
    config = current_app.config
    if not has_request_context():  # CLI, workers: the default language
        return _locale(config["BABEL_DEFAULT_LOCALE"])
    wanted = request.args.get("lang")
    if wanted not in config["LANGUAGES"]:
        wanted = session.get("lang")
        if wanted not in config["LANGUAGES"]:
            wanted = config["BABEL_DEFAULT_LOCALE"]
    return _locale(wanted)


def register_i18n(app: Flask) -> None:
    from flask_babel import lazy_gettext

    babel.init_app(app, locale_selector=select_locale)
    login_manager.login_message = lazy_gettext("Log ind for at se siden.")
    login_manager.login_message_category = "info"

    @app.before_request
    def remember_language() -> None:
        wanted = request.args.get("lang")
        if wanted in app.config["LANGUAGES"] and session.get("lang") != wanted:
            session["lang"] = wanted
            session.permanent = True


def register_blueprints(app: Flask) -> None:
    from eventhub.accounts.views import bp as accounts_bp
    from eventhub.admin import bp as admin_bp
    from eventhub.directory.manage_views import bp as manage_directory_bp
    from eventhub.directory.views import bp as directory_bp
    from eventhub.directory.views import public_bp as solutions_bp
    from eventhub.events.views import bp as events_bp
    from eventhub.events.views import manage_bp
    from eventhub.followup.comms_views import bp as followup_comms_bp
    from eventhub.followup.comms_views import public_bp as followup_public_bp
    from eventhub.followup.views import bp as followup_bp
    from eventhub.polls.manage_views import bp as manage_polls_bp
    from eventhub.polls.views import bp as polls_bp
    from eventhub.privacy.views import bp as privacy_bp
    from eventhub.programme.manage_views import bp as manage_programme_bp
    from eventhub.programme.views import bp as programme_bp
    from eventhub.registration.manage_views import bp as manage_registration_bp
    from eventhub.registration.views import bp as registration_bp
    from eventhub.site import bp as site_bp

    for bp in (site_bp, accounts_bp, events_bp, manage_bp, admin_bp, registration_bp,
               manage_registration_bp, programme_bp, manage_programme_bp, polls_bp,
               manage_polls_bp, directory_bp, manage_directory_bp, solutions_bp, privacy_bp,
               followup_bp, followup_comms_bp, followup_public_bp):
        app.register_blueprint(bp)


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
