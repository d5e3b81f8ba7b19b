"""``Idempotency-Key`` on POST: the same key (per token) within 24 hours gets the same
response; a duplicate while the first is still running gets 409.

The claim is written and committed on a connection of its own before the work starts,
so a concurrent duplicate sees it at once (on PostgreSQL the request's own transaction
would keep it hidden until the end). The response is stored in the request's own
transaction, together with the work it answers: both are kept, or neither. A refused
request releases its claim, so the client may correct it and send the same key again.
A claim left behind by a crashed process is taken over after ``STALE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Response
from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from eventhub.api.models import ApiToken, IdempotencyKey
from eventhub.api.problems import problem
from eventhub.db import utcnow
from eventhub.errors import Conflict, ValidationError
from eventhub.extensions import db

KEEP = timedelta(hours=24)
STALE = timedelta(minutes=2)
MAX_KEY = 200
_TABLE = IdempotencyKey.__table__
REPLAYED_HEADERS = ("Location", "Content-Type")


@dataclass
class Claim:
    id: int


def _check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable() or not key.isascii():
        raise ValidationError(_("Idempotency-Key skal være 1–200 synlige ASCII-tegn."),
                              "Idempotency-Key")
    return key


def claim(token: ApiToken, key: str | None, fingerprint: str) -> Claim | Response | None:
    """Claim ``key`` for this request: a Claim, the stored response of an earlier one, or
    None without a key. Raises Conflict while a duplicate is in flight."""
    if key is None:
        return None
    key = _check_key(key)
    now = utcnow()
    with db.engine.connect() as conn, conn.begin():
        row = conn.execute(select(_TABLE).where(
            _TABLE.c.token_id == token.id, _TABLE.c.key == key)).mappings().first()
        if row is not None:
            created = row["created_at"]
            expired = now - created > KEEP or (not row["done"] and now - created > STALE)
            if not expired:
                return _answer_existing(row, fingerprint)
            conn.execute(delete(_TABLE).where(_TABLE.c.id == row["id"]))
        try:
            with conn.begin_nested():
                new_id = conn.execute(_TABLE.insert().values(
                    token_id=token.id, key=key, fingerprint=fingerprint, done=False,
                    created_at=now)).inserted_primary_key[0]
        except IntegrityError:
            raise _in_flight() from None
    return Claim(new_id)


def _in_flight() -> Conflict:
    return Conflict(_("En forespørgsel med samme Idempotency-Key er stadig i gang. "
                      "Vent på svaret, og prøv igen."), "Idempotency-Key")


def _answer_existing(row, fingerprint: str) -> Response:
    if row["fingerprint"] != fingerprint:
        return problem(422, _("Idempotency-Key er allerede brugt til en anden forespørgsel "
                              "inden for 24 timer. Brug en ny nøgle."))
    if not row["done"]:
        raise _in_flight()
    response = Response(row["response_body"] or "", status=row["response_status"] or 200)
    for name, value in (row["response_headers"] or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def store(claimed: Claim, response: Response) -> None:
    """Keep the response with the request's work (same transaction)."""
    headers = {name: response.headers[name] for name in REPLAYED_HEADERS
               if name in response.headers}
    db.session.execute(update(_TABLE).where(_TABLE.c.id == claimed.id).values(
        done=True, response_status=response.status_code,
        response_body=response.get_data(as_text=True), response_headers=headers))


def release(claimed: Claim) -> None:
    """Forget a claim whose request failed (on a connection of its own)."""
    with db.engine.connect() as conn, conn.begin():
        conn.execute(delete(_TABLE).where(_TABLE.c.id == claimed.id,
                                          _TABLE.c.done.is_(False)))


def prune() -> int:
    """Delete keys older than 24 hours."""
    result = db.session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.created_at < utcnow() - KEEP))
    return result.rowcount or 0


