"""The app's settings under test, and which database the run uses."""

from __future__ import annotations

from pathlib import Path

from config import database_url


def on_postgres() -> bool:
    """True in the PostgreSQL pass (``DATABASE_URL=postgresql://…``)."""
    return database_url().startswith("postgresql")


def app_config(uri: str, tmp: Path) -> dict:
    """Settings for an app on the test database ``uri``, with its mail folder in ``tmp``."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": uri,
        "MAIL_BACKEND": "folder",
        "MAIL_FOLDER": str(tmp / "mail"),
        "BASE_URL": "http://localhost",
        "SERVER_NAME": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_DELIVER_IN_PROCESS": False,
    }
