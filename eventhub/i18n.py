"""The visitor's language: Danish by default, English selectable."""

from __future__ import annotations

import functools
from datetime import datetime

from babel import Locale
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale, lazy_gettext

from eventhub.extensions import babel, login_manager


@functools.cache
def _locale(name: str) -> Locale:
    return Locale.parse(name)


def select_locale() -> Locale:
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


def localdt(value: datetime | None, fmt: str = "medium") -> str:
    """A datetime in Europe/Copenhagen, formatted for the current language."""
    if value is None:
        return ""
    patterns = {
        "medium": "EEEE d. MMMM y 'kl.' HH:mm" if str(get_locale()) == "da"
        else "EEEE d MMMM y, HH:mm",
        "short": "d. MMM y HH:mm" if str(get_locale()) == "da" else "d MMM y HH:mm",
        "time": "HH:mm",
        "date": "d. MMMM y" if str(get_locale()) == "da" else "d MMMM y",
    }
    return format_datetime(value, patterns.get(fmt, fmt))


def localday(value, fmt: str = "date") -> str:
    """A calendar day (or a month: ``fmt="month"``) in the current language."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return localdt(value, fmt if fmt != "month" else "MMMM y")
    danish = str(get_locale()) == "da"
    patterns = {"date": "d. MMMM y" if danish else "d MMMM y", "month": "MMMM y",
                "short": "d. MMM y" if danish else "d MMM y"}
    return format_date(value, patterns.get(fmt, fmt))


def in_english() -> bool:
    """Whether the page (or document) being made is in English."""
    try:
        return str(get_locale() or "") == "en"
    except RuntimeError:  # outside an app: the default language
        return False


def shown(danish: str, english: str | None) -> str:
    """A text of the organizer's in the reader's language: the English one where there
    is one and the reader reads English, else the Danish one."""
    return english if english and in_english() else danish


def _remember_language() -> None:
    """``?lang=`` is kept in the session for the pages that follow."""
    wanted = request.args.get("lang")
    if wanted in current_app.config["LANGUAGES"] and session.get("lang") != wanted:
        session["lang"] = wanted
        session.permanent = True


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    login_manager.login_message = lazy_gettext("Log ind for at se siden.")
    login_manager.login_message_category = "info"
    app.before_request(_remember_language)
