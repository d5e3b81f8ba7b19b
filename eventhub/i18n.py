"""The visitor's language: Danish by default, English selectable."""

from __future__ import annotations

import functools

from babel import Locale
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import lazy_gettext

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
