"""API tokens: created by an organizer, shown once, stored as a hash, revocable.

A token acts for the organizer who made it: every call is checked against that person's
role on the event (``events.services.require_role``), so a token can never do more than
its creator may, and a creator who loses the organizer role takes the token's access
with them. A token is for one event, or for every event its creator organizes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from eventhub import audit
from eventhub.accounts.models import User
from eventhub.api.models import ApiToken
from eventhub.db import utcnow
from eventhub.errors import DomainError, Forbidden, NotFound, ValidationError
from eventhub.events.models import ORGANIZER, Event, EventRole
from eventhub.events.services import require_role
from eventhub.extensions import db

PREFIX = "eh_"
# Resource families: each has a read and a write scope ("registrations:write").
FAMILIES = {
    "events": _l("Arrangementer og program (sessioner, oplægsholdere, lokaler)"),
    "registrations": _l("Tilmeldinger og check-in"),
    "polls": _l("Afstemninger og resultater"),
    "directory": _l("Løsninger og erfaringer"),
    "leads": _l("Leads"),
}
READ, WRITE = "read", "write"
LAST_USED_GRANULARITY = timedelta(seconds=60)


class Unauthorized(DomainError):
    status_code = 401


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def scopes_for(level: str, families: list[str] | None = None) -> list[str]:
    """The scopes for ``read`` or ``write`` on ``families`` (default: all)."""
    if level not in (READ, WRITE):
        raise ValidationError(_("Vælg læse- eller skriveadgang."), "scope")
    chosen = families or list(FAMILIES)
    levels = [READ, WRITE] if level == WRITE else [READ]
    return [f"{family}:{lvl}" for family in chosen for lvl in levels]


def check_scopes(scopes: list[str]) -> list[str]:
    known = {f"{family}:{lvl}" for family in FAMILIES for lvl in (READ, WRITE)}
    cleaned = sorted(set(scopes))
    if not cleaned:
        raise ValidationError(_("Giv nøglen adgang til mindst én slags data."), "scopes")
    if any(scope not in known for scope in cleaned):
        raise ValidationError(_("Ukendt adgang."), "scopes")
    # Write implies read.
    return sorted(set(cleaned) | {s.replace(":write", ":read") for s in cleaned})


@dataclass
class NewToken:
    token: ApiToken
    secret: str  # shown once


def create_token(actor: User, event: Event | None, name: str, scopes: list[str],
                 *, for_event: Event) -> NewToken:
    """A new token for ``event`` (None: every event the actor organizes); ``for_event``
    is the event whose page it was made from (its organizer role is required)."""
    require_role(actor, for_event, ORGANIZER)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(_("Giv nøglen et navn, så du kan kende den igen."), "name")
    if len(name) > 100:
        raise ValidationError(_("Navnet er for langt (højst 100 tegn)."), "name")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, prefix=secret[:9], token_hash=hash_token(secret),
                     scopes=check_scopes(scopes), event_id=event.id if event else None,
                     created_by_id=actor.id)
    db.session.add(token)
    db.session.flush()
    audit.record(actor, for_event, "api.token_create", f"{token.prefix}… {name}"[:200])
    return NewToken(token, secret)


def tokens_for(actor: User, event: Event) -> list[ApiToken]:
    """Tokens that reach this event: its own and the actor's organization-wide ones."""
    require_role(actor, event, ORGANIZER)
    return list(db.session.scalars(
        select(ApiToken).where(or_(
            ApiToken.event_id == event.id,
            (ApiToken.event_id.is_(None)) & (ApiToken.created_by_id == actor.id)))
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())))


def revoke(actor: User, event: Event, token_id: int) -> ApiToken:
    """Revoke a token at once (it stays listed as revoked)."""
    token = next((t for t in tokens_for(actor, event) if t.id == token_id), None)
    if token is None:
        raise NotFound(_("Nøglen findes ikke."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
        audit.record(actor, event, "api.token_revoke", f"{token.prefix}… {token.name}"[:200])
    return token


def authenticate(header: str | None) -> ApiToken:
    """The live token of an ``Authorization: Bearer …`` header, else Unauthorized."""
    scheme, _sep, raw = (header or "").partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw:
        raise Unauthorized(_("Send en API-nøgle: Authorization: Bearer <nøgle>."))
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None or token.revoked_at is not None or not token.created_by.active:
        raise Unauthorized(_("API-nøglen er ugyldig eller trukket tilbage."))
    return token


def touch(token: ApiToken) -> None:
    """Note when the token was last used (at most once a minute: reads stay cheap)."""
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        token.last_used_at = now


def require_scope(token: ApiToken, scope: str) -> None:
    if scope not in (token.scopes or []):
        raise Forbidden(_("API-nøglen har ikke adgangen %(scope)s.", scope=scope))


def event_for(token: ApiToken, slug: str) -> Event:
    """The event at ``slug`` if this token reaches it and its creator organizes it."""
    event = db.session.scalar(select(Event).where(Event.slug == slug))
    if event is None:
        raise NotFound(_("Arrangementet findes ikke."))
    if token.event_id is not None and token.event_id != event.id:
        raise Forbidden(_("API-nøglen gælder et andet arrangement."))
    require_role(token.created_by, event, ORGANIZER)
    return event


def events_of(token: ApiToken):
    """A query of the events this token reaches."""
    stmt = select(Event)
    if token.event_id is not None:
        return stmt.where(Event.id == token.event_id)
    user = token.created_by
    if user.is_admin:
        return stmt
    return stmt.where(Event.id.in_(select(EventRole.event_id).where(
        EventRole.user_id == user.id, EventRole.role == ORGANIZER)))
