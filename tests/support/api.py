"""API tokens for tests, a live server on loopback, and a webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from werkzeug.serving import make_server

from eventhub.accounts.models import User
from eventhub.api import tokens
from eventhub.events.models import Event
from eventhub.extensions import db


def make_token(app, event_id: int | None, user_id: int, level: str = "write",
               families: list[str] | None = None, *, for_event_id: int | None = None) -> str:
    """A token's secret (all families by default); ``event_id`` None: organization-wide."""
    with app.app_context():
        user = db.session.get(User, user_id)
        event = db.session.get(Event, event_id) if event_id else None
        made = tokens.create_token(user, event, "Test", tokens.scopes_for(level, families),
                                   for_event=db.session.get(Event, for_event_id or event_id))
        db.session.commit()
        return made.secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@contextmanager
def live_app(app) -> Iterator[str]:
    """Serve ``app`` on a free loopback port from a thread (threaded); yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


class Receiver:
    """An HTTP server on loopback that records every POST; ``answers`` is a list of status
    codes to give in turn (then 200), or set ``down`` to close connections unanswered."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    code = receiver.answers.pop(0) if receiver.answers else 200
                    if code == 200:
                        receiver.received.append(({k.lower(): v for k, v in
                                                   self.headers.items()}, body))
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def payloads(self) -> list[dict]:
        return [json.loads(body) for _h, body in self.received]
