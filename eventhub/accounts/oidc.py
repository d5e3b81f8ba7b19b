"""Single sign-on for staff with OpenID Connect (Authorization Code + PKCE, Authlib).

Configured from the environment: ``OIDC_ISSUER``, ``OIDC_CLIENT_ID``,
``OIDC_CLIENT_SECRET``. The identity provider only says who someone is: the account is
found by its verified email address (created on first sign-in), and roles are still
granted per event in EventHub. Password and magic-link sign-in stay as they are.

Authlib checks the ``state`` (tied to this browser's session), sends a PKCE challenge and
a ``nonce``, and verifies the ID token: signature against the provider's published keys,
issuer, audience, expiry and nonce. Every refusal gets a message a person can act on.
"""

from __future__ import annotations

from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from flask_babel import gettext as _
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)

from eventhub.accounts.models import User
from eventhub.accounts.services import check_email, get_or_create_user
from eventhub.errors import DomainError, ValidationError
from eventhub.extensions import db

NAME = "org"
_KEY = "eventhub.oidc"


class SignInRefused(DomainError):
    status_code = 400


def enabled(app: Flask | None = None) -> bool:
    cfg = (app or current_app).config
    return bool(cfg.get("OIDC_ISSUER") and cfg.get("OIDC_CLIENT_ID"))


def init_app(app: Flask) -> None:
    """Register the provider's client on this app (nothing when not configured)."""
    if not enabled(app):
        return
    oauth = OAuth(app)
    issuer = app.config["OIDC_ISSUER"].rstrip("/")
    oauth.register(
        NAME, client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config.get("OIDC_CLIENT_SECRET"),
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256",
                       "timeout": 10})
    app.extensions[_KEY] = oauth


def client():
    return current_app.extensions[_KEY].create_client(NAME)


def refusal(exc: Exception) -> str:
    """What to tell the person when the provider's answer is refused."""
    if isinstance(exc, MismatchingStateError):
        return _("Login-svaret passer ikke til et login, der er startet i denne browser "
                 "(state). Start forfra fra login-siden.")
    if isinstance(exc, ExpiredTokenError):
        return _("Beviset fra din organisations login er udløbet. Start forfra.")
    if isinstance(exc, BadSignatureError):
        return _("Beviset fra din organisations login har en ugyldig signatur og afvises.")
    if isinstance(exc, InvalidClaimError | MissingClaimError) and "nonce" in str(exc):
        return _("Beviset fra din organisations login hører ikke til dette login-forsøg "
                 "(nonce). Start forfra.")
    if isinstance(exc, JoseError):
        return _("Beviset fra din organisations login kunne ikke godkendes. Start forfra.")
    if isinstance(exc, OAuthError):
        return _("Din organisations login afviste forespørgslen. Prøv igen, eller log ind "
                 "på en anden måde.")
    return _("Vi kunne ikke tale med din organisations login lige nu. Prøv igen om lidt.")


def user_for(claims: dict) -> User:
    """The account for a signed-in person: found or made by verified email address."""
    if claims.get("email_verified") is not True:
        raise SignInRefused(_("Din organisation har ikke bekræftet din e-mailadresse, så vi "
                              "kan ikke finde din konto. Log ind med adgangskode eller "
                              "login-link i stedet."))
    try:
        email = check_email(str(claims.get("email") or ""))
    except ValidationError:
        raise SignInRefused(_("Din organisations login sendte ingen gyldig "
                              "e-mailadresse.")) from None
    name = " ".join(str(claims.get("name") or "").split())[:200]
    user = get_or_create_user(email, name)
    if not user.active:
        raise SignInRefused(_("Kontoen er lukket. Kontakt en administrator."))
    if name and not user.name:
        user.name = name
    db.session.flush()
    return user
