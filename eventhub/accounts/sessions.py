"""Sign-ins kept on the server: one LoginSession row per browser that signed in.

Flask-Login's id in the (signed, not secret-proof) session cookie is
``<user id>:<token>``; a request is signed in only while a row with that token's hash
exists and was seen within the session lifetime. Signing out deletes the row, so a
cookie copied from a shared computer is worth nothing afterwards, while the person's
other browsers stay signed in. Finding the signed-in person is one query (the row
joined with its user); the row's last-seen time is written at most every few minutes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from eventhub.accounts.models import LoginSession, User
from eventhub.db import utcnow
from eventhub.errors import NotFound
from eventhub.extensions import db

LAST_SEEN_EVERY = timedelta(minutes=5)
USER_AGENT_LENGTH = 200


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _oldest_live(now: datetime) -> datetime:
    """A sign-in last seen before this is over (PERMANENT_SESSION_LIFETIME unused)."""
    return now - current_app.permanent_session_lifetime


def start(user: User, user_agent: str = "") -> str:
    """A new sign-in of this user (its token is set on ``user`` for Flask-Login); the
    user's expired sign-ins are cleared away. Returns the token."""
    now = utcnow()
    db.session.execute(delete(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.last_seen_at < _oldest_live(now)))
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, token_hash=_hash(token), created_at=now,
                                last_seen_at=now,
                                user_agent=(user_agent or "")[:USER_AGENT_LENGTH]))
    db.session.flush()
    user.login_token = token
    return token


def load(session_id: str) -> User | None:
    """The user for a Flask-Login id ``<user id>:<token>`` while that sign-in lives."""
    user_id, _sep, token = (session_id or "").partition(":")
    if not user_id.isdigit() or not token or len(token) > 100:
        return None
    now = utcnow()
    row = db.session.execute(
        select(User, LoginSession)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == int(user_id), User.active.is_(True),
               LoginSession.token_hash == _hash(token),
               LoginSession.last_seen_at >= _oldest_live(now))
    ).first()
    if row is None:
        return None
    user, login = row
    if now - login.last_seen_at >= LAST_SEEN_EVERY:
        login.last_seen_at = now  # stored with the request's commit
    user.login_token = token
    return user


def end(user: User) -> None:
    """End the sign-in this request runs under (signing out here)."""
    if user.login_token:
        db.session.execute(delete(LoginSession).where(
            LoginSession.user_id == user.id,
            LoginSession.token_hash == _hash(user.login_token)))
    user.login_token = None
    db.session.flush()


def end_all(user: User, *, keep_current: bool = False) -> None:
    """End every sign-in of this user; with ``keep_current``, all but this request's."""
    stmt = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep_current and user.login_token:
        stmt = stmt.where(LoginSession.token_hash != _hash(user.login_token))
    db.session.execute(stmt)
    if not keep_current:
        user.login_token = None
    db.session.flush()


def end_one(user: User, sign_in_id: int) -> bool:
    """End one of the user's sign-ins (a browser left signed in elsewhere); True when it
    was the one this request runs under."""
    row = db.session.scalar(select(LoginSession).where(
        LoginSession.id == sign_in_id, LoginSession.user_id == user.id))
    if row is None:
        raise NotFound(_("Du er ikke logget ind der længere."))
    current = bool(user.login_token) and row.token_hash == _hash(user.login_token)
    db.session.delete(row)
    db.session.flush()
    if current:
        user.login_token = None
    return current


@dataclass(frozen=True)
class SignIn:
    """One live sign-in as the person sees it (never its token or hash)."""

    id: int
    browser: str
    user_agent: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


def of_user(user: User) -> list[SignIn]:
    """The user's live sign-ins, this request's first, then the most recently seen."""
    current = _hash(user.login_token) if user.login_token else None
    rows = db.session.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user.id,
               LoginSession.last_seen_at >= _oldest_live(utcnow()))
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc()))
    found = [SignIn(row.id, describe(row.user_agent), row.user_agent, row.created_at,
                    row.last_seen_at, row.token_hash == current) for row in rows]
    return sorted(found, key=lambda sign_in: not sign_in.current)


# The first name found in the User-Agent wins (Edge and Opera also say "Chrome").
_BROWSERS = (("Edg", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser", "Samsung Internet"),
             ("CriOS", "Chrome"), ("FxiOS", "Firefox"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
            ("Windows", "Windows"), ("CrOS", "ChromeOS"), ("Macintosh", "macOS"),
            ("Linux", "Linux"))


def describe(user_agent: str) -> str:
    """A browser as a person names it, e.g. "Firefox på Windows"."""
    browser = next((name for key, name in _BROWSERS if key in user_agent), None)
    system = next((name for key, name in _SYSTEMS if key in user_agent), None)
    if browser and system:
        return _("%(browser)s på %(system)s", browser=browser, system=system)
    return browser or system or _("Ukendt browser")


def purge_expired() -> int:
    """Delete every sign-in past the session lifetime; how many went."""
    result = db.session.execute(delete(LoginSession).where(
        LoginSession.last_seen_at < _oldest_live(utcnow())))
    return result.rowcount or 0
