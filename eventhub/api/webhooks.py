"""Webhook endpoints and the messages queued for them.

A domain emits a signal (``eventhub.signals``); ``on_signal`` queues one delivery per
endpoint that wants that type, in the same transaction as the change itself. The
payload carries the type, the time and ids; the receiver fetches details through the
API. ``delivery.py`` sends the queue, signed as Standard Webhooks says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select

from eventhub import audit
from eventhub.accounts.models import User
from eventhub.api import netguard
from eventhub.api.models import WebhookDelivery, WebhookEndpoint
from eventhub.db import utcnow
from eventhub.errors import NotFound, ValidationError
from eventhub.events.models import ORGANIZER, Event, EventRole
from eventhub.events.services import require_role
from eventhub.extensions import db

EVENT_TYPES = {
    "registration.created": _l("Ny tilmelding"),
    "registration.cancelled": _l("Tilmelding afmeldt"),
    "checkin.created": _l("Checket ind"),
    "poll.closed": _l("Afstemning lukket"),
    "lead.stage_changed": _l("Lead flyttet til et nyt trin"),
    "experience.created": _l("Ny erfaring registreret"),
}
TEST_TYPE = "webhook.test"
PENDING, SENDING, DELIVERED, FAILED = "pending", "sending", "delivered", "failed"
STATUS_LABELS = {PENDING: _l("Venter"), SENDING: _l("Sendes"), DELIVERED: _l("Leveret"),
                 FAILED: _l("Opgivet")}
KEEP_LOG = timedelta(days=30)
MAX_URL = 500


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,`` and the HMAC-SHA256 of
    ``{id}.{timestamp}.{body}`` with the secret's key (Standard Webhooks)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


# Endpoints ------------------------------------------------------------------------------


def check_url(url: str) -> str:
    """An http(s) URL whose host is on the internet (loopback only when allowed)."""
    url = (url or "").strip()
    if not url:
        raise ValidationError(_("Skriv modtagerens adresse."), "url")
    if len(url) > MAX_URL:
        raise ValidationError(_("Adressen er for lang (højst 500 tegn)."), "url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(_("Adressen skal begynde med https:// (eller http://)."), "url")
    if parts.username or parts.password:
        raise ValidationError(_("Adressen må ikke indeholde brugernavn eller adgangskode."),
                              "url")
    try:
        netguard.check_host(parts.hostname, parts.port or (443 if parts.scheme == "https"
                                                           else 80))
    except netguard.Refused as exc:
        raise ValidationError(str(exc), "url") from None
    return url


def _check_types(types: list[str]) -> list[str]:
    chosen = sorted(set(types or []))
    if not chosen:
        raise ValidationError(_("Vælg mindst én slags hændelse."), "event_types")
    if any(t not in EVENT_TYPES for t in chosen):
        raise ValidationError(_("Ukendt slags hændelse."), "event_types")
    return chosen


def endpoints_for(actor: User, event: Event) -> list[WebhookEndpoint]:
    """Endpoints that hear about this event: its own and the actor's organization-wide."""
    require_role(actor, event, ORGANIZER)
    return list(db.session.scalars(select(WebhookEndpoint).where(or_(
        WebhookEndpoint.event_id == event.id,
        WebhookEndpoint.event_id.is_(None) & (WebhookEndpoint.owner_id == actor.id)))
        .order_by(WebhookEndpoint.id)))


def get_endpoint(actor: User, event: Event, endpoint_id: int) -> WebhookEndpoint:
    endpoint = next((e for e in endpoints_for(actor, event) if e.id == endpoint_id), None)
    if endpoint is None:
        raise NotFound(_("Modtageren findes ikke."))
    return endpoint


def create_endpoint(actor: User, event: Event, url: str, types: list[str], *,
                    whole_organization: bool = False) -> WebhookEndpoint:
    """Register a receiver for this event (or every event the actor organizes)."""
    require_role(actor, event, ORGANIZER)
    endpoint = WebhookEndpoint(
        event_id=None if whole_organization else event.id, owner_id=actor.id,
        url=check_url(url), secret=new_secret(), event_types=_check_types(types))
    db.session.add(endpoint)
    db.session.flush()
    audit.record(actor, event, "webhook.create", f"#{endpoint.id} {endpoint.url}"[:200])
    return endpoint


