"""Who is voting: a registered participant, or an anonymous phone with a signed cookie."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from flask import current_app, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, Signer

from eventhub.errors import DomainError
from eventhub.polls.models import REGISTERED, Poll
from eventhub.registration.participants import current_registration

COOKIE = "eh_voter"


class VoterUnknown(DomainError):
    status_code = 403


@functools.lru_cache(maxsize=4)
def _signer_for(secret_key: str | bytes) -> Signer:
    return Signer(secret_key, salt="poll-voter")


def _signer() -> Signer:
    return _signer_for(current_app.config["SECRET_KEY"])  # one per key, not per request


def new_voter() -> tuple[str, str]:
    """(cookie value, voter id) for a phone that has no genuine voter cookie yet."""
    voter_id = secrets.token_urlsafe(16)
    return _signer().sign(voter_id).decode(), voter_id


def vote_token(voter_id: str, secret_key: str | bytes | None = None) -> str:
    """The CSRF token for ``fetch`` votes, bound to the voter cookie it was issued with
    (an HMAC of the voter id under the app's ``SECRET_KEY``)."""
    key = current_app.config["SECRET_KEY"] if secret_key is None else secret_key
    key = key if isinstance(key, bytes) else str(key).encode()
    return hmac.new(key, b"poll-vote-token:" + voter_id.encode(), hashlib.sha256).hexdigest()


def fetch_voter() -> str:
    """The voter id of a ``fetch`` vote whose ``X-Vote-Token`` header matches its cookie.

    A missing or forged cookie, or a token that is missing or belongs to another cookie,
    is refused with a message that tells the person to reload (which mends both).
    """
    voter_id = anonymous_id()
    if voter_id is None:
        raise VoterUnknown(_("Genindlæs siden, og stem igen."))
    sent = request.headers.get("X-Vote-Token", "")
    if not hmac.compare_digest(sent.encode(), vote_token(voter_id).encode()):
        raise VoterUnknown(_("Siden er forældet. Genindlæs siden, og stem igen."))
    return voter_id


def anonymous_id() -> str | None:
    """The id in a genuine voter cookie; raises when the cookie was tampered with."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        return _signer().unsign(raw).decode()
    except BadSignature:
        raise VoterUnknown(_("Din stemmeseddel kunne ikke genkendes. Genindlæs siden, og "
                             "stem igen.")) from None


def voter_for(poll: Poll, event) -> tuple[str, int | None]:
    """(voter key, registration id) for this request, or a clear refusal."""
    if poll.audience == REGISTERED:
        reg = current_registration(event)
        if reg is None:
            raise VoterUnknown(_("Kun tilmeldte deltagere kan stemme her. Åbn dit personlige "
                                 "link fra tilmeldingsmailen først."))
        return f"r:{reg.id}", reg.id
    anon = anonymous_id()
    if anon is None:
        raise VoterUnknown(_("Genindlæs siden, og stem igen."))
    return f"a:{anon}", None


def voter_key_or_none(poll: Poll, event) -> str | None:
    """The voter key if this request has one (for showing "you voted")."""
    try:
        return voter_for(poll, event)[0]
    except DomainError:
        return None


def rate_limit_key() -> str:
    """Rate limits count per voter cookie where there is one, else per address."""
    return request.cookies.get(COOKIE) or request.remote_addr or "unknown"
