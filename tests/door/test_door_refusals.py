"""The check-in door app refuses bad input with a clear answer and stores nothing of
it: a replayed or forged batch, a nonce reused for another ticket or sent by another
device, malformed JSON, a signed-out device or person, someone else's device."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventhub.registration.door import ticket_hash
from eventhub.registration.models import DuplicateScan
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
from tests.support.factories import make_event, make_registration

# Bad input ----------------------------------------------------------------------------------


def test_a_nonce_reused_for_another_ticket_refuses_the_whole_batch(app, event_id, staff):
    codes = ticket_codes(app, event_id)
    device = Device(staff, SLUG).start()
    first = scan(codes["p0@example.dk"])
    device.sync(first)
    good = scan(codes["p1@example.dk"])
    reused = scan(codes["p2@example.dk"], nonce=first["nonce"])
    answer = device.sync(good, reused)
    assert answer.status_code == 409
    assert "Intet fra enheden er gemt" in answer.json["message"]
    assert answer.json["refused"] == [{"nonce": first["nonce"], "ticket": reused["ticket"],
                                       "reason": "Id'et er allerede brugt til en anden billet."}]
    assert [e for e, *_ in check_ins_of(app, event_id)] == ["p0@example.dk"]  # not p1
    # The same nonce twice in one batch for two tickets: refused too.
    twice = scan(codes["p3@example.dk"])
    answer = device.sync(twice, {**twice, "ticket": ticket_hash(codes["p1@example.dk"])})
    assert answer.status_code == 409 and len(check_ins_of(app, event_id)) == 1


def test_a_nonce_sent_by_another_device_is_refused(app, event_id, staff):
    code = ticket_codes(app, event_id)["p0@example.dk"]
    a = Device(staff, SLUG).start()
    b = Device(staff, SLUG).start()
    sent = scan(code)
    a.sync(sent)
    answer = b.sync(sent)
    assert answer.status_code == 409
    assert answer.json["refused"][0]["reason"] == "Id'et er allerede sendt fra en anden enhed."


@pytest.mark.parametrize("forged, reason", [
    ({"ticket": "A" * 22}, "Billetten findes ikke ved dette arrangement."),
    ({"at": now_ms() + 3_600_000}, "Tidspunktet ligger efter nu."),
    ({"at": now_ms() - 86_400_000}, "Tidspunktet ligger før enheden blev startet."),
])
def test_forged_check_ins_are_refused_and_nothing_is_stored(app, event_id, staff, forged, reason):
    codes = ticket_codes(app, event_id)
    device = Device(staff, SLUG).start()
    answer = device.sync(scan(codes["p0@example.dk"]), {**scan(codes["p1@example.dk"]), **forged})
    assert answer.status_code == 409
    assert [r["reason"] for r in answer.json["refused"]] == [reason]
    assert check_ins_of(app, event_id) == []


def test_a_ticket_of_another_event_is_unknown_here(app, event_id, staff):
    other = make_event(app, "andet")
    _reg, _token = make_registration(app, other, "x@example.dk")
    code = ticket_codes(app, other)["x@example.dk"]
    answer = Device(staff, SLUG).start().sync(scan(code))
    assert answer.status_code == 409 and check_ins_of(app, other) == []


@pytest.mark.parametrize("payload", [
    None, [], "tekst", {"device": 7}, {"check_ins": "x"},
    {"check_ins": [{"nonce": "kort", "ticket": "A" * 22, "at": 1}]},
    {"check_ins": [{"nonce": "n" * 20, "ticket": "A" * 22, "at": "i går"}]},
    {"check_ins": [{"nonce": "n" * 20, "ticket": "A" * 22, "at": 10 ** 20}]},
    {"check_ins": [{"nonce": "n" * 20, "ticket": "A" * 22, "at": True}]},
    {"check_ins": [7]}, {"queued": "mange"}, {"since": "sidste uge"},
    {"since": "2026-01-01T00:00:00"}, {"sent_at": -5},
    {"check_ins": [{"nonce": "n\x00" * 10, "ticket": "A" * 22, "at": 1}]},
])
def test_malformed_syncs_get_a_clear_400(app, event_id, staff, payload):
    device = Device(staff, SLUG).start()
    if isinstance(payload, dict):
        payload = {"device": device.token, "sent_at": now_ms(), **payload}
    answer = post_json(staff, door_url(SLUG, "sync"), payload)
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.is_json and answer.json["message"]
    assert check_ins_of(app, event_id) == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=10)
ODD = st.sampled_from(["", "\x00", "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00",
                       "x" * 5000, -1, 10 ** 30, 1.5, True, None, [], {}])


def _forged_batches(token: str):
    value = st.one_of(ODD, JSON)
    check_in = st.fixed_dictionaries({}, optional={
        "nonce": st.one_of(value, st.text(alphabet="abcdef0123456789-_", min_size=16,
                                          max_size=64)),
        "ticket": st.one_of(value, st.text(alphabet="ABCxyz09-_", min_size=22, max_size=22)),
        "at": st.one_of(value, st.integers(min_value=0, max_value=4 * 10 ** 12)),
        "offline": value})
    return st.fixed_dictionaries({"device": st.one_of(st.just(token), value)}, optional={
        "since": value, "queued": value, "sent_at": st.one_of(value, st.integers()),
        "check_ins": st.one_of(value, st.lists(st.one_of(check_in, value), max_size=4))})


def test_forged_syncs_never_give_a_500_or_store_anything(app, event_id, staff):
    device = Device(staff, SLUG).start()

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(payload=st.one_of(_forged_batches(device.token), JSON))
    def check(payload):
        answer = post_json(staff, door_url(SLUG, "sync"), payload)
        assert answer.status_code < 500, (answer.status_code, payload)
        assert answer.is_json

    check()
    assert check_ins_of(app, event_id) == [] and count(app, DuplicateScan) == 0


def test_too_many_check_ins_at_once_are_refused(app, event_id, staff):
    device = Device(staff, SLUG).start()
    answer = device.sync(*[scan("x" * 27) for _ in range(501)])
    assert answer.status_code == 400 and "Højst 500" in answer.json["message"]


def test_a_sync_needs_the_csrf_token(app, event_id, staff):
    device = Device(staff, SLUG).start()
    answer = staff.post(door_url(SLUG, "sync"), json={"device": device.token},
                        headers={"Accept": "application/json"})
    assert answer.status_code == 400 and answer.is_json
    assert staff.get(door_url(SLUG, "token.json")).json["csrf"]


def test_a_signed_out_device_and_a_signed_out_person_are_refused(app, event_id, staff):
    code = ticket_codes(app, event_id)["p0@example.dk"]
    device = Device(staff, SLUG).start()
    out = post_json(staff, door_url(SLUG, "device/signout"), {"device": device.token})
    assert out.status_code == 200
    answer = device.sync(scan(code))
    assert answer.status_code == 410 and "Enheden er logget ud" in answer.json["message"]
    # Signed out altogether: a clear 401 in JSON, not the sign-in page.
    staff.post("/logout", data={})
    answer = device.sync(scan(code))
    assert answer.status_code == 401 and "Du er logget ud" in answer.json["message"]
    assert check_ins_of(app, event_id) == []


def test_someone_elses_or_an_unknown_device_is_refused(app, event_id, staff):
    code = ticket_codes(app, event_id)["p0@example.dk"]
    device = Device(staff, SLUG).start()
    other = Device(staff_client(app, event_id, "b@example.com"), SLUG, token=device.token)
    answer = other.sync(scan(code))
    assert answer.status_code == 403 and "en anden bruger" in answer.json["message"]
    unknown = Device(staff, SLUG, token="x" * 32).sync(scan(code))
    assert unknown.status_code == 404 and "Enheden er ukendt" in unknown.json["message"]
    assert check_ins_of(app, event_id) == []
