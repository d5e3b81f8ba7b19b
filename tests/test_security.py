"""Security headers, cookies, CSRF and where sign-in may redirect to."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from eventhub.accounts.models import MagicLink
from eventhub.accounts.services import safe_next_url
from eventhub.extensions import db
from tests.support.factories import PASSWORD, make_user, stays_on_this_site
from tests.support.mail import delivered_mails, link_in


@pytest.mark.parametrize("path", ["/", "/login", "/healthz", "/no-such-page"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip()
    )
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-inline'" not in directives.get("style-src", "")
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_lax(client, app):
    make_user(app, "staff@example.com", password=PASSWORD)
    response = client.post("/login", data={"email": "staff@example.com", "password": PASSWORD})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize("path", ["/login", "/login/link", "/logout"])
def test_post_without_csrf_token_explains_and_offers_reload(client, path):
    response = client.post(path, data={"email": "a@example.com", "password": "x"}, csrf=False)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Formularen er udløbet" in page
    assert "Genindlæs siden" in page


def test_every_form_on_a_page_carries_a_csrf_token(client, app):
    anonymous = client.get("/login").get_data(as_text=True)
    assert anonymous.count("<form") == anonymous.count('name="csrf_token"') == 2
    make_user(app, "staff@example.com", password=PASSWORD)
    client.post("/login", data={"email": "staff@example.com", "password": PASSWORD})
    signed_in = client.get("/account").get_data(as_text=True)
    assert signed_in.count("<form") == signed_in.count('name="csrf_token"') == 3


# Redirects after sign-in go to this site only -------------------------------------------

# Known open-redirect bypasses (OWASP, PayloadsAllTheThings): browsers drop tabs and line
# breaks, read "\" as "/", and a server may decode %2F once or twice.
BYPASSES = [
    "//evil.example", "///evil.example", "////evil.example/", "/\t/evil.example",
    "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example", " //evil.example",
    "\x1f//evil.example", "/\x0b/evil.example", "/\x7f/evil.example",
    "/\\evil.example", "\\\\evil.example", "\\/evil.example", "/\\/evil.example",
    "/%2F%2Fevil.example", "/%2f/evil.example", "/%5C%5Cevil.example",
    "/%5cevil.example", "/%252F%252Fevil.example", "/%09/evil.example",
    "/%0D%0A/evil.example", "https://evil.example/", "https:evil.example",
    "https:/evil.example", "http:\\\\evil.example", "HTTPS://evil.example",
    "//localhost@evil.example", "https://localhost.evil.example/", "/.//evil.example",
    "/./\\evil.example", "/%2e//evil.example", "/../\\evil.example", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "\x01javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "%2F%2Fevil.example",
    "/\u3000/evil.example", "\u3000//evil.example", "//evil.example%2F%2E%2E",
]


@pytest.mark.parametrize("payload", BYPASSES)
def test_password_sign_in_never_redirects_off_site(client, app, payload):
    make_user(app, "staff@example.com", password=PASSWORD)
    response = client.post("/login", data={
        "email": "staff@example.com", "password": PASSWORD, "next": payload})
    assert response.status_code == 302
    assert stays_on_this_site(response.headers["Location"]), response.headers["Location"]


@pytest.mark.parametrize("payload", BYPASSES)
def test_magic_link_sign_in_never_redirects_off_site(client, app, mail_dir, payload):
    app.config["RATELIMIT_MAGIC_LINK"] = "1000 per minute"
    sent = client.post("/login/link", data={"email": "deltager@example.com", "next": payload})
    assert "Tjek din mail" in sent.get_data(as_text=True)
    [mail] = delivered_mails(app, mail_dir)
    response = client.post(link_in(mail), data={})
    assert response.status_code == 302
    assert stays_on_this_site(response.headers["Location"]), response.headers["Location"]
    assert "Log ud" in client.get("/").get_data(as_text=True)  # and is signed in


def test_a_stored_link_target_is_checked_again_when_the_link_is_used(client, app, mail_dir):
    """A link sent before the stricter check (or written by anything else) is no way out."""
    client.post("/login/link", data={"email": "deltager@example.com", "next": "/e/x"})
    [mail] = delivered_mails(app, mail_dir)
    with app.app_context():
        db.session.execute(update(MagicLink).values(next_url="/\t/evil.example"))
        db.session.commit()
    response = client.post(link_in(mail), data={})
    assert stays_on_this_site(response.headers["Location"]), response.headers["Location"]


@pytest.mark.parametrize("target, expected", [
    ("/e/del-genbrug-2026/programme", "/e/del-genbrug-2026/programme"),
    ("/e/del-genbrug-2026/programme?dag=2&spor=a%20b#s-12",
     "/e/del-genbrug-2026/programme?dag=2&spor=a%20b#s-12"),
    ("/e/æble-dag", "/e/%C3%A6ble-dag"),
    ("/my/data", "/my/data"),
])
def test_a_path_on_this_site_is_kept_after_sign_in(client, app, mail_dir, target, expected):
    make_user(app, "staff@example.com", password=PASSWORD)
    response = client.post("/login", data={
        "email": "staff@example.com", "password": PASSWORD, "next": target})
    assert response.headers["Location"] == expected
    client.post("/logout", data={})
    client.post("/login/link", data={"email": "deltager@example.com", "next": target})
    [mail] = delivered_mails(app, mail_dir)
    assert client.post(link_in(mail), data={}).headers["Location"] == expected


@pytest.mark.parametrize("path", ["/login", "/login/link"])
def test_next_in_the_address_is_rendered_harmless(client, path):
    for payload in ('"><script>alert(1)</script>', "/\t/evil.example", "//evil.example",
                    "javascript:alert(1)"):
        page = client.get(path, query_string={"next": payload}).get_data(as_text=True)
        assert "<script>alert" not in page
        assert re.findall(r'name="next" type="hidden" value="([^"]*)"', page) == [""] * (
            2 if path == "/login" else 1)
    page = client.get(path, query_string={"next": "/e/x/programme"}).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/e/x/programme"' in page


URL_PIECES = list("/\\\t\n\r %2Fe.:@?#\x0b\u3000") + [
    "evil.example", "https:", "//", "%25", "%2F", "%5C", "%09", "javascript:"]


@settings(max_examples=2000, deadline=None, derandomize=True, database=None)
@given(st.lists(st.sampled_from(URL_PIECES), max_size=6).map("".join))
def test_any_next_value_is_a_path_on_this_site_or_refused(value):
    target = safe_next_url(value)
    assert target is None or stays_on_this_site(target), (value, target)
