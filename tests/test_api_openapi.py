"""The OpenAPI document: a valid OpenAPI 3.1 document generated from the code, and the
live API holding to it when ``schemathesis`` (an independent tester) drives it from the
document alone: no server error, every status, content type and body as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from openapi_spec_validator import validate

from eventhub.extensions import db
from tests.support.api import live_app, make_token
from tests.support.factories import make_event, make_registration, make_user

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")


def test_document_is_valid_openapi_31(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    ops = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert ("/events/{slug}/registrations", "post") in ops
    assert ("/events/{slug}/polls/{poll_id}/results", "get") in ops
    assert ("/events/{slug}/leads/{lead_id}/stage", "post") in ops
    body = doc["paths"]["/events/{slug}/registrations"]["post"]
    assert body["responses"]["409"]["content"]["application/problem+json"]
    assert any(p["name"] == "Idempotency-Key" for p in body["parameters"])


def test_reference_page_lists_operations_and_schemas(client):
    page = client.get("/api/v1/docs")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "POST /api/v1/events/{slug}/registrations" in text
    assert "RegistrationIn" in text and "Problem" in text
    # Served from our own files: no script or style from anywhere else.
    assert "<script src=\"http" not in text and "cdn" not in text.lower()


def _fill(app) -> tuple[str, str]:
    """An event with a little of everything, and a read-write token for it."""
    from eventhub.followup.models import Lead
    from eventhub.polls.models import Poll, PollOption
    from eventhub.programme.models import Room, Session, Speaker

    uid = make_user(app, "org@example.com")
    eid = make_event(app, "dag", organizer_id=uid, capacity=500)
    reg_id, _ = make_registration(app, eid, "p@example.com")
    with app.app_context():
        room = Room(event_id=eid, name="Sal A")
        db.session.add(room)
        db.session.flush()
        start = db.session.get(__import__("eventhub.events.models", fromlist=["Event"])
                               .Event, eid).starts_at
        session = Session(event_id=eid, title="Skærmbesøg", starts_at=start,
                          ends_at=start, room_id=room.id)
        session.speakers.append(Speaker(name="Anne", organization="Odense Kommune"))
        db.session.add(session)
        poll = Poll(event_id=eid, question="Bruger I det?", kind="single", status="open")
        poll.options = [PollOption(label="Ja", position=1), PollOption(label="Nej",
                                                                       position=2)]
        db.session.add(poll)
        db.session.add(Lead(event_id=eid, registration_id=reg_id))
        db.session.commit()
    return "dag", make_token(app, eid, uid)


def test_schemathesis_finds_no_failure(app, tmp_path):
    app.config["RATELIMIT_API"] = "100000 per minute"
    slug, secret = _fill(app)
    # Our event's slug in every path (other slugs only ever meet a 404), ids at random.
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[parameters]\n"path.slug" = "{slug}"\n')
    with live_app(app) as base:
        result = subprocess.run(
            [str(Path(sys.executable).parent / "st"), "--config-file", str(config), "run",
             f"{base}/api/v1/openapi.json",
             "--header", f"Authorization: Bearer {secret}", "--checks", CHECKS,
             "--max-examples", "8", "--seed", "20", "--workers", "2",
             "--phases", "examples,coverage,fuzzing", "--request-timeout", "20",
             "--suppress-health-check", "all", "--warnings", "off"],
            capture_output=True, text=True, timeout=240, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "No issues found" in output, output[-3000:]
    # The tester reached the event's data, not only 404s: its writes went through.
    from sqlalchemy import func, select

    from eventhub.audit import AuditEntry

    with app.app_context():
        writes = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "api.write"))
    assert writes > 0
