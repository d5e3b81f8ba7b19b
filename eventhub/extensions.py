"""Unbound Flask extensions, bound to an app in ``create_app``; and the process's Redis
connection pool, which the rate limits, the live-results broker and /readyz share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from eventhub.db import Base

if TYPE_CHECKING:
    import redis
    from flask import Flask

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "redis+unix://")


def is_redis_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(REDIS_SCHEMES)


def redis_pool(app: Flask, url: str) -> redis.BlockingConnectionPool:
    """This process's connections to the Redis at ``url``, one pool per app and URL.

    A gevent worker runs hundreds of requests at once, and each asks Redis for its
    rate-limit check. redis-py's default pool refuses a connection beyond its 100th with
    "Too many connections" (a 503 for a vote that was fine); this pool opens at most
    ``REDIS_MAX_CONNECTIONS`` and lets a request wait up to ``REDIS_POOL_TIMEOUT`` seconds
    for one to come free. A command holds its connection only for its round trip, so a
    few dozen connections serve thousands of waiting requests; an unreachable Redis still
    fails within ``REDIS_TIMEOUT_SECONDS`` (connect and read timeouts).
    """
    pools = app.extensions.setdefault("eventhub_redis_pools", {})
    pool = pools.get(url)
    if pool is None:
        import redis

        timeout = app.config.get("REDIS_TIMEOUT_SECONDS", 2)
        pool = pools[url] = redis.BlockingConnectionPool.from_url(
            url.replace("redis+unix://", "unix://", 1),
            max_connections=app.config.get("REDIS_MAX_CONNECTIONS", 50),
            timeout=app.config.get("REDIS_POOL_TIMEOUT", 10),
            socket_timeout=timeout, socket_connect_timeout=timeout,
            health_check_interval=15)
    return pool


def init_limiter(app: Flask) -> None:
    """Bind the rate limiter; a Redis storage uses the process's shared pool."""
    options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    uri = app.config.get("RATELIMIT_STORAGE_URI")
    if is_redis_url(uri) and "connection_pool" not in options:
        options["connection_pool"] = redis_pool(app, uri)
    app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    limiter.init_app(app)
