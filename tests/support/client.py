"""The test client: sends the CSRF token with form posts, like a browser would."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from itsdangerous import BadSignature

from tests.support.factories import PASSWORD

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: str) -> str:
    """The CSRF token in a page's form."""
    match = CSRF_RE.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


class Client(FlaskClient):
    """A test client that adds the CSRF token to every form post (``csrf=False`` not to).

    Flask-WTF signs the token from a secret kept in the session, so one token serves for
    as long as the session keeps that secret: the client fetches it once (from /login)
    and again only when the session's secret changes, e.g. after signing in or out, which
    start a fresh session. The secret is read from the client's own session cookie."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._csrf: tuple[str, str] | None = None  # (the session's secret, its token)

    def _session_csrf_secret(self) -> str | None:
        app = self.application
        cookie = self.get_cookie(app.config["SESSION_COOKIE_NAME"])
        serializer = app.session_interface.get_signing_serializer(app)
        if cookie is None or serializer is None:
            return None
        try:
            return serializer.loads(cookie.value).get("csrf_token")
        except BadSignature:
            return None

    def csrf_token(self) -> str:
        secret = self._session_csrf_secret()
        if secret is None or self._csrf is None or self._csrf[0] != secret:
            token = csrf_of(super().get("/login").get_data(as_text=True))
            self._csrf = (self._session_csrf_secret(), token)
        return self._csrf[1]

    def post(self, *args, csrf: bool = True, **kwargs):
        data = kwargs.get("data")
        if csrf and isinstance(data, dict) and "csrf_token" not in data:
            kwargs["data"] = {**data, "csrf_token": self.csrf_token()}
        return super().post(*args, **kwargs)

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        # Werkzeug encodes a multipart body over 500 KB into a temporary file that it
        # never closes (an unclosed-file ResourceWarning): the body is spent, close it.
        for answer in (*response.history, response):
            if answer.request is not None:
                answer.request.environ["wsgi.input"].close()
        return response


def login(client: FlaskClient, email: str, password: str = PASSWORD):
    """Sign in through the form (a ``Client`` adds the CSRF token)."""
    return client.post("/login", data={"email": email, "password": password})
