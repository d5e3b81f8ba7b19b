"""The REST API as an integrating system sees it: tokens, scopes, pages, writes through
the same rules as the pages, and problem details for every mistake."""

from __future__ import annotations

from sqlalchemy import func, select

from eventhub.audit import AuditEntry
from eventhub.extensions import db
from eventhub.registration.models import Registration
from tests.support.api import bearer, make_token
from tests.support.factories import make_event, make_registration, make_user

REGS = "/api/v1/events/{slug}/registrations"
PERSON = {"name": "Mette Holm", "email": "mette@aarhus.example.dk",
          "organization": "Aarhus Kommune"}


def _setup(app, capacity=None):
    uid = make_user(app, "org@example.com")
    eid = make_event(app, "dag", organizer_id=uid, capacity=capacity)
    return uid, eid, make_token(app, eid, uid)


def _count(app, model=Registration) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_no_token_bad_token_and_revoked_token_are_401(app, client):
    uid, eid, secret = _setup(app)
    _problem(client.get("/api/v1/events"), 401)
    _problem(client.get("/api/v1/events", headers=bearer("eh_not-a-token")), 401)
    _problem(client.get("/api/v1/events", headers={"Authorization": "Basic abc"}), 401)
    assert client.get("/api/v1/events", headers=bearer(secret)).status_code == 200
    with app.app_context():
        from eventhub.accounts.models import User
        from eventhub.api import tokens
        from eventhub.api.models import ApiToken
        from eventhub.events.models import Event

        token = db.session.scalar(select(ApiToken))
        tokens.revoke(db.session.get(User, uid), db.session.get(Event, eid), token.id)
        db.session.commit()
    _problem(client.get("/api/v1/events", headers=bearer(secret)), 401)


def test_scope_and_event_of_the_token_are_enforced(app, client):
    uid, eid, _ = _setup(app)
    other = make_event(app, "anden-dag", organizer_id=uid)
    read_only = make_token(app, eid, uid, "read")
    polls_only = make_token(app, eid, uid, "read", ["polls"])
    body = _problem(client.post(REGS.format(slug="dag"), json=PERSON,
                                headers=bearer(read_only)), 403)
    assert "registrations:write" in body["detail"]
    _problem(client.get(REGS.format(slug="dag"), headers=bearer(polls_only)), 403)
    other_token = make_token(app, other, uid)
    _problem(client.get(REGS.format(slug="dag"), headers=bearer(other_token)), 403)
    _problem(client.post(REGS.format(slug="dag"), json=PERSON,
                         headers=bearer(other_token)), 403)
    _problem(client.get(REGS.format(slug="findes-ikke"), headers=bearer(read_only)), 404)
    assert _count(app) == 0


def test_organization_wide_token_reaches_every_event_its_creator_organizes(app, client):
    uid = make_user(app, "org@example.com")
    first = make_event(app, "en", organizer_id=uid)
    make_event(app, "to", organizer_id=uid)
    make_event(app, "fremmed")
    secret = make_token(app, None, uid, "read", for_event_id=first)
    slugs = [e["slug"] for e in client.get("/api/v1/events", headers=bearer(secret))
             .get_json()["data"]]
    assert slugs == ["en", "to"]
    _problem(client.get("/api/v1/events/fremmed", headers=bearer(secret)), 403)


def test_creating_registrations_follows_capacity_and_waitlist(app, client):
    _uid, eid, secret = _setup(app, capacity=1)
    first = client.post(REGS.format(slug="dag"), json=PERSON, headers=bearer(secret))
    assert first.status_code == 201
    assert first.get_json()["status"] == "confirmed"
    second = client.post(REGS.format(slug="dag"), headers=bearer(secret),
                         json={**PERSON, "email": "anne@odense.example.dk"})
    assert second.get_json()["status"] == "waitlisted"
    again = _problem(client.post(REGS.format(slug="dag"), json=PERSON,
                                 headers=bearer(secret)), 409)
    assert again["errors"][0]["field"] == "email"
    # Cancelling the first gives the seat to the waiting list.
    reg_id = first.get_json()["id"]
    cancelled = client.post(f"/api/v1/events/dag/registrations/{reg_id}/cancel", json={},
                            headers=bearer(secret))
    assert cancelled.get_json()["status"] == "cancelled"
    waiting = client.get(f"/api/v1/events/dag/registrations/{second.get_json()['id']}",
                         headers=bearer(secret))
    assert waiting.get_json()["status"] == "confirmed"
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.event_id == eid, AuditEntry.action == "api.write")))
    assert len(actions) == 3  # every write is in the audit log


