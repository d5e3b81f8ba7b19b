"""Single sign-on for staff against a real OpenID provider on loopback (npm's
oidc-provider): accounts by verified email, roles untouched, and every tampered answer
refused with a clear message."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from sqlalchemy import select

from eventhub import create_app
from eventhub.accounts.models import User
from eventhub.events.models import EventRole
from eventhub.extensions import db
from tests.support.client import csrf_of
from tests.support.config import app_config
from tests.support.factories import make_event, make_user
from tests.support.oidc import (
    CLIENT_ID,
    CLIENT_SECRET,
    Provider,
    sign_in_at_provider,
    signing_key,
)
from tests.support.production import free_port

CALLBACK = "http://localhost/login/org/callback"


@pytest.fixture(scope="module")
def provider():
    p = Provider(free_port(), [CALLBACK]).start()
    yield p
    p.stop()


@pytest.fixture
def sso(app, database_uri, tmp_path, provider):
    """An app with single sign-on configured (on the test database ``app`` empties)."""
    sso_app = create_app({**app_config(database_uri, tmp_path / "sso"),
                          "OIDC_ISSUER": provider.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
                          "OIDC_CLIENT_SECRET": CLIENT_SECRET})
    yield sso_app
    with sso_app.app_context():
        db.engine.dispose()  # its own pool: closed now, not whenever it is collected


def _begin(client, next_url=""):
    start = client.get("/login/org" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"]
    return start.headers["Location"]


def test_login_page_offers_the_organization_button(sso, client):
    page = sso.test_client().get("/login").get_data(as_text=True)
    assert "Log ind med din organisation" in page
    assert "Log ind med din organisation" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/org").status_code == 404  # not configured: no route to use


def test_first_sign_in_creates_the_account_later_ones_find_it(sso, provider):
    web = sso.test_client()
    back = sign_in_at_provider(_begin(web), "anne", CALLBACK)
    done = web.get(back.removeprefix("http://localhost"))
    assert done.status_code == 302 and done.headers["Location"].endswith("/manage/")
    with sso.app_context():
        user = db.session.scalar(select(User).where(User.email == "anne.berg@odense.example.dk"))
        assert user.name == "Anne Berg" and not user.is_admin
        assert db.session.scalar(select(EventRole).where(EventRole.user_id == user.id)) is None
        user_id = user.id
    assert web.get("/manage/").status_code == 200
    # Signing out ends the local session (the provider's session is its own business).
    web.post("/logout", data={"csrf_token": csrf_of(web.get("/account").get_data(
        as_text=True))})
    assert web.get("/manage/").status_code == 302
    again = sso.test_client()
    back = sign_in_at_provider(_begin(again), "anne", CALLBACK)
    assert again.get(back.removeprefix("http://localhost")).status_code == 302
    with sso.app_context():
        assert db.session.scalar(select(User.id).where(
            User.email == "anne.berg@odense.example.dk")) == user_id


def test_existing_staff_keep_their_roles(sso, provider):
    uid = make_user(sso, "anne.berg@odense.example.dk")
    make_event(sso, "dag", organizer_id=uid)
    web = sso.test_client()
    back = sign_in_at_provider(_begin(web, "/manage/e/dag"), "anne", CALLBACK)
    done = web.get(back.removeprefix("http://localhost"))
    assert done.headers["Location"] == "/manage/e/dag"
    assert web.get("/manage/e/dag").status_code == 200


def test_unverified_email_is_refused(sso, provider):
    web = sso.test_client()
    back = sign_in_at_provider(_begin(web), "ole", CALLBACK)
    refused = web.get(back.removeprefix("http://localhost"))
    assert refused.status_code == 400
    assert "ikke bekræftet din e-mailadresse" in refused.get_data(as_text=True)
    with sso.app_context():
        assert db.session.scalar(select(User).where(User.email == "ole@odense.example.dk")) \
            is None


def test_tampered_state_is_refused(sso, provider):
    web = sso.test_client()
    back = sign_in_at_provider(_begin(web), "anne", CALLBACK)
    state = parse_qs(urlsplit(back).query)["state"][0]
    tampered = back.replace(f"state={state}", "state=" + state[::-1])
    refused = web.get(tampered.removeprefix("http://localhost"))
    assert refused.status_code == 400
    assert "(state)" in refused.get_data(as_text=True)
    assert web.get("/manage/").status_code == 302  # not signed in


def test_wrong_nonce_is_refused(sso, provider):
    web = sso.test_client()
    back = sign_in_at_provider(_begin(web), "anne", CALLBACK)
    with web.session_transaction() as sess:
        key = next(k for k in sess if k.startswith("_state_org_"))
        entry = dict(sess[key])
        entry["data"] = {**entry["data"], "nonce": "not-the-nonce-we-sent"}
        sess[key] = entry
    refused = web.get(back.removeprefix("http://localhost"))
    assert refused.status_code == 400
    assert "(nonce)" in refused.get_data(as_text=True)
    assert web.get("/manage/").status_code == 302


def _id_token(key, provider, **overrides) -> str:
    now = int(time.time())
    claims = {"iss": provider.issuer, "aud": CLIENT_ID, "sub": "anne", "iat": now,
              "exp": now + 300, "nonce": "n-1", "email": "anne.berg@odense.example.dk",
              "email_verified": True, **overrides}
    return jwt.encode({"alg": "RS256", "kid": "test-1"}, claims, key)


def _check(sso, token: str) -> str:
    from eventhub.accounts import oidc

    with sso.test_request_context():
        try:
            oidc.client().parse_id_token({"id_token": token, "access_token": "x"},
                                         nonce="n-1")
        except Exception as exc:  # noqa: BLE001 - the message is what we test
            return oidc.refusal(exc)
    return "accepted"


def test_expired_or_wrongly_signed_id_tokens_are_refused(sso, provider):
    assert _check(sso, _id_token(provider.key, provider)) == "accepted"
    expired = _id_token(provider.key, provider, iat=int(time.time()) - 7200,
                        exp=int(time.time()) - 3600)
    assert "udløbet" in _check(sso, expired)
    stranger = signing_key()  # same key id, another key
    assert "ugyldig signatur" in _check(sso, _id_token(stranger, provider))
    assert "(nonce)" in _check(sso, _id_token(provider.key, provider, nonce="other"))
