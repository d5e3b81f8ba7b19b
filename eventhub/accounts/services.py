"""Account rules: users, passwords, sign-in and out, magic links."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from eventhub.accounts import sessions
from eventhub.accounts.models import MagicLink, User
from eventhub.accounts.redirects import safe_next_url
from eventhub.db import utcnow
from eventhub.errors import DomainError, ValidationError
from eventhub.extensions import db
from eventhub.mail import queue_mail

MIN_PASSWORD_LENGTH = 10
# Compared against when the user does not exist, so timing tells nothing.
_DUMMY_HASH = generate_password_hash("not-a-real-password-" + secrets.token_hex(8))


def normalize_email(email: str) -> str:
    """The canonical form of an address: trimmed and lower-cased."""
    return (email or "").strip().lower()


def check_email(email: str) -> str:
    """A normalised, syntactically valid address, or a ValidationError."""
    email = normalize_email(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError(
            _("Skriv en gyldig e-mailadresse, fx navn@kommune.dk."), "email"
        ) from None
    return email


def get_user_by_email(email: str) -> User | None:
    """The user with this address, if any."""
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def get_or_create_user(email: str, name: str = "") -> User:
    """The user with this address, created without a password if new."""
    email = check_email(email)
    user = get_user_by_email(email)
    if user is None:
        user = User(email=email, name=name.strip())
        db.session.add(user)
        db.session.flush()
    elif name and not user.name:
        user.name = name.strip()
    return user


def check_password_rules(password: str) -> None:
    """Staff passwords: at least 10 characters, not only digits."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            _("Adgangskoden skal have mindst %(n)d tegn.", n=MIN_PASSWORD_LENGTH), "password"
        )
    if password.isdigit():
        raise ValidationError(_("Adgangskoden må ikke kun bestå af tal."), "password")


def set_password(user: User, password: str) -> None:
    """Hash and store a new password; every other sign-in of the user ends (the one
    this request runs under, if any, stays)."""
    check_password_rules(password)
    user.password_hash = generate_password_hash(password)
    sessions.end_all(user, keep_current=True)
    db.session.flush()


def create_admin(email: str, password: str, name: str = "") -> User:
    """Create a platform admin, or make an existing user one with this password."""
    user = get_or_create_user(email, name)
    user.is_admin = True
    set_password(user, password)
    return user


def authenticate(email: str, password: str) -> User:
    """The user whose email and password match; one vague error otherwise."""
    user = get_user_by_email(email)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password or "")
        raise ValidationError(_("Forkert e-mail eller adgangskode."))
    if not check_password_hash(user.password_hash, password or ""):
        raise ValidationError(_("Forkert e-mail eller adgangskode."))
    if not user.is_active:
        raise ValidationError(_("Kontoen er lukket. Kontakt arrangøren."))
    return user


def sign_in(user: User, user_agent: str = "") -> None:
    """Start a sign-in of this user (one browser) and note when it happened."""
    user.last_login_at = utcnow()
    sessions.start(user, user_agent)


def sign_out(user: User) -> None:
    """End this request's sign-in on the server: its cookie opens nothing any more."""
    sessions.end(user)


def sign_out_everywhere(user: User) -> None:
    """End every sign-in of this user, this one included."""
    sessions.end_all(user)


def sign_out_browser(user: User, sign_in_id: int) -> bool:
    """End one of the user's sign-ins; True when it was this request's own."""
    return sessions.end_one(user, sign_in_id)


def sign_ins(user: User) -> list[sessions.SignIn]:
    """Where the user is signed in now, this browser first."""
    return sessions.of_user(user)


def load_user(session_id: str) -> User | None:
    """The user for a Flask-Login id ``<user id>:<token>`` while that sign-in lives."""
    return sessions.load(session_id)


# Magic links -----------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="magic-link")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_magic_link(email: str, next_url: str | None = None) -> str:
    """A signed, single-use, expiring sign-in URL for this address."""
    email = check_email(email)
    secret = secrets.token_urlsafe(32)
    max_age = current_app.config["MAGIC_LINK_MAX_AGE"]
    link = MagicLink(
        email=email,
        secret_hash=_hash(secret),
        next_url=safe_next_url(next_url),
        expires_at=utcnow() + timedelta(seconds=max_age),
    )
    db.session.add(link)
    db.session.flush()
    token = _serializer().dumps({"i": link.id, "s": secret})
    return current_app.config["BASE_URL"] + url_for("accounts.magic", token=token)


def send_magic_link(email: str, next_url: str | None = None) -> None:
    """Queue a sign-in link to this address (whether or not it has an account yet)."""
    email = check_email(email)
    url = create_magic_link(email, next_url)
    minutes = current_app.config["MAGIC_LINK_MAX_AGE"] // 60
    queue_mail(email, "magic_link", kind="magic-link", url=url, minutes=minutes)


class MagicLinkProblem(DomainError):
    """Why a link cannot sign anyone in; ``email`` is set when a new link may be offered."""

    def __init__(self, reason: str, email: str | None = None) -> None:
        titles = {"expired": _("Linket er udløbet"), "used": _("Linket er allerede brugt")}
        super().__init__(titles.get(reason, _("Linket er ugyldigt")))
        self.reason = reason  # "expired" | "used" | "invalid"
        self.email = email
        self.status_code = 410 if reason in titles else 400


def _read_link(token: str) -> MagicLink:
    """The link a token names, if its signature, age and secret hold; else a problem."""
    serializer = _serializer()
    try:
        payload = serializer.loads(token, max_age=current_app.config["MAGIC_LINK_MAX_AGE"])
    except SignatureExpired:
        _ok, payload = serializer.loads_unsafe(token)
        link_id = payload.get("i") if isinstance(payload, dict) else None
        link = db.session.get(MagicLink, link_id) if isinstance(link_id, int) else None
        raise MagicLinkProblem("expired", link.email if link else None) from None
    except BadSignature:
        raise MagicLinkProblem("invalid") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("i"), int) \
            or not isinstance(payload.get("s"), str):
        raise MagicLinkProblem("invalid")
    link = db.session.get(MagicLink, payload["i"])
    if link is None or not secrets.compare_digest(link.secret_hash, _hash(payload["s"])):
        raise MagicLinkProblem("invalid")
    if link.expires_at <= utcnow():
        raise MagicLinkProblem("expired", link.email)
    if link.used_at is not None:
        raise MagicLinkProblem("used", link.email)
    return link


def check_magic_link(token: str) -> MagicLinkProblem | None:
    """Why this link cannot be used, or None if it can (the link is not spent)."""
    try:
        _read_link(token)
    except MagicLinkProblem as problem:
        return problem
    return None


def consume_magic_link(token: str) -> tuple[User, str | None]:
    """Sign in with a link: the user (created if new) and where to go next.

    The link is spent by a conditional UPDATE, so two clicks racing each other
    cannot both succeed.
    """
    link = _read_link(token)
    spent = db.session.execute(
        update(MagicLink)
        .where(MagicLink.id == link.id, MagicLink.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise MagicLinkProblem("used", link.email)
    user = get_or_create_user(link.email)
    if not user.is_active:
        raise MagicLinkProblem("invalid")
    link.user_id = user.id
    # Checked again: the rule may have tightened since the link was sent.
    return user, safe_next_url(link.next_url)