def test_bad_input_is_answered_with_field_errors_and_nothing_is_stored(app, client):
    _uid, _eid, secret = _setup(app)
    url, h = REGS.format(slug="dag"), bearer(secret)
    body = _problem(client.post(url, json={**PERSON, "name": "x" * 10_000}, headers=h), 400)
    assert body["errors"] == [{"field": "name", "message": "For lang (højst 200 tegn)."}]
    body = _problem(client.post(url, json={**PERSON, "admin": True}, headers=h), 400)
    assert body["errors"][0]["field"] == "admin"
    body = _problem(client.post(url, json={**PERSON, "name": 42}, headers=h), 400)
    assert body["errors"][0] == {"field": "name", "message": "Skal være tekst."}
    body = _problem(client.post(url, json={**PERSON, "email": "ikke-en-adresse"}, headers=h),
                    400)
    assert body["errors"][0]["field"] == "email"
    body = _problem(client.post(url, data='{"name": "Mette",', headers=h,
                                content_type="application/json"), 400)
    assert "JSON" in body["detail"]
    _problem(client.post(url, json=["a", "list"], headers=h), 400)
    _problem(client.post(url, data="name=Mette", headers=h,
                         content_type="application/x-www-form-urlencoded"), 415)
    _problem(client.post(url, data="x" * 70_000, headers=h,
                         content_type="application/json"), 413)
    _problem(client.post(url, json={**PERSON, "name": "Mette\x00"}, headers=h), 400)
    _problem(client.post(url, json={**PERSON, "answers": {"999": "x"}}, headers=h), 400)
    assert _count(app) == 0


def test_pages_cursor_updated_since_and_etag(app, client):
    _uid, eid, secret = _setup(app)
    for n in range(5):
        make_registration(app, eid, f"p{n}@example.com")
    h = bearer(secret)
    seen, cursor = [], None
    while True:
        url = REGS.format(slug="dag") + "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=h).get_json()
        seen += [r["email"] for r in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"p{n}@example.com" for n in range(5)]
    _problem(client.get(REGS.format(slug="dag") + "?cursor=bogus", headers=h), 400)
    _problem(client.get(REGS.format(slug="dag") + "?limit=1000", headers=h), 400)
    future = client.get(REGS.format(slug="dag") + "?updated_since=2999-01-01T00:00:00Z",
                        headers=h).get_json()
    assert future["data"] == []
    _problem(client.get(REGS.format(slug="dag") + "?updated_since=2999-01-01T00:00:00",
                        headers=h), 400)
    first = client.get(REGS.format(slug="dag"), headers=h)
    etag = first.headers["ETag"]
    again = client.get(REGS.format(slug="dag"), headers={**h, "If-None-Match": etag})
    assert again.status_code == 304
    make_registration(app, eid, "ny@example.com")
    assert client.get(REGS.format(slug="dag"), headers={**h, "If-None-Match": etag}) \
        .status_code == 200


def test_idempotency_key_gives_the_same_response_once(app, client):
    _uid, _eid, secret = _setup(app)
    h = {**bearer(secret), "Idempotency-Key": "crm-4711"}
    first = client.post(REGS.format(slug="dag"), json=PERSON, headers=h)
    second = client.post(REGS.format(slug="dag"), json=PERSON, headers=h)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert _count(app) == 1
    other = client.post(REGS.format(slug="dag"), headers=h,
                        json={**PERSON, "email": "anden@example.com"})
    _problem(other, 422)
    # A refused request frees its key: corrected, the same key goes through.
    h2 = {**bearer(secret), "Idempotency-Key": "crm-4712"}
    _problem(client.post(REGS.format(slug="dag"), json={**PERSON, "email": "x"}, headers=h2),
             400)
    fixed = client.post(REGS.format(slug="dag"), headers=h2,
                        json={**PERSON, "email": "tredje@example.com"})
    assert fixed.status_code == 201
    _problem(client.post(REGS.format(slug="dag"), json=PERSON,
                         headers={**bearer(secret), "Idempotency-Key": "ø" * 3}), 400)


