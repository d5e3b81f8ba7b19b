"""The test client: sends the CSRF token with form posts, like a browser would."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.support.factories import PASSWORD

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: str) -> str:
    """The CSRF token in a page's form."""
    match = CSRF_RE.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


class Client(FlaskClient):
    """A test client that sends the CSRF token with form posts, like a browser would."""

    def csrf_token(self) -> str:
        return csrf_of(super().get("/login").get_data(as_text=True))

    def post(self, *args, csrf: bool = True, **kwargs):
        data = kwargs.get("data")
        if csrf and isinstance(data, dict) and "csrf_token" not in data:
            kwargs["data"] = {**data, "csrf_token": self.csrf_token()}
        return super().post(*args, **kwargs)


def login(client: FlaskClient, email: str, password: str = PASSWORD):
    """Sign in through the form (a ``Client`` adds the CSRF token)."""
    return client.post("/login", data={"email": email, "password": password})
