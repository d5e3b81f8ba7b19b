"""The test client (tests/support/client.py): one CSRF token per session, not one
request for a token before every post."""


from flask import request, request_started

from tests.support.client import login
from tests.support.factories import PASSWORD, make_user


def test_one_token_per_session_and_a_new_one_after_signing_in_or_out(app, client):
    make_user(app, "org@example.com", password=PASSWORD)
    paths = []

    def seen(sender, **extra):
        paths.append((request.method, request.path))

    request_started.connect(seen, app)
    try:
        for _ in range(3):  # wrong passwords: the session (and its CSRF secret) stays
            assert client.post("/login", data={"email": "org@example.com",
                                               "password": "forkert"}).status_code == 200
        assert paths.count(("GET", "/login")) == 1
        assert login(client, "org@example.com").status_code == 302  # a fresh session
        assert client.post("/account/logout-everywhere", data={}).status_code == 302
        assert login(client, "org@example.com").status_code == 302  # signed out: fresh again
        assert client.post("/logout", data={}).status_code == 302  # cleared again
        assert client.post("/login/link", data={"email": "a@example.com"}).status_code == 200
    finally:
        request_started.disconnect(seen, app)
    # A token for the first session, after each sign-in and after each sign-out.
    assert paths.count(("GET", "/login")) == 5