def update_endpoint(actor: User, event: Event, endpoint: WebhookEndpoint, url: str,
                    types: list[str], active: bool) -> None:
    require_role(actor, event, ORGANIZER)
    endpoint.url, endpoint.event_types = check_url(url), _check_types(types)
    if active and not endpoint.active:
        endpoint.disabled_reason = ""
    endpoint.active = active
    db.session.flush()
    audit.record(actor, event, "webhook.edit", f"#{endpoint.id} {endpoint.url}"[:200])


def delete_endpoint(actor: User, event: Event, endpoint: WebhookEndpoint) -> None:
    require_role(actor, event, ORGANIZER)
    audit.record(actor, event, "webhook.delete", f"#{endpoint.id} {endpoint.url}"[:200])
    db.session.delete(endpoint)
    db.session.flush()


def deliveries_of(endpoint: WebhookEndpoint, limit: int = 100) -> list[WebhookDelivery]:
    """The endpoint's delivery log, newest first (30 days are kept)."""
    return list(db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc()).limit(limit)))


# Queueing ------------------------------------------------------------------------------


def _queue(endpoint: WebhookEndpoint, kind: str, data: dict[str, Any],
           message_id: str | None = None) -> WebhookDelivery:
    now = utcnow()
    message_id = message_id or new_message_id()
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id, event_type=kind, message_id=message_id,
        payload={"type": kind, "timestamp": now.isoformat().replace("+00:00", "Z"),
                 "data": data},
        status=PENDING, next_attempt_at=now, created_at=now)
    db.session.add(delivery)
    return delivery


def _listening(event_id: int, kind: str) -> list[WebhookEndpoint]:
    organizers = select(EventRole.user_id).where(EventRole.event_id == event_id,
                                                 EventRole.role == ORGANIZER)
    admins = select(User.id).where(User.is_admin.is_(True))
    candidates = db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.active.is_(True),
        or_(WebhookEndpoint.event_id == event_id,
            WebhookEndpoint.event_id.is_(None) & (WebhookEndpoint.owner_id.in_(organizers)
                                                  | WebhookEndpoint.owner_id.in_(admins))))
        .order_by(WebhookEndpoint.id))
    return [e for e in candidates if kind in (e.event_types or [])]


def on_signal(kind: str, ids: dict[str, Any]) -> None:
    """Queue ``kind`` for every endpoint that wants it (same transaction as the cause)."""
    event_id = ids.get("event_id")
    if kind not in EVENT_TYPES or event_id is None:
        return
    slug = db.session.scalar(select(Event.slug).where(Event.id == event_id))
    data = {"event": slug, **{k: v for k, v in ids.items() if k != "event_id"}}
    for endpoint in _listening(event_id, kind):
        _queue(endpoint, kind, data)


def send_test(actor: User, event: Event, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a test message to this endpoint."""
    require_role(actor, event, ORGANIZER)
    delivery = _queue(endpoint, TEST_TYPE, {"event": event.slug})
    db.session.flush()
    return delivery


def redeliver(actor: User, event: Event, endpoint: WebhookEndpoint,
              delivery_id: int) -> WebhookDelivery:
    """Queue a delivery again: same message and id (receivers deduplicate by it)."""
    require_role(actor, event, ORGANIZER)
    old = db.session.get(WebhookDelivery, delivery_id)
    if old is None or old.endpoint_id != endpoint.id:
        raise NotFound(_("Leveringen findes ikke."))
    again = WebhookDelivery(endpoint_id=endpoint.id, event_type=old.event_type,
                            message_id=old.message_id, payload=old.payload, status=PENDING)
    db.session.add(again)
    db.session.flush()
    return again


def prune_log() -> int:
    """Forget deliveries older than 30 days that are no longer waiting."""
    result = db.session.execute(delete(WebhookDelivery).where(
        WebhookDelivery.created_at < utcnow() - KEEP_LOG,
        WebhookDelivery.status.in_((DELIVERED, FAILED))))
    return result.rowcount or 0
