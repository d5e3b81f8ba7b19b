"""Webhooks as a receiving system sees them: a real HTTP receiver on loopback checks every
signature with the ``standardwebhooks`` library; outages, errors and 410 behave as
documented; targets inside the network are refused."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook

from eventhub.api.models import WebhookDelivery, WebhookEndpoint
from eventhub.extensions import db
from tests.support.api import Receiver, bearer, make_token
from tests.support.client import login
from tests.support.factories import make_event, make_user, set_password_for

PERSON = {"name": "Mette Holm", "organization": "Aarhus Kommune"}
TYPES = ["registration.created", "registration.cancelled", "checkin.created"]


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def hook_app(app):
    app.config.update(WEBHOOK_ALLOW_LOOPBACK=True, WEBHOOK_RETRY_BASE_SECONDS=0.05)
    return app


def _endpoint(app, event_id, user_id, url, types=TYPES) -> tuple[int, str]:
    from eventhub.accounts.models import User
    from eventhub.api import webhooks
    from eventhub.events.models import Event

    with app.app_context():
        endpoint = webhooks.create_endpoint(db.session.get(User, user_id),
                                            db.session.get(Event, event_id), url, types)
        db.session.commit()
        return endpoint.id, endpoint.secret


def _deliver(app, rounds=1):
    from eventhub.api.delivery import deliver_due

    with app.app_context():
        for _ in range(rounds):
            deliver_due()
        db.session.remove()


def _deliver_until(app, done, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "deliveries did not finish"
        _deliver(app)
        time.sleep(0.05)


def _setup(app):
    uid = make_user(app, "org@example.com")
    eid = make_event(app, "dag", organizer_id=uid)
    return uid, eid, make_token(app, eid, uid)


def _register(client, secret, n):
    r = client.post("/api/v1/events/dag/registrations", headers=bearer(secret),
                    json={**PERSON, "email": f"p{n}@example.com", "notify": False})
    assert r.status_code == 201
    return r.get_json()["id"]


def test_signed_in_order_through_outage_and_errors(hook_app, client, receiver):
    app = hook_app
    uid, eid, secret = _setup(app)
    _eid, whsec = _endpoint(app, eid, uid, receiver.url)
    verifier = Webhook(whsec)
    receiver.stop()  # the receiver is down for a while
    ids = [_register(client, secret, n) for n in range(3)]
    _deliver(app, rounds=3)
    assert receiver.received == []
    with app.app_context():
        first = db.session.scalar(select(WebhookDelivery).order_by(WebhookDelivery.id))
        assert first.status == "pending" and first.attempts >= 1 and first.last_error
    # Back up on the same port, answering 500 twice, then 200.
    port = int(receiver.url.split(":")[2].split("/")[0])
    again = Receiver()
    again.server.server_close()
    from http.server import ThreadingHTTPServer

    again.server = ThreadingHTTPServer(("127.0.0.1", port), again.server.RequestHandlerClass)
    import threading

    again.thread = threading.Thread(target=again.server.serve_forever, daemon=True)
    again.answers = [500, 500]
    again.start()
    try:
        cancel = client.post(f"/api/v1/events/dag/registrations/{ids[0]}/cancel",
                             json={"notify": False}, headers=bearer(secret))
        assert cancel.status_code == 200
        _deliver_until(app, lambda: len(again.received) >= 4)
        time.sleep(0.2)
        _deliver(app, rounds=2)
    finally:
        again.stop()
    payloads = [verifier.verify(body, headers) for headers, body in again.received]
    kinds = [(p["type"], p["data"]["registration_id"]) for p in payloads]
    assert kinds == [("registration.created", ids[0]), ("registration.created", ids[1]),
                     ("registration.created", ids[2]), ("registration.cancelled", ids[0])]
    assert all(p["data"]["event"] == "dag" and p["timestamp"] for p in payloads)
    message_ids = [h["webhook-id"] for h, _b in again.received]
    assert len(set(message_ids)) == 4  # no duplicates
    with app.app_context():
        rows = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        assert [r.status for r in rows] == ["delivered"] * 4
        assert rows[0].attempts >= 3 and rows[0].last_status_code == 200


def test_a_forged_signature_fails_verification(hook_app, client, receiver):
    app = hook_app
    uid, eid, secret = _setup(app)
    _endpoint(app, eid, uid, receiver.url)
    _register(client, secret, 1)
    _deliver(app)
    headers, body = receiver.received[0]
    from standardwebhooks.webhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJD" * 8).verify(body, headers)


def test_410_disables_the_endpoint(hook_app, client, receiver):
    app = hook_app
    uid, eid, secret = _setup(app)
    endpoint_id, _ = _endpoint(app, eid, uid, receiver.url)
    receiver.answers = [410]
    _register(client, secret, 1)
    _register(client, secret, 2)
    _deliver(app, rounds=2)
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert endpoint.active is False and "410" in endpoint.disabled_reason
        statuses = list(db.session.scalars(select(WebhookDelivery.status)
                                           .order_by(WebhookDelivery.id)))
    assert statuses == ["failed", "pending"]
    assert receiver.received == []
    _register(client, secret, 3)  # a disabled endpoint queues nothing new
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 2


def test_nothing_is_queued_when_the_change_is_rolled_back(hook_app, client, receiver):
    app = hook_app
    uid, eid, secret = _setup(app)
    _endpoint(app, eid, uid, receiver.url)
    _register(client, secret, 1)
    dup = client.post("/api/v1/events/dag/registrations", headers=bearer(secret),
                      json={**PERSON, "email": "p1@example.com"})
    assert dup.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1


@pytest.mark.parametrize("url", [
    "ftp://example.com/hook", "javascript:alert(1)", "http://10.0.0.5/hook",
    "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:8080/hook", "http://127.0.0.1:9/hook", "http://localhost/hook",
    "http://user:pw@example.com/", "http://[fd00:ec2::254]/", "http://100.100.100.200/",
])
def test_targets_inside_the_network_are_refused(app, url):
    uid = make_user(app, "org@example.com")
    eid = make_event(app, "dag", organizer_id=uid)
    from eventhub.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        _endpoint(app, eid, uid, url)
    assert refused.value.field == "url"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_the_connection_itself_is_checked(app, receiver):
    """A name that resolved to a public address when it was registered but connects to
    loopback later (DNS rebinding) is refused at delivery."""
    from eventhub.api import netguard

    with pytest.raises(Exception) as refused:
        netguard.session(allow_loopback=False).post(receiver.url, data=b"{}", timeout=5)
    assert "internt netværk" in str(refused.value) or "Refused" in repr(refused.value)
    assert receiver.received == []


def test_organizer_pages_register_test_and_redeliver(hook_app, client, receiver):
    app = hook_app
    uid, eid, _secret = _setup(app)
    set_password_for(app, "org@example.com")
    login(client, "org@example.com")
    page = client.get("/manage/e/dag/webhooks")
    assert page.status_code == 200 and "Ny modtager" in page.get_data(as_text=True)
    bad = client.post("/manage/e/dag/webhooks",
                      data={"url": "http://10.1.2.3/x", "event_types": ["checkin.created"]})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "internt netværk" in text and "http://10.1.2.3/x" in text  # typed value kept
    made = client.post("/manage/e/dag/webhooks",
                       data={"url": receiver.url, "event_types": ["checkin.created"]})
    assert made.status_code == 302
    detail_url = made.headers["Location"]
    detail = client.get(detail_url).get_data(as_text=True)
    assert "whsec_" in detail
    assert client.post(detail_url + "/test", data={}).status_code == 302
    _deliver(app)
    assert receiver.payloads()[0]["type"] == "webhook.test"
    with app.app_context():
        delivery_id = db.session.scalar(select(WebhookDelivery.id))
    assert client.post(f"{detail_url}/deliveries/{delivery_id}/again", data={}) \
        .status_code == 302
    _deliver(app)
    assert len(receiver.received) == 2
    assert receiver.received[0][0]["webhook-id"] == receiver.received[1][0]["webhook-id"]
    log = client.get(detail_url).get_data(as_text=True)
    assert "Leveret" in log and "200" in log
