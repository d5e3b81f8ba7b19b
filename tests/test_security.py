"""Security headers, cookies and CSRF."""

import pytest

from tests.support.factories import PASSWORD, make_user


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
