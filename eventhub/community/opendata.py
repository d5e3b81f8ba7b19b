"""Open data: published solutions and organizations' experiences with them, at
organization level only (never a person), as CSV and JSON with a stable schema
(docs/open-data.md). Fields are only ever added, never renamed or removed."""

from __future__ import annotations

import csv
import io
import json

from flask import Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from eventhub.directory.models import APPROVED, Experience, Solution
from eventhub.extensions import db

SCHEMA_VERSION = 1
SOLUTION_FIELDS = ["id", "name", "summary", "provider", "provider_kind", "categories",
                   "maturity", "website", "organizations_running", "updated_at"]
EXPERIENCE_FIELDS = ["solution_id", "solution", "organization", "organization_kind",
                     "organization_code", "region_code", "status", "since", "scale",
                     "effect_clinical", "effect_patient", "effect_economic",
                     "effect_organisational", "updated_at"]


def _published():
    return select(Solution.id).where(Solution.public.is_(True), Solution.status == APPROVED)


def solutions() -> list[dict]:
    exps = experiences()
    running: dict[int, int] = {}
    for e in exps:
        if e["status"] in ("piloting", "implemented", "scaled"):
            running[e["solution_id"]] = running.get(e["solution_id"], 0) + 1
    rows = db.session.scalars(select(Solution).where(Solution.id.in_(_published()))
                              .options(selectinload(Solution.provider)).order_by(Solution.id))
    return [{"id": s.id, "name": s.name, "summary": s.summary,
             "provider": s.provider.name if s.provider else "",
             "provider_kind": s.provider.kind if s.provider else "",
             "categories": s.categories, "maturity": s.maturity, "website": s.website,
             "organizations_running": running.get(s.id, 0),
             "updated_at": s.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")} for s in rows]


def experiences() -> list[dict]:
    rows = db.session.scalars(select(Experience).where(
        Experience.solution_id.in_(_published()), Experience.draft.is_(False))
        .options(selectinload(Experience.organization), selectinload(Experience.solution))
        .order_by(Experience.solution_id, Experience.organization_id))
    return [{"solution_id": e.solution_id, "solution": e.solution.name,
             "organization": e.organization.name, "organization_kind": e.organization.kind,
             "organization_code": e.organization.code or "",
             "region_code": e.organization.region_code or (
                 e.organization.code if e.organization.kind == "region" else "") or "",
             "status": e.status, "since": e.since.isoformat() if e.since else "",
             "scale": e.scale, "effect_clinical": e.effect_clinical,
             "effect_patient": e.effect_patient, "effect_economic": e.effect_economic,
             "effect_organisational": e.effect_organisational,
             "updated_at": e.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")} for e in rows]


DATASETS = {"solutions": (solutions, SOLUTION_FIELDS),
            "experiences": (experiences, EXPERIENCE_FIELDS)}


def response(name: str, fmt: str) -> Response:
    build, fields = DATASETS[name]
    rows = build()
    headers = {"Access-Control-Allow-Origin": "*",
               "Content-Disposition": f'inline; filename="{name}.{fmt}"'}
    if fmt == "json":
        body = json.dumps({"schema_version": SCHEMA_VERSION, "fields": fields, "rows": rows},
                          ensure_ascii=False, indent=1)
        return Response(body, mimetype="application/json", headers=headers)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, **({"categories": " ".join(row["categories"])}
                                   if "categories" in row else {})})
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8", headers=headers)
