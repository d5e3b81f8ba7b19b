"""A real SMTP server on loopback (aiosmtpd) for tests and benchmarks: it keeps what it
accepted, parsed with the ``email`` package, and can be stopped and started again on
the same port (an outage)."""

from __future__ import annotations

import socket
import threading
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Keeper:
    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            self.raw.append(envelope.original_content or envelope.content)
        return "250 OK"


class SmtpServer:
    """``start()``/``stop()`` a server on ``port``; ``messages()`` parses what arrived."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.keeper = _Keeper()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(self.keeper, hostname="127.0.0.1", port=self.port,
                                      data_size_limit=0)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def count(self) -> int:
        with self.keeper.lock:
            return len(self.keeper.raw)

    def messages(self) -> list[EmailMessage]:
        parser = BytesParser(policy=policy.default)
        with self.keeper.lock:
            raw = list(self.keeper.raw)
        return [parser.parsebytes(r) for r in raw]

    def clear(self) -> None:
        with self.keeper.lock:
            self.keeper.raw.clear()

    def config(self) -> dict:
        """The app settings that deliver to this server."""
        return {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port,
                "SMTP_STARTTLS": False, "SMTP_USERNAME": None, "SMTP_TIMEOUT": 10}
