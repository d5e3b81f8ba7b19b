"""How an API operation runs: the bearer token, its scope, the event it reaches, the
query and body read through their pydantic models, the ``Idempotency-Key``, the audit
entry of a write, JSON with an ETag. Each view declares this with ``@operation``; the
same declaration is what the OpenAPI document is generated from (``openapi.py``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Response, request
from flask_babel import gettext as _
from pydantic import BaseModel
from sqlalchemy import Select

from eventhub import audit
from eventhub.api import idempotency, tokens
from eventhub.api.problems import problem
from eventhub.errors import NotFound, ValidationError
from eventhub.extensions import db

MAX_ID = 2**31 - 1
MAX_BODY = 64 * 1024  # bytes; an API request carries ids and a few fields


@dataclass
class Operation:
    """What the OpenAPI generator needs to know about one view."""

    rule: str
    method: str
    summary: str
    tag: str
    scope: str
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    errors: tuple[int, ...] = field(default_factory=tuple)
    description: str = ""


def operation(bp: Blueprint, rule: str, method: str, *, summary: str, tag: str, scope: str,
              query: type[BaseModel] | None = None, body: type[BaseModel] | None = None,
              response: Any = None, status: int = 200, errors: tuple[int, ...] = (),
              description: str = "") -> Callable:
    """Declare and route one API operation. The view gets the token (and the event when
    the rule has ``<slug>``, the parsed ``query`` / ``body`` when declared) and returns a
    pydantic model (or a list page); the rest is done here."""
    op = Operation(rule, method, summary, tag, scope, query, body, response, status,
                   errors, description)

    def decorate(fn: Callable) -> Callable:
        @wraps(fn)
        def view(**kwargs: Any):
            return _run(op, fn, kwargs)

        view.api_operation = op  # type: ignore[attr-defined]
        bp.add_url_rule(rule, fn.__name__, view, methods=[method])
        return view

    return decorate


def _run(op: Operation, fn: Callable, kwargs: dict[str, Any]) -> Response:
    token = tokens.authenticate(request.headers.get("Authorization"))
    tokens.require_scope(token, op.scope)
    if any(isinstance(v, int) and v > MAX_ID for v in kwargs.values()):
        raise NotFound(_("Findes ikke."))
    if "slug" in kwargs:
        kwargs["event"] = tokens.event_for(token, kwargs.pop("slug"))
    if op.query is not None:
        kwargs["query"] = op.query.model_validate(request.args.to_dict())
    if op.body is not None:
        kwargs["body"] = op.body.model_validate(_json_body())
    claim = None
    if op.method == "POST":
        claim = idempotency.claim(token, request.headers.get("Idempotency-Key"),
                                  _fingerprint())
        if isinstance(claim, Response):
            return claim
    try:
        tokens.touch(token)
        result = fn(token, **kwargs)
        if op.method != "GET":
            event = kwargs.get("event")
            audit.record(token.created_by, event, "api.write",
                         f"{op.method} {request.path} · {token.prefix}…")
        response = _json(result, op.status)
        if claim is not None:
            idempotency.store(claim, response)
    except BaseException:
        if claim is not None:
            # End the request's transaction first: on SQLite it holds the write lock
            # the release needs (the dispatcher would roll back anyway).
            db.session.rollback()
            idempotency.release(claim)
        raise
    if op.method == "GET":
        response.add_etag()
        response.make_conditional(request)
    return response


def _json_body() -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _TooLarge()
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        if request.mimetype or request.content_length or request.get_data(cache=True):
            raise _Unsupported()
        return {}
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY:
        raise _TooLarge()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(_("Kroppen er ikke gyldig JSON."), "body") from None


def _fingerprint() -> str:
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n"
                          + request.get_data(cache=True)).hexdigest()


def _json(result: Any, status: int) -> Response:
    if isinstance(result, BaseModel):
        payload = result.model_dump(mode="json")
    else:
        payload = result
    return Response(json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                    status=status, mimetype="application/json")


class _TooLarge(Exception):
    pass


class _Unsupported(Exception):
    pass


def setup_blueprint(bp: Blueprint) -> Blueprint:
    """An API blueprint: its errors are problem details, its requests counted per token."""
    from eventhub.api.problems import register
    from eventhub.extensions import limiter

    register(bp)
    bp.register_error_handler(_TooLarge, lambda exc: problem(
        413, _("Kroppen er for stor (højst %(n)d KB).", n=MAX_BODY // 1024)))
    bp.register_error_handler(_Unsupported, lambda exc: problem(
        415, _("Send kroppen som JSON (Content-Type: application/json).")))
    limiter.limit(_api_limit, key_func=_token_key)(bp)
    return bp


def _token_key() -> str:
    """Rate limits count per token (per address for requests without one)."""
    from flask_limiter.util import get_remote_address

    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer " and header[7:].strip():
        return "api:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    return "api-anon:" + get_remote_address()


def _api_limit() -> str:
    from flask import current_app

    return current_app.config["RATELIMIT_API"]


# Paging --------------------------------------------------------------------------------


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after = json.loads(raw)["after"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        after = None
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < 2**63:
        raise ValidationError(_("Ukendt cursor: brug next_cursor fra forrige side."), "cursor")
    return after


def _paged(stmt: Select, id_column, query, updated_column) -> Select:
    if updated_column is not None and getattr(query, "updated_since", None) is not None:
        since = query.updated_since
        if since.tzinfo is None:
            raise ValidationError(_("Tidspunktet skal have en tidszone."), "updated_since")
        stmt = stmt.where(updated_column >= since)
    return (stmt.where(id_column > decode_cursor(query.cursor)).order_by(id_column)
            .limit(query.limit + 1))


def page(stmt: Select, id_column, query, convert: Callable[[Any], BaseModel],
         updated_column=None) -> dict[str, Any]:
    """One page of ``stmt`` in id order after the query's cursor, as ``{data, next_cursor}``."""
    rows = list(db.session.scalars(_paged(stmt, id_column, query, updated_column)))
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return {"data": [convert(row).model_dump(mode="json") for row in rows],
            "next_cursor": encode_cursor(rows[-1].id) if more else None}


def page_rows(stmt: Select, id_column, query, convert: Callable[[list], list[dict]],
              updated_column=None) -> dict[str, Any]:
    """``page`` for a statement of plain rows (with an ``id``), converted all at once."""
    rows = db.session.execute(_paged(stmt, id_column, query, updated_column)).all()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return {"data": convert(rows), "next_cursor": encode_cursor(rows[-1].id) if more else None}
