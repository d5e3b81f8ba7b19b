"""Who is voting: a registered participant, or an anonymous phone with a signed cookie."""

from __future__ import annotations

import secrets

from flask import current_app, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, Signer

from eventhub.errors import DomainError
from eventhub.polls.models import REGISTERED, Poll
from eventhub.registration.views import current_registration

COOKIE = "eh_voter"


class VoterUnknown(DomainError):
    status_code = 403


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt="poll-voter")


def new_voter_cookie() -> str:
    return _signer().sign(secrets.token_urlsafe(16)).decode()


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