def test_check_in_and_lead_stage(app, client):
    uid, eid, secret = _setup(app)
    reg_id, _ = make_registration(app, eid, "p@example.com")
    h = bearer(secret)
    first = client.post("/api/v1/events/dag/checkins", json={"registration_id": reg_id},
                        headers=h)
    assert first.status_code == 201 and first.get_json()["first_time"] is True
    again = client.post("/api/v1/events/dag/checkins", json={"registration_id": reg_id},
                        headers=h)
    assert again.get_json()["first_time"] is False
    _problem(client.post("/api/v1/events/dag/checkins", json={}, headers=h), 400)
    _problem(client.post("/api/v1/events/dag/checkins", json={"ticket_code": "nope"},
                         headers=h), 404)
    with app.app_context():
        from eventhub.followup.models import Lead

        lead = Lead(event_id=eid, registration_id=reg_id)
        db.session.add(lead)
        db.session.commit()
        lead_id = lead.id
    moved = client.post(f"/api/v1/events/dag/leads/{lead_id}/stage",
                        json={"stage": "contacted", "note": "Ringet op"}, headers=h)
    assert moved.status_code == 200 and moved.get_json()["stage"] == "contacted"
    body = _problem(client.post(f"/api/v1/events/dag/leads/{lead_id}/stage",
                                json={"stage": "dropped"}, headers=h), 400)
    assert body["errors"][0]["field"] == "reason"
    _problem(client.post(f"/api/v1/events/dag/leads/{lead_id}/stage",
                         json={"stage": "wat"}, headers=h), 400)


def test_rate_limit_per_token(app, client):
    app.config["RATELIMIT_API"] = "3 per minute"
    _uid, _eid, secret = _setup(app)
    codes = [client.get("/api/v1/events", headers=bearer(secret)).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    body = _problem(client.get("/api/v1/events", headers=bearer(secret)), 429)
    assert body["title"]


def test_unknown_routes_and_methods_are_problems(app, client):
    _problem(client.get("/api/v1/nothing-here"), 404)
    _problem(client.delete("/api/v1/events"), 405)
    _uid, _eid, secret = _setup(app)
    _problem(client.get("/api/v1/events/dag/registrations/99999999999999999999",
                        headers=bearer(secret)), 404)


def test_cli_creates_a_token_shown_once(app, runner, client):
    uid = make_user(app, "org@example.com")
    make_event(app, "dag", organizer_id=uid)
    result = runner.invoke(args=["create-api-token", "--event", "dag", "--scope", "read"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[0]
    assert secret.startswith("eh_")
    assert client.get("/api/v1/events/dag", headers=bearer(secret)).status_code == 200
    with app.app_context():
        from eventhub.api.models import ApiToken

        stored = db.session.scalar(select(ApiToken))
        assert secret not in (stored.token_hash, stored.prefix)
        assert "registrations:write" not in stored.scopes
    bad = runner.invoke(args=["create-api-token", "--event", "nope"])
    assert bad.exit_code != 0 and "nope" in bad.output


def test_leads_of_an_event_include_those_carried_on_from_an_earlier_event(app, client):
    uid, first_id, _ = _setup(app)
    second_id = make_event(app, "naeste-dag", organizer_id=uid)
    secret = make_token(app, second_id, uid, "read", ["leads"])
    with app.app_context():
        from eventhub.events.models import Event, Organization
        from eventhub.followup import services as followup
        from eventhub.followup.models import LeadEvent

        first, second = db.session.get(Event, first_id), db.session.get(Event, second_id)
        names = iter(("Vejle Kommune", "Aarhus Kommune", "Odense Kommune"))
        made = {}
        for label, event in (("carried", first), ("here", second), ("elsewhere", first)):
            org = Organization(name=next(names), name_key=label, kind="municipality")
            db.session.add(org)
            db.session.flush()
            lead = followup.new_lead(event, organization_id=org.id, stage="contacted")
            db.session.add(lead)
            db.session.flush()
            made[label] = lead.id
        # Found again at the second event: the lead began at the first one.
        db.session.add(LeadEvent(lead_id=made["carried"], event_id=second_id))
        db.session.commit()
    listed = client.get("/api/v1/events/naeste-dag/leads", headers=bearer(secret))
    assert listed.status_code == 200, listed.get_data(as_text=True)
    items = {item["id"]: item for item in listed.get_json()["data"]}
    assert set(items) == {made["carried"], made["here"]}
    assert items[made["carried"]]["organization"] == "Vejle Kommune"
    one = client.get(f"/api/v1/events/naeste-dag/leads/{made['carried']}",
                     headers=bearer(secret))
    assert one.status_code == 200 and one.get_json()["stage"] == "contacted"
    _problem(client.get(f"/api/v1/events/naeste-dag/leads/{made['elsewhere']}",
                        headers=bearer(secret)), 404)
