"""Configuration and the application factory."""

import importlib

import pytest

import config
from eventhub import create_app


def test_sqlite_under_instance_when_database_url_unset(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert config.database_url() == f"sqlite:///{config.INSTANCE_DIR / 'eventhub.sqlite'}"


@pytest.mark.parametrize("given", [
    "postgres://u@h:5432/d", "postgresql://u@h:5432/d", "postgresql+psycopg://u@h:5432/d",
])
def test_postgres_urls_use_psycopg3(monkeypatch, given):
    monkeypatch.setenv("DATABASE_URL", given)
    assert config.database_url() == "postgresql+psycopg://u@h:5432/d"


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("EVENTHUB_ENV", "production")
    importlib.reload(config)
    try:
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})
    finally:
        monkeypatch.delenv("EVENTHUB_ENV")
        importlib.reload(config)


def test_production_cookies_are_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("EVENTHUB_ENV", "production")
    importlib.reload(config)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})
    finally:
        monkeypatch.delenv("EVENTHUB_ENV")
        importlib.reload(config)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_keeps_a_generated_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    cfg = {"SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"}
    first = create_app(cfg)
    second = create_app(cfg)
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]


def test_testing_config(app):
    assert app.testing
    assert not create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "k"}).testing
