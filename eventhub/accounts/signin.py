"""Signing a person in on this browser: shared by password, magic-link and single
sign-on views."""

from __future__ import annotations

from flask import request, session
from flask_login import login_user

from eventhub.accounts import services
from eventhub.accounts.models import User


def sign_in_browser(user: User) -> None:
    """A fresh session on sign-in (no fixation), a server-side sign-in row for it, and
    the language choice kept."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
        session.permanent = True
    services.sign_in(user, request.user_agent.string)
    login_user(user, remember=False)
