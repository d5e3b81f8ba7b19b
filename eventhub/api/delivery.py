"""The webhook worker: sends queued deliveries, in order per endpoint, signed.

Like the mail outbox: a delivery is claimed with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL)
and a conditional update to "sending" with a lease (both databases), committed before the
receiver is called, so several workers never send the same row and no lock is held
while a slow receiver answers. Only the oldest
waiting delivery of an endpoint is ever due, so an endpoint gets its messages in the
order they happened. A failure is tried again with exponential backoff for up to
``WEBHOOK_RETRY_HOURS`` (3 days); 410 Gone disables the endpoint. 10 s timeout, no
redirects followed, and only public addresses (``netguard``).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
from flask import current_app
from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import aliased

from eventhub.api import netguard
from eventhub.api.models import WebhookDelivery, WebhookEndpoint
from eventhub.api.webhooks import DELIVERED, FAILED, PENDING, SENDING, prune_log, sign
from eventhub.db import utcnow
from eventhub.extensions import db

log = logging.getLogger(__name__)
TIMEOUT = 10  # seconds
MAX_DELAY = timedelta(hours=12)
BATCH = 25  # deliveries to one endpoint claimed together
LEASE = timedelta(seconds=BATCH * TIMEOUT + 60)  # a claimed row is due again after this


@dataclass
class Round:
    delivered: int = 0
    failed: int = 0


def retry_delay(attempts: int, base_seconds: float) -> timedelta:
    """base, 2×base, 4×base … at most 12 hours apart."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_DELAY)


def _due_statement():
    earlier = aliased(WebhookDelivery)
    return (
        select(WebhookDelivery.id, WebhookDelivery.endpoint_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.status.in_((PENDING, SENDING)),
               WebhookDelivery.next_attempt_at <= utcnow(),
               WebhookEndpoint.active.is_(True),
               ~exists().where(and_(earlier.endpoint_id == WebhookDelivery.endpoint_id,
                                    earlier.status.in_((PENDING, SENDING)),
                                    earlier.id < WebhookDelivery.id)))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )


def _claim() -> list[WebhookDelivery]:
    """Take the next due delivery and the ones queued after it for the same endpoint (up
    to ``BATCH``, in order) for a lease, committed at once: no transaction stays open
    while the receiver is called. Rows whose worker died are due again after the lease."""
    while True:
        head = db.session.execute(_due_statement()).first()
        if head is None:
            db.session.commit()
            return []
        head_id, endpoint_id = head
        now = utcnow()
        ids = list(db.session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.id >= head_id,
                   WebhookDelivery.status.in_((PENDING, SENDING)),
                   WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.id).limit(BATCH)))
        if not ids or ids[0] != head_id:  # taken meanwhile: order needs the head first
            db.session.rollback()
            continue
        taken = db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids),
                   WebhookDelivery.status.in_((PENDING, SENDING)),
                   WebhookDelivery.next_attempt_at <= now)
            .values(status=SENDING, next_attempt_at=now + LEASE)).rowcount
        if taken == len(ids):
            db.session.commit()
            return list(db.session.scalars(select(WebhookDelivery).where(
                WebhookDelivery.id.in_(ids)).order_by(WebhookDelivery.id)))
        db.session.rollback()  # another worker was first (SQLite has no SKIP LOCKED)


def deliver_due(limit: int = 500, http: requests.Session | None = None) -> Round:
    """Send deliveries whose time has come, a claimed batch at a time; a batch stops at
    its first failure (the rest wait behind it, in order)."""
    cfg = current_app.config
    http = http or netguard.session(bool(cfg.get("WEBHOOK_ALLOW_LOOPBACK")))
    done = Round()
    while done.delivered + done.failed < limit:
        batch = _claim()
        if not batch:
            break
        for n, delivery in enumerate(batch):
            if _send(http, delivery):
                done.delivered += 1
                continue
            done.failed += 1
            for waiting in batch[n + 1:]:
                waiting.status, waiting.next_attempt_at = PENDING, utcnow()
            break
        db.session.commit()
    return done


def _send(http: requests.Session, delivery: WebhookDelivery) -> bool:
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "EventHub-Webhooks/1",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(endpoint.secret, delivery.message_id, timestamp, body),
    }
    delivery.attempts += 1
    try:
        response = http.post(endpoint.url, data=body, headers=headers, timeout=TIMEOUT,
                             allow_redirects=False)
        response.close()
    except Exception as exc:  # refused address, timeout, connection: all retried
        delivery.last_status_code = None
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:500]
        _retry_or_give_up(delivery)
        return False
    delivery.last_status_code = response.status_code
    if 200 <= response.status_code < 300:
        delivery.status, delivery.delivered_at, delivery.last_error = DELIVERED, utcnow(), ""
        return True
    delivery.last_error = f"HTTP {response.status_code}"
    if response.status_code == 410:
        delivery.status = FAILED
        endpoint.active = False
        endpoint.disabled_reason = "410 Gone"
        log.warning("webhook endpoint %s answered 410: disabled", endpoint.id)
        return False
    _retry_or_give_up(delivery)
    return False


def _retry_or_give_up(delivery: WebhookDelivery) -> None:
    cfg = current_app.config
    now = utcnow()
    if now - delivery.created_at >= timedelta(hours=cfg["WEBHOOK_RETRY_HOURS"]):
        delivery.status = FAILED
        return
    delivery.status = PENDING
    delivery.next_attempt_at = now + retry_delay(delivery.attempts,
                                                 cfg["WEBHOOK_RETRY_BASE_SECONDS"])


def run(loop: bool, interval: float, on_round=None) -> Round:
    """Deliver now (and every ``interval`` seconds with ``loop``); prune the 30-day log."""
    total = Round()
    http = netguard.session(bool(current_app.config.get("WEBHOOK_ALLOW_LOOPBACK")))
    last_prune = 0.0
    while True:
        done = deliver_due(http=http)
        total.delivered += done.delivered
        total.failed += done.failed
        if time.monotonic() - last_prune > 3600:
            prune_log()
            from eventhub.api.idempotency import prune

            prune()
            db.session.commit()
            last_prune = time.monotonic()
        db.session.remove()
        if on_round:
            on_round(done)
        if not loop:
            return total
        if not done.delivered and not done.failed:
            time.sleep(interval)
