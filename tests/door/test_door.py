"""The check-in door app's server side: the list a device keeps, offline check-ins sent
later (idempotent by nonce, original time, device and who), several devices, the page,
its manifest and service worker. Bad input: tests/door/test_door_refusals.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from eventhub.events.models import COMMUNITY_MANAGER
from eventhub.extensions import db
from eventhub.registration.door import ticket_hash
from eventhub.registration.models import CheckIn, DuplicateScan, Registration
from tests.support.client import Client, login
from tests.support.door import (
    SLUG,
    Device,
    check_ins_of,
    count,
    door_url,
    now_ms,
    post_json,
    scan,
    staff_client,
    ticket_codes,
)
from tests.support.factories import PASSWORD, make_event, make_user

# The list ---------------------------------------------------------------------------------


def test_the_list_holds_what_the_door_needs_and_no_codes_or_addresses(app, event_id, staff):
    codes = ticket_codes(app, event_id)
    answer = staff.get(door_url(SLUG, "list.json"))
    assert answer.status_code == 200
    assert "no-store" in answer.headers["Cache-Control"]
    body = answer.get_data(as_text=True)
    for email, code in codes.items():
        assert code not in body and email not in body
    rows = {row[0]: row for row in answer.json["people"]}
    first = rows[ticket_hash(codes["p0@example.dk"])]
    assert first[1] == "Person 0" and answer.json["orgs"][first[2]] == "Odense Kommune"
    assert [rows[ticket_hash(codes[f"p{n}@example.dk"])][3] for n in (3, 4, 5)] == [
        "confirmed", "cancelled", "waitlisted"]
    assert first[4] is None and first[5] == ""  # not checked in
    assert answer.json["keep_until"] > now_ms()


@pytest.mark.parametrize("who", ["anonymous", "participant", "community", "other"])
def test_only_check_in_staff_and_organizers_get_the_list(app, event_id, who):
    client = Client(app, app.response_class, use_cookies=True)
    if who == "participant":
        make_user(app, "p0@example.dk", password=PASSWORD)
        login(client, "p0@example.dk")
    elif who == "community":
        client = staff_client(app, event_id, "cm@example.com", COMMUNITY_MANAGER)
    elif who == "other":
        other = make_user(app, "other@example.com", password=PASSWORD)
        make_event(app, "andet", organizer_id=other)
        login(client, "other@example.com")
    for answer in (client.get(door_url(SLUG, "list.json")),
                   post_json(client, door_url(SLUG, "device"), {})):
        assert answer.status_code == (401 if who == "anonymous" else 403)
        assert answer.is_json and answer.json["message"]
    if who == "anonymous":
        assert "logget ud" in answer.json["message"]
    else:
        assert "adgang" in answer.json["message"]
    assert count(app, Registration) == 6 and not _devices(app)


def _devices(app) -> list[str]:
    from eventhub.registration.models import CheckInDevice

    with app.app_context():
        return [d.letters for d in db.session.scalars(
            select(CheckInDevice).order_by(CheckInDevice.number))]


def test_devices_are_called_a_b_c_and_the_list_stops_after_the_event(app, event_id, staff):
    assert [Device(staff, SLUG).start().letters for _ in range(3)] == ["A", "B", "C"]
    with app.app_context():
        from eventhub.events.models import Event

        event = db.session.get(Event, event_id)
        event.starts_at = datetime.now(UTC) - timedelta(days=2)
        event.ends_at = datetime.now(UTC) - timedelta(days=1)
        db.session.commit()
    over = staff.get(door_url(SLUG, "list.json"))
    assert over.status_code == 409 and "Arrangementet er slut" in over.json["message"]
    assert post_json(staff, door_url(SLUG, "device"), {}).status_code == 409


# Offline check-ins ---------------------------------------------------------------------


def test_offline_check_ins_keep_their_time_device_and_who_and_count_once(app, event_id, staff):
    codes = ticket_codes(app, event_id)
    device = Device(staff, SLUG).start()
    made = now_ms() - 60_000  # scanned a minute ago, offline
    batch = [scan(codes[f"p{n}@example.dk"], at=made + n * 1000) for n in range(3)]
    first = device.sync(*batch, queued=2)
    assert first.status_code == 200
    assert [r["outcome"] for r in first.json["results"]] == ["checked_in"] * 3
    stored = check_ins_of(app, event_id)
    staff_id = stored[0][5]
    assert [(e, d, off) for e, _at, d, off, _n, _u in stored] == [
        (f"p{n}@example.dk", "A", True) for n in range(3)]
    for n, (_e, at, _d, _o, nonce, user) in enumerate(stored):
        assert abs(at.timestamp() * 1000 - (made + n * 1000)) < 1500  # the device's time
        assert nonce == batch[n]["nonce"] and user == staff_id
    # The same batch again (a lost answer, a replay): the same answers, nothing new.
    again = device.sync(*batch)
    assert again.status_code == 200
    assert [r["outcome"] for r in again.json["results"]] == ["checked_in"] * 3
    assert check_ins_of(app, event_id) == stored
    assert count(app, DuplicateScan) == 0
    with app.app_context():
        reg = db.session.scalar(select(Registration).where(Registration.email == "p0@example.dk"))
        assert reg.checked_in_at == stored[0][1] and reg.checked_in_by_id == staff_id
    state = staff.get("/manage/e/dag/checkin/count").json
    assert state["checked_in"] == 3 and state["expected"] == 4


def test_a_device_clock_that_is_off_is_corrected_by_its_time_of_sending(app, event_id, staff):
    codes = ticket_codes(app, event_id)
    device = Device(staff, SLUG).start()
    behind = 3_600_000  # the device's clock is an hour slow
    device_now = now_ms() - behind
    answer = device.sync(scan(codes["p0@example.dk"], at=device_now - 30_000),
                         sent_at=device_now)
    assert answer.status_code == 200
    at = check_ins_of(app, event_id)[0][1]
    assert abs((datetime.now(UTC) - at).total_seconds() - 30) < 3


def test_a_cancelled_or_waitlisted_ticket_is_not_checked_in(app, event_id, staff):
    codes = ticket_codes(app, event_id)
    device = Device(staff, SLUG).start()
    answer = device.sync(scan(codes["p4@example.dk"]), scan(codes["p5@example.dk"]))
    assert answer.status_code == 200
    assert [(r["outcome"], r["status"]) for r in answer.json["results"]] == [
        ("not_confirmed", "cancelled"), ("not_confirmed", "waitlisted")]
    assert check_ins_of(app, event_id) == []


def test_two_devices_offline_with_one_ticket_make_one_check_in_the_earliest(app, event_id, staff):
    code = ticket_codes(app, event_id)["p0@example.dk"]
    a = Device(staff, SLUG).start()
    b = Device(staff_client(app, event_id, "b@example.com"), SLUG).start()
    early, late = now_ms() - 120_000, now_ms() - 60_000
    # A scanned later but syncs first; B's earlier scan arrives afterwards and wins.
    assert a.sync(scan(code, at=late)).json["results"][0]["outcome"] == "checked_in"
    b_answer = b.sync(scan(code, at=early))
    assert b_answer.json["results"][0]["outcome"] == "checked_in"
    stored = check_ins_of(app, event_id)
    assert len(stored) == 1 and stored[0][2] == "B"
    assert abs(stored[0][1].timestamp() * 1000 - early) < 1500
    assert count(app, DuplicateScan) == 1
    # A's next pull says so: the ticket is B's, at B's time.
    pulled = a.sync().json["changes"]
    row = next(r for r in pulled["people"] if r[0] == ticket_hash(code))
    assert row[5] == "B" and abs(row[4] - early) < 1500


def test_a_later_scan_from_another_device_is_a_duplicate_with_the_first_ones_time(
        app, event_id, staff):
    code = ticket_codes(app, event_id)["p1@example.dk"]
    a = Device(staff, SLUG).start()
    b = Device(staff_client(app, event_id, "b@example.com"), SLUG).start()
    early = now_ms() - 120_000
    b.sync(scan(code, at=early))
    result = a.sync(scan(code, at=early + 60_000)).json["results"][0]
    assert result["outcome"] == "duplicate" and result["device"] == "B"
    assert abs(result["at"] - early) < 1500
    assert len(check_ins_of(app, event_id)) == 1 and count(app, DuplicateScan) == 1
    door = a.sync().json["door"]
    assert "Dobbelte scanninger: 1" in door and "Enhed B" in door


def test_an_online_check_in_on_the_ticket_page_is_a_check_in_too(app, event_id, staff):
    code = ticket_codes(app, event_id)["p2@example.dk"]
    staff.post(f"/t/{code}/checkin", data={})
    stored = check_ins_of(app, event_id)
    assert [(e, d, off, n) for e, _a, d, off, n, _u in stored] == [
        ("p2@example.dk", "", False, None)]
    device = Device(staff, SLUG).start()
    result = device.sync(scan(code)).json["results"][0]
    assert result["outcome"] == "duplicate" and result["device"] == ""
    staff.post(f"/t/{code}/undo", data={})
    assert check_ins_of(app, event_id) == []


def test_pulls_bring_what_other_devices_and_the_ticket_page_did(app, event_id, staff):
    codes = ticket_codes(app, event_id)
    a = Device(staff, SLUG).start()
    b = Device(staff_client(app, event_id, "b@example.com"), SLUG).start()
    b.sync(scan(codes["p0@example.dk"]))
    staff.post(f"/t/{codes['p1@example.dk']}/checkin", data={})
    changes = a.sync(queued=3).json
    rows = {r[0]: r for r in changes["changes"]["people"]}
    assert rows[ticket_hash(codes["p0@example.dk"])][5] == "B"
    assert rows[ticket_hash(codes["p1@example.dk"])][4] is not None
    assert "3 venter stadig på enhederne" in changes["door"]


def test_undo_from_the_device_that_made_the_check_in(app, event_id, staff):
    code = ticket_codes(app, event_id)["p0@example.dk"]
    device = Device(staff, SLUG).start()
    sent = scan(code)
    device.sync(sent)
    answer = post_json(staff, door_url(SLUG, "undo"), {"device": device.token,
                                                       "nonce": sent["nonce"]})
    assert answer.status_code == 200 and answer.json["outcome"] == "undone"
    assert check_ins_of(app, event_id) == []
    again = post_json(staff, door_url(SLUG, "undo"), {"device": device.token,
                                                      "nonce": sent["nonce"]})
    assert again.status_code == 404 and "fortrudt" in again.json["message"]


# The page, its manifest and its service worker ----------------------------------------------


def door_config(page: str) -> dict:
    """What the page gives the door app (its JSON data block)."""
    block = page.split("data-door-config>", 1)[1].split("</script>", 1)[0]
    return json.loads(block)


def test_the_check_in_page_is_an_installable_app(app, event_id, staff):
    page = staff.get("/manage/e/dag/checkin").get_data(as_text=True)
    assert 'rel="manifest" href="/manage/e/dag/checkin/manifest.webmanifest"' in page
    assert door_config(page)["texts"]["queued"] == "{n} venter på at blive sendt"
    assert "Dørens status" in page
    manifest = staff.get("/manage/e/dag/checkin/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.json["start_url"] == manifest.json["scope"] == "/manage/e/dag/checkin"
    for icon in manifest.json["icons"]:
        response = staff.get(icon["src"])
        response.close()  # a static file's response holds the file open
        assert response.status_code == 200
    worker = Client(app, app.response_class).get("/manage/e/dag/checkin/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Service-Worker-Allowed"] == "/manage/e/dag/checkin"
    script = worker.get_data(as_text=True)
    assert script.startswith("const VERSION = ")
    assert 'const PAGE = "/manage/e/dag/checkin"' in script
    for asset in json.loads(script.split("const ASSETS = ")[1].split(";\n")[0]):
        response = staff.get(asset)
        response.close()  # a static file's response holds the file open
        assert response.status_code == 200, asset


def test_the_page_and_the_app_speak_english_too(app, event_id, staff):
    page = staff.get("/manage/e/dag/checkin?lang=en").get_data(as_text=True)
    assert door_config(page)["texts"]["queued"] == "{n} waiting to be sent"
    device = Device(staff, SLUG).start()
    answer = device.sync(scan("y" * 27))
    assert answer.json["refused"][0]["reason"] == "No such ticket at this event."


def test_signing_out_tells_the_browser_to_clear_the_door_data(app, event_id, staff):
    answer = staff.post("/logout", data={})
    assert answer.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert "Clear-Site-Data" not in staff.get("/").headers


def test_check_ins_made_before_the_upgrade_become_check_in_rows(tmp_path):
    """The migration copies each registration's earlier check-in into check_ins."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from eventhub import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "k",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}"})
    with app.app_context():
        upgrade(revision="e5d0a824875c")
        db.session.execute(text(
            "INSERT INTO events (slug, title, description, venue, starts_at, ends_at, status, "
            "join_code, created_at, updated_at) VALUES ('gl', 'Gammel', '', '', "
            "'2026-01-01 09:00', '2026-01-01 16:00', 'published', 'ABCDEF', "
            "'2025-12-01 00:00', '2025-12-01 00:00')"))
        for n, checked in enumerate(["2026-01-01 09:12:00", None]):
            db.session.execute(text(
                "INSERT INTO registrations (event_id, name, email, job_title, status, "
                "badge_role, ticket_code, manage_token, created_at, updated_at, source, "
                "checked_in_at) VALUES (1, :name, :email, '', 'confirmed', 'participant', "
                ":code, :token, '2025-12-01', '2025-12-01', 'web', :checked)"),
                {"name": f"P{n}", "email": f"p{n}@x.dk", "code": f"c{n}", "token": f"t{n}",
                 "checked": checked})
        db.session.commit()
        upgrade()
        rows = db.session.execute(select(CheckIn.registration_id, CheckIn.checked_in_at,
                                         CheckIn.offline, CheckIn.nonce)).all()
        assert rows == [(1, datetime(2026, 1, 1, 9, 12, tzinfo=UTC), False, None)]
        db.engine.dispose()
