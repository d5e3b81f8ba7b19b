"""Configuration: every value from the environment, with safe defaults.

``create_app`` picks a class by ``EVENTHUB_ENV`` (development, production) unless a
test passes its own mapping. Nothing secret has a production default.
"""

from __future__ import annotations

import os

from eventhub.paths import instance_dir

# EVENTHUB_INSTANCE, else instance/ in a checkout, else beside the install (eventhub/paths.py).
INSTANCE_DIR = instance_dir()


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def database_url() -> str:
    """The database URL: ``DATABASE_URL`` or SQLite under ``instance/``."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'eventhub.sqlite'}"
    # Accept the common short forms and use psycopg 3 for PostgreSQL.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Development defaults: embedded SQLite, mail to a folder, in-process broker."""

    ENV_NAME = "development"
    # Unset in development: create_app keeps a generated key in instance/secret_key.
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SQLALCHEMY_DATABASE_URI = database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    REDIS_URL = os.environ.get("REDIS_URL") or None

    # Sessions and cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PERMANENT_SESSION_LIFETIME = _int("SESSION_LIFETIME_SECONDS", 14 * 24 * 3600)

    # Forms
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    WTF_I18N_ENABLED = False  # every form message is our own, in Danish and English
    # Room for a form with two 5 MB pictures (cover and logo) and its text.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 12 * 1024 * 1024)

    # Language and time
    BABEL_DEFAULT_LOCALE = "da"
    BABEL_DEFAULT_TIMEZONE = "Europe/Copenhagen"
    LANGUAGES = ("da", "en")

    # Single sign-on for staff (OpenID Connect); off while OIDC_ISSUER is unset.
    OIDC_ISSUER = os.environ.get("OIDC_ISSUER") or None
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID") or None
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET") or None

    # Magic links
    MAGIC_LINK_MAX_AGE = _int("MAGIC_LINK_MAX_AGE", 30 * 60)

    # Mail
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "folder")  # folder | smtp
    MAIL_FOLDER = os.environ.get("MAIL_FOLDER", str(INSTANCE_DIR / "mail"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "EventHub <noreply@eventhub.local>")
    # Where List-Unsubscribe's mailto: goes (default: unsubscribe@ the MAIL_FROM domain).
    MAIL_UNSUBSCRIBE_ADDRESS = os.environ.get("MAIL_UNSUBSCRIBE_ADDRESS") or None
    SMTP_HOST = os.environ.get("SMTP_HOST", "localhost")
    SMTP_PORT = _int("SMTP_PORT", 25)
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME") or None
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
    SMTP_STARTTLS = _bool("SMTP_STARTTLS", False)
    SMTP_TIMEOUT = _int("SMTP_TIMEOUT", 15)
    MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 8)
    MAIL_RETRY_BASE_SECONDS = _int("MAIL_RETRY_BASE_SECONDS", 60)
    # Changes of an event saved within this many seconds go out as one notice per person.
    CHANGE_NOTICE_WINDOW_SECONDS = _int("CHANGE_NOTICE_WINDOW_SECONDS", 600)
    # Deliver the outbox from a thread inside the web process (demo, single process).
    MAIL_DELIVER_IN_PROCESS = _bool("MAIL_DELIVER_IN_PROCESS", False)

    # Rate limits (Flask-Limiter); Redis storage when REDIS_URL is set.
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or REDIS_URL or "memory://"
    # X-RateLimit-* headers cost two more Redis round trips per limited request (a vote,
    # a registration), after its commit: off unless wanted.
    RATELIMIT_HEADERS_ENABLED = _bool("RATELIMIT_HEADERS_ENABLED", False)
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute;50 per hour")
    RATELIMIT_MAGIC_LINK = os.environ.get("RATELIMIT_MAGIC_LINK", "5 per minute;20 per hour")
    RATELIMIT_REGISTER = os.environ.get("RATELIMIT_REGISTER", "60 per minute;600 per hour")
    RATELIMIT_VOTE = os.environ.get("RATELIMIT_VOTE", "60 per minute")
    RATELIMIT_API = os.environ.get("RATELIMIT_API", "600 per minute")  # per API token

    # Webhooks: retries with backoff (base, 2×base, …) for this many hours; loopback
    # targets only when allowed (tests, a receiver on the same machine).
    WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS") or 10)
    WEBHOOK_RETRY_HOURS = _int("WEBHOOK_RETRY_HOURS", 72)
    WEBHOOK_ALLOW_LOOPBACK = _bool("WEBHOOK_ALLOW_LOOPBACK", False)
    # Close result streams after this many seconds (clients reconnect); None: never.
    SSE_MAX_SECONDS = _int("SSE_MAX_SECONDS", 0) or None

    # Production: outages answer 503 quickly instead of hanging; operations.
    DATABASE_CONNECT_TIMEOUT = _int("DATABASE_CONNECT_TIMEOUT", 3)  # seconds (PostgreSQL)
    REDIS_TIMEOUT_SECONDS = _int("REDIS_TIMEOUT_SECONDS", 2)
    # One pool of Redis connections per process, shared by rate limits, live results and
    # /readyz (eventhub/extensions.py): at most this many, and a request waits up to
    # REDIS_POOL_TIMEOUT seconds for a free one instead of failing (a gevent worker runs
    # far more requests at once than it needs connections).
    REDIS_MAX_CONNECTIONS = _int("REDIS_MAX_CONNECTIONS", 50)
    REDIS_POOL_TIMEOUT = _int("REDIS_POOL_TIMEOUT", 10)
    # Extra keyword arguments for the rate-limit storage (limits); a Redis storage gets
    # the shared pool above as ``connection_pool``, with its timeouts.
    RATELIMIT_STORAGE_OPTIONS: dict = {}
    # Proxies in front that set X-Forwarded-For/-Proto/-Host (nginx: 1); 0 trusts none.
    PROXY_HOPS = _int("PROXY_HOPS", 0)
    INSTANCE_NAME = os.environ.get("INSTANCE_NAME") or os.uname().nodename
    LOG_REQUESTS = _bool("LOG_REQUESTS", True)
    # /metrics: with a token, "Authorization: Bearer <token>" from anywhere; else loopback.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None


class ProductionConfig(Config):
    """Production: secrets must come from the environment; cookies only over HTTPS."""

    ENV_NAME = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PREFERRED_URL_SCHEME = "https"


def config_for(name: str | None = None) -> type[Config]:
    """The config class named by ``name`` or ``EVENTHUB_ENV``."""
    name = (name or os.environ.get("EVENTHUB_ENV", "development")).lower()
    return ProductionConfig if name == "production" else Config
