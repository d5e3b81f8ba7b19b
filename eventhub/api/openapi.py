"""The OpenAPI 3.1 document, generated from the routes and their ``@operation``
declarations; the shapes are the pydantic models' JSON Schemas (2020-12, as OpenAPI 3.1
uses), collected by pydantic itself."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic.json_schema import models_json_schema

from eventhub.api import schemas as s
from eventhub.api.idempotency import MAX_KEY
from eventhub.api.operations import Operation
from eventhub.api.problems import MEDIA_TYPE

REF = "#/components/schemas/{model}"
COMMON_ERRORS = (400, 401, 403, 404, 429)
ERROR_TEXT = {
    400: "Invalid input (field errors in `errors`)", 401: "No token, or a bad one",
    403: "The token lacks the scope, or the event", 404: "Not found",
    409: "Conflict (already registered, or the same Idempotency-Key in flight)",
    413: "Body too large", 415: "Body is not JSON",
    422: "Idempotency-Key reused for another request", 429: "Rate limit of the token",
}
_PARAM = re.compile(r"<(?:(int):)?(\w+)>")


def operations(app: Flask) -> list[tuple[str, Operation, str]]:
    """(OpenAPI path, operation, endpoint) of every API route, in path order."""
    found = []
    for rule in app.url_map.iter_rules():
        op = getattr(app.view_functions.get(rule.endpoint), "api_operation", None)
        if op is not None:
            found.append((_PARAM.sub(r"{\2}", rule.rule), op, rule.endpoint))
    return sorted(found, key=lambda item: (item[0], item[1].method))


def _models(ops: list[Operation]) -> list[type]:
    seen: list[type] = [s.Problem]
    for op in ops:
        for model in (op.body, op.response):
            if model is not None and model not in seen:
                seen.append(model)
    return seen


def _no_null(schema: dict[str, Any]) -> dict[str, Any]:
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        merged = {k: v for k, v in schema.items() if k != "anyOf"}
        merged.update(options[0])
        return merged
    return schema


def _query_parameters(model) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = _no_null(dict(prop))
        description = prop.pop("description", "")
        prop.pop("title", None)
        prop.pop("default", None)
        params.append({"name": name, "in": "query", "required": False, "schema": prop,
                       **({"description": description} if description else {})})
    return params


def _path_parameters(path: str, rule_types: dict[str, str]) -> list[dict[str, Any]]:
    params = []
    for name in re.findall(r"{(\w+)}", path):
        schema = ({"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
                  if rule_types.get(name) == "int" else
                  {"type": "string", "minLength": 1, "maxLength": 80})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


def _responses(op: Operation, ref: dict[type, dict]) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "OK" if op.status == 200 else "Created"}
    if op.response is not None:
        ok["content"] = {"application/json": {"schema": ref[op.response]}}
    responses: dict[str, Any] = {str(op.status): ok}
    if op.method == "GET":
        responses["304"] = {"description": "Not modified (If-None-Match matched the ETag)"}
    if op.method == "POST":
        responses["200" if op.status != 200 else "201"] = {
            "description": "The stored response of an earlier request with this "
                           "Idempotency-Key", **({"content": ok["content"]}
                                                 if "content" in ok else {})}
    # Every POST takes an Idempotency-Key, so each can meet the same key in flight (409).
    in_flight = {409} if op.method == "POST" else set()
    for code in sorted(set(COMMON_ERRORS) | set(op.errors) | in_flight):
        responses[str(code)] = {"description": ERROR_TEXT[code],
                                "content": {MEDIA_TYPE: {"schema": ref[s.Problem]}}}
    return responses


def _operation(path: str, op: Operation, endpoint: str, ref: dict[type, dict],
               rule_types: dict[str, str]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "operationId": endpoint.split(".", 1)[1], "summary": op.summary, "tags": [op.tag],
        "security": [{"bearer": [op.scope]}],
        "description": (op.description + "\n\n" if op.description else "")
        + f"Scope: `{op.scope}`.",
        "parameters": _path_parameters(path, rule_types)
        + (_query_parameters(op.query) if op.query else []),
        "responses": _responses(op, ref),
    }
    if op.method == "POST":
        doc["parameters"].append({
            "name": "Idempotency-Key", "in": "header", "required": False,
            "description": "The same key within 24 hours gets the same response.",
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY,
                       "pattern": "^[\\x21-\\x7e]+$"}})
    if op.body is not None:
        doc["requestBody"] = {"required": True,
                              "content": {"application/json": {"schema": ref[op.body]}}}
    return doc


def document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of this app's API."""
    found = operations(app)
    models = _models([op for _p, op, _e in found])
    keys, defs = models_json_schema(
        [(m, "validation" if issubclass(m, s.Input) else "serialization") for m in models],
        ref_template=REF)
    ref = {model: keys[(model, mode)] for (model, mode) in keys}
    paths: dict[str, Any] = {}
    for path, op, endpoint in found:
        rule_types = dict((name, kind) for kind, name in _PARAM.findall(op.rule))
        paths.setdefault(path, {})[op.method.lower()] = _operation(
            path, op, endpoint, ref, rule_types)
    return {
        "openapi": "3.1.0",
        "info": {"title": "EventHub API", "version": "1.0.0",
                 "description": "Events, programme, registrations, check-in, polls, "
                                "solutions, experiences and leads of EventHub. "
                                "Authenticate with `Authorization: Bearer <token>`; errors "
                                "are problem details (RFC 9457)."},
        "servers": [{"url": "/api/v1"}],
        "paths": {path.removeprefix("/api/v1"): item for path, item in paths.items()},
        "components": {"schemas": defs.get("$defs", {}),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    }
