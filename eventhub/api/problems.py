"""Problem details (RFC 9457): every error of the API as ``application/problem+json``.

The API's blueprint answers its own errors here, never with an HTML page: a broken
domain rule with its message and field, invalid JSON with the field errors, an unknown
route or method, a rate limit, an unreachable database, and (logged) anything else.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic
from flask import Blueprint, Response, current_app, request
from flask_babel import gettext as _
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException

from eventhub.errors import DomainError
from eventhub.extensions import db

PROBLEM_TYPE = "about:blank"
MEDIA_TYPE = "application/problem+json"


def _titles() -> dict[int, str]:
    return {
        400: _("Forespørgslen er ugyldig"),
        401: _("API-nøgle mangler eller er ugyldig"),
        403: _("Ingen adgang"),
        404: _("Findes ikke"),
        405: _("Metoden kan ikke bruges her"),
        409: _("Konflikt"),
        413: _("Forespørgslen er for stor"),
        415: _("Send JSON"),
        500: _("Der skete en fejl hos os"),
        422: _("Idempotency-Key er brugt til en anden forespørgsel"),
        429: _("For mange forespørgsler"),
        503: _("Tjenesten er midlertidigt utilgængelig"),
    }


def problem(status: int, detail: str = "", errors: list[dict[str, str]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    """A problem-details response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE,
        "title": _titles().get(status, _("Fejl")),
        "status": status,
        "detail": detail or _titles().get(status, ""),
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# Pydantic's messages are English; say the common ones in the request's language.
def _pydantic_message(error: dict[str, Any]) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    messages = {
        "missing": _("Feltet skal udfyldes."),
        "extra_forbidden": _("Ukendt felt."),
        "string_type": _("Skal være tekst."),
        "string_too_long": _("For lang (højst %(n)s tegn).", n=ctx.get("max_length", "")),
        "string_too_short": _("Feltet skal udfyldes."),
        "int_type": _("Skal være et heltal."),
        "int_parsing": _("Skal være et heltal."),
        "bool_type": _("Skal være true eller false."),
        "bool_parsing": _("Skal være true eller false."),
        "datetime_type": _("Skal være et tidspunkt (ISO 8601)."),
        "datetime_parsing": _("Skal være et tidspunkt (ISO 8601)."),
        "datetime_from_date_parsing": _("Skal være et tidspunkt (ISO 8601)."),
        "timezone_aware": _("Tidspunktet skal have en tidszone."),
        "greater_than_equal": _("Skal være mindst %(n)s.", n=ctx.get("ge", "")),
        "less_than_equal": _("Må højst være %(n)s.", n=ctx.get("le", "")),
        "literal_error": _("Vælg en af de tilladte værdier."),
        "enum": _("Vælg en af de tilladte værdier."),
        "dict_type": _("Skal være et objekt."),
        "model_type": _("Skal være et objekt."),
        "list_type": _("Skal være en liste."),
        "too_long": _("For mange elementer."),
    }
    return messages.get(kind, _("Ugyldig værdi."))


def field_errors(exc: pydantic.ValidationError) -> list[dict[str, str]]:
    return [{"field": ".".join(str(p) for p in error["loc"]) or "body",
             "message": _pydantic_message(error)} for error in exc.errors()]


def _domain(exc: DomainError) -> Response:
    problems = getattr(exc, "problems", None) or ([exc] if exc.field else [])
    errors = [{"field": p.field or "body", "message": p.message} for p in problems]
    return problem(exc.status_code, exc.message, errors or None)


def _http(exc: HTTPException) -> Response:
    code = exc.code or 500
    headers = {}
    if code == 429:
        headers["Retry-After"] = str(getattr(exc, "retry_after", None) or 60)
    if code == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    return problem(code, headers=headers)


def register(bp: Blueprint) -> None:
    """Answer every error raised in the API's views as problem details."""

    @bp.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        return _domain(exc)

    @bp.errorhandler(pydantic.ValidationError)
    def invalid(exc: pydantic.ValidationError):
        db.session.rollback()
        return problem(400, _("Nogle felter er ugyldige."), field_errors(exc))

    @bp.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _http(exc)

    @bp.errorhandler(DataError)
    def bad_value(exc: DataError):
        db.session.rollback()
        return problem(400, _("En værdi kunne ikke gemmes. Tjek felterne."))

    @bp.errorhandler(OperationalError)
    def database_down(exc: OperationalError):
        db.session.rollback()
        current_app.logger.error("database unavailable: %s", exc)
        return problem(503, headers={"Retry-After": "5"})

    @bp.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        current_app.logger.exception("unhandled API error on %s %s", request.method,
                                     request.path)
        return problem(500, _("Der skete en fejl hos os. Prøv igen om lidt."))


def for_path(code: int, title: str, message: str) -> Response:
    """Errors outside the API's views (an unknown route or method under /api/); the
    error page adds the status code."""
    headers = {}
    if code == 405:
        try:
            adapter = current_app.url_map.bind_to_environ(request.environ)
            headers["Allow"] = ", ".join(sorted(adapter.allowed_methods()))
        except Exception:  # noqa: BLE001 - the header is a courtesy
            pass
    return problem(code, message if code >= 500 else "", headers=headers)
