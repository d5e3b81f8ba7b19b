"""Outbox: render a mail, queue it in the database, deliver it with retry.

Nothing is sent inside a request. A request queues rows in ``outbox_mails`` and
commits them with everything else; ``eventhub send-mail`` (or the in-process
worker thread of the demo) delivers what is due. A failed delivery is retried with
exponential backoff until ``MAIL_MAX_ATTEMPTS``, then marked failed for an admin to
see and retry. An SMTP outage therefore loses nothing.
"""

from __future__ import annotations

import base64
import logging
import os
import queue
import smtplib
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from html import escape as html_escape
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, has_request_context, render_template
from flask_babel import force_locale, get_locale
from sqlalchemy import JSON, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from eventhub import contributions
from eventhub.db import UTCDateTime, utcnow
from eventhub.extensions import db
from eventhub.paths import TEMPLATES_DIR

log = logging.getLogger(__name__)

QUEUED, SENT, FAILED, SKIPPED = "queued", "sent", "failed", "skipped"


class OutboxMail(db.Model):
    __tablename__ = "outbox_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # [{"filename": ..., "content_type": "text/calendar", "data": base64}]
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(10), default=QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(200))
    # A mail built when it is delivered: the builder's name, its arguments, the language.
    builder: Mapped[str | None] = mapped_column(String(60))
    builder_args: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    locale: Mapped[str | None] = mapped_column(String(5))
    # The event a mail is about (None for sign-in links): "my data" and the retention
    # purge find a person's mails by it.
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The sender as people see it: the event's name before the system's address (which
    # stays, for deliverability), replies to the event's contact.
    from_name: Mapped[str | None] = mapped_column(String(200))
    reply_to: Mapped[str | None] = mapped_column(String(254))
    # Bulk mail only (reminders, messages, follow-up): the signed one-click unsubscribe
    # URL of RFC 8058; transactional mails (receipt, ticket, sign-in link) carry none.
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))


Builder = Callable[..., "BuiltMail | None"]
_BUILDERS = "mail.builders"


@dataclass
class BuiltMail:
    """What a builder returns: the template, its context and any attachments."""

    template: str
    context: dict[str, Any]
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)
    # Override the sender taken from ``context["event"]`` (follow-up: the manager).
    reply_to: str | None = None
    from_name: str | None = None
    unsubscribe_url: str | None = None  # set for bulk mail only
    # Already rendered (subject, text, html): the template is skipped.
    rendered: tuple[str, str, str | None] | None = None


def add_builder(app: Flask, name: str, fn: Builder) -> None:
    """Let the worker build mails named ``name`` at delivery time from plain arguments
    (a domain adds its builders in its ``init_app``)."""
    contributions.add(app, _BUILDERS, (name, fn))


def _builder(name: str) -> Builder:
    for known, fn in contributions.of(_BUILDERS):
        if known == name:
            return fn
    raise LookupError(f"no mail builder named {name!r}")


def queue_built_mail(to: str, builder: str, *, kind: str = "", event_id: int | None = None,
                     **args: Any) -> OutboxMail:
    """Queue a mail that the worker renders when it sends it (the request stays fast:
    no templates, QR codes or calendars are built while a lock is held)."""
    mail = OutboxMail(to_addr=to, subject="", body_text="", kind=kind or builder,
                      builder=builder, builder_args=args, attachments=[],
                      locale=str(get_locale() or "da"), event_id=event_id)
    db.session.add(mail)
    return mail


_OVERRIDES = "mail.overrides"
Override = Callable[[str, str, dict[str, Any]], "tuple[str, str, str | None] | None"]


def add_override(app: Flask, fn: Override) -> None:
    """``fn(template, locale, context)``: (subject, text, html) to send instead of the
    template's own, or None (messaging: an organizer's own texts for an event)."""
    contributions.add(app, _OVERRIDES, fn)


def _render(template: str, locale: str, context: dict[str, Any]) -> tuple[str, str, str | None]:
    for fn in contributions.of(_OVERRIDES):
        done = fn(template, locale, context)
        if done is not None:
            return done
    with force_locale(locale):
        rendered = render_template(f"email/{template}.txt", **context)
        html = None
        html_path = TEMPLATES_DIR / "email" / f"{template}.html"
        if html_path.exists():
            html = render_template(f"email/{template}.html", **context)
    subject, _, body = rendered.lstrip().partition("\n")
    return subject.removeprefix("Subject:").strip(), body.strip() + "\n", html


def _encode(attachments: list[tuple[str, str, bytes]] | None) -> list[dict[str, str]]:
    return [{"filename": name, "content_type": ctype, "data": base64.b64encode(data).decode()}
            for name, ctype, data in (attachments or [])]


def build_deferred(mail: OutboxMail) -> bool:
    """Fill in a deferred mail's subject, body and attachments; False if it is moot."""
    if has_request_context():
        with db.session.no_autoflush:  # the batch's finished mails flush at its commit
            built = _builder(mail.builder)(**(mail.builder_args or {}))
    else:
        with current_app.test_request_context():  # url_for works as in a request
            built = _builder(mail.builder)(**(mail.builder_args or {}))
    if built is None:
        return False
    return _fill(mail, built)


_PREPARERS = "mail.preparers"


def add_preparer(app: Flask, name: str, fn: Callable[[list[dict[str, Any]]], None]) -> None:
    """``fn(args_of_each_mail)``: load what the builder ``name`` needs for a whole batch
    at once (e.g. the recipients in one query) before it builds the batch's mails."""
    contributions.add(app, _PREPARERS, (name, fn))


def batch_cache() -> dict[str, Any]:
    """A dict that lives while one batch of mails is built (a builder's per-batch
    lookups: the event's texts, who unsubscribed); empty outside a batch."""
    return g.setdefault("mail_batch_cache", {})


def _prepare(mails: list[OutboxMail]) -> None:
    g.mail_batch_cache = {}
    wanted: dict[str, list[dict[str, Any]]] = {}
    for mail in mails:
        if mail.builder:
            wanted.setdefault(mail.builder, []).append(mail.builder_args or {})
    for name, fn in contributions.of(_PREPARERS):
        if name in wanted:
            fn(wanted[name])


def sender_of(context: dict[str, Any]) -> tuple[str | None, str | None]:
    """(display name, Reply-To) of a mail about ``context["event"]``: the event's."""
    event = context.get("event")
    if event is None:
        return None, None
    return (getattr(event, "title", None) or None,
            (getattr(event, "contact_email", "") or "").strip() or None)


def _fill(mail: OutboxMail, built: BuiltMail) -> bool:
    mail.subject, mail.body_text, mail.body_html = built.rendered or _render(
        built.template, mail.locale or "da", built.context)
    mail.attachments = _encode(built.attachments)
    name, reply_to = sender_of(built.context)
    mail.from_name = built.from_name or name
    mail.reply_to = built.reply_to or reply_to
    mail.unsubscribe_url = built.unsubscribe_url
    mail.builder = None
    return True


def queue_mail(
    to: str,
    template: str,
    *,
    kind: str = "",
    locale: str | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
    **context: Any,
) -> OutboxMail:
    """Render ``email/<template>.txt`` (subject on its first line) and queue it; a mail
    whose context has an ``event`` is filed under that event."""
    subject, body, html = _render(template, locale or str(get_locale() or "da"), context)
    name, reply_to = sender_of(context)
    mail = OutboxMail(
        to_addr=to, subject=subject, body_text=body, body_html=html, kind=kind or template,
        attachments=_encode(attachments), event_id=getattr(context.get("event"), "id", None),
        from_name=name, reply_to=reply_to,
    )
    db.session.add(mail)
    db.session.flush()
    return mail


def unsubscribe_mailto(url: str, config: dict[str, Any]) -> str:
    """The mailto: twin of a one-click URL (RFC 2369), to ``MAIL_UNSUBSCRIBE_ADDRESS``."""
    address = config.get("MAIL_UNSUBSCRIBE_ADDRESS") or \
        "unsubscribe@" + parseaddr(config["MAIL_FROM"])[1].rpartition("@")[2]
    return f"mailto:{address}?subject=unsubscribe%20{url.rstrip('/').rpartition('/')[2]}"


def _header(value: str) -> str:
    """A header value, RFC 2047-encoded (and folded) when it is not plain ASCII."""
    value = " ".join(value.split())
    return value if value.isascii() else Header(value, "utf-8").encode(maxlinelen=76)


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


class RawMessage:
    """A finished message: its bytes (CRLF), the recipient, and the envelope sender."""

    def __init__(self, raw: bytes, to: str, sender: str) -> None:
        self.raw, self.to, self.sender = raw, to, sender

    def __bytes__(self) -> bytes:
        return self.raw


def build_message(mail: OutboxMail, sender: str,
                  config: dict[str, Any] | None = None) -> RawMessage:
    """The RFC 5322 message for an outbox row: the system's address as sender with the
    event's name, Reply-To the event's contact, a text and an HTML part (multipart/
    alternative), attachments (multipart/mixed), ``List-Unsubscribe`` on bulk mail.

    Written out directly rather than through ``email.message``: its header registry and
    generator cost more than everything else when thousands of reminders go out; the
    attachments' base64 from the outbox row is used as it is."""
    name, address = parseaddr(sender)
    shown = mail.from_name or name
    headers = [
        ("From", formataddr((shown, address), charset="utf-8") if shown else address),
        ("To", mail.to_addr),
    ]
    if mail.reply_to:
        headers.append(("Reply-To", mail.reply_to))
    headers += [("Subject", _header(mail.subject)),
                ("Date", formatdate(localtime=False, usegmt=True)),
                ("Message-ID", mail.message_id or make_msgid(domain="eventhub.local")),
                ("MIME-Version", "1.0")]
    if mail.unsubscribe_url:
        mailto = unsubscribe_mailto(mail.unsubscribe_url, config or {"MAIL_FROM": sender})
        headers += [("List-Unsubscribe", f"<{mail.unsubscribe_url}>,\n <{mailto}>"),
                    ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")]
    token = uuid.uuid4().hex
    alt, mixed = f"alt-{token}", f"mix-{token}"
    html = mail.body_html or _as_html(mail.body_text)
    body = [f"--{alt}", 'Content-Type: text/plain; charset="utf-8"',
            "Content-Transfer-Encoding: base64", ""]
    parts = [("\r\n".join(body) + "\r\n").encode(), _b64(mail.body_text.encode()),
             (f"--{alt}\r\nContent-Type: text/html; charset=\"utf-8\"\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\n").encode(),
             _b64(html.encode()), f"--{alt}--\r\n".encode()]
    if mail.attachments:
        headers.append(("Content-Type", f'multipart/mixed; boundary="{mixed}"'))
        out = [f"--{mixed}\r\nContent-Type: multipart/alternative; boundary=\"{alt}\"\r\n\r\n"
               .encode(), *parts]
        for att in mail.attachments:
            data = att["data"]
            lines = "\r\n".join(data[i:i + 76] for i in range(0, len(data), 76))
            filename = att["filename"].replace('"', "")
            out.append((f"--{mixed}\r\nContent-Type: {att['content_type']}; "
                        f'name="{filename}"\r\nContent-Transfer-Encoding: base64\r\n'
                        f'Content-Disposition: attachment; filename="{filename}"\r\n\r\n'
                        f"{lines}\r\n").encode())
        out.append(f"--{mixed}--\r\n".encode())
    else:
        headers.append(("Content-Type", f'multipart/alternative; boundary="{alt}"'))
        out = parts
    head = "".join(f"{k}: {v}\n" for k, v in headers)
    head = head.replace("\r\n", "\n").replace("\n", "\r\n")
    return RawMessage(head.encode() + b"\r\n" + b"".join(out), mail.to_addr, address)


def _as_html(text: str) -> str:
    """A plain text as a simple HTML part (escaped, paragraphs and line breaks kept)."""
    paragraphs = [html_escape(p).replace("\n", "<br>\n") for p in text.strip().split("\n\n")]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f'<!doctype html>\n<html><body style="font-family:sans-serif">\n{body}\n</body></html>\n'


class FolderBackend:
    """Writes each message as an ``.eml`` file: the default, for development and demos."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def send(self, msg: RawMessage, mail_id: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S}-{mail_id:06d}.eml"
        tmp = self.folder / (name + ".tmp")
        tmp.write_bytes(bytes(msg))
        os.replace(tmp, self.folder / name)


class SmtpBackend:
    """Delivers over SMTP with the ``SMTP_*`` settings."""

    overlaps = True  # network waits: render the next mail meanwhile (deliver_due)

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            c = self.config
            smtp = smtplib.SMTP(c["SMTP_HOST"], c["SMTP_PORT"], timeout=c["SMTP_TIMEOUT"])
            try:
                if c["SMTP_STARTTLS"]:
                    smtp.starttls()
                if c["SMTP_USERNAME"]:
                    smtp.login(c["SMTP_USERNAME"], c["SMTP_PASSWORD"] or "")
            except Exception:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def send(self, msg: RawMessage, mail_id: int) -> None:
        """Send over the open connection (one per delivery run, not one per mail)."""
        try:
            self._connection().sendmail(msg.sender, [msg.to], msg.raw)
        except smtplib.SMTPRecipientsRefused:
            raise  # the connection is fine; this address is not
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except Exception:  # already gone
                smtp.close()


def get_backend() -> FolderBackend | SmtpBackend:
    """The backend named by ``MAIL_BACKEND``."""
    cfg = current_app.config
    backend = current_app.extensions.get("eventhub_mail_backend")
    if backend is not None:  # tests and embedders may install their own
        return backend
    if cfg["MAIL_BACKEND"] == "smtp":
        return SmtpBackend(cfg)
    return FolderBackend(cfg["MAIL_FOLDER"])


def retry_delay(attempts: int, base_seconds: int) -> timedelta:
    """Exponential backoff: base, 2×base, 4×base … capped at six hours."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), 6 * 3600))


def deliver_due(limit: int = 200, batch: int = 20,
                shard: tuple[int, int] | None = None) -> tuple[int, int]:
    """Deliver queued mails whose time has come; returns (sent, failed attempts).

    ``shard=(k, n)`` takes only the mails whose id is k modulo n: n workers side by side
    (``eventhub send-mail --shard k/n``) never touch each other's mails, also where the
    database has no ``SKIP LOCKED`` (SQLite).

    Mails are claimed ``batch`` at a time with ``FOR UPDATE SKIP LOCKED`` where the
    database has it, so several workers never send the same mail; each batch is
    committed on its own and goes over one SMTP connection. While one mail is on the
    wire the next is rendered (a sender thread does only the socket work).
    """
    cfg = current_app.config
    backend = get_backend()
    sent = failed = 0
    try:
        while sent + failed < limit:
            stmt = (
                select(OutboxMail)
                .where(OutboxMail.status == QUEUED, OutboxMail.next_attempt_at <= utcnow())
                .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
                .limit(min(batch, limit - sent - failed))
                .with_for_update(skip_locked=True)
            )
            if shard is not None:
                stmt = stmt.where(OutboxMail.id % shard[1] == shard[0])
            mails = list(db.session.scalars(stmt))
            if not mails:
                break
            ok, bad = _deliver_batch(mails, backend, cfg)
            sent, failed = sent + ok, failed + bad
            db.session.commit()
    finally:
        close = getattr(backend, "close", None)
        if close:
            close()
    return sent, failed


class _Overlap:
    """Sends on a thread of its own, in order, while the caller renders the next mail;
    it touches no database object, only the finished messages."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.todo: queue.Queue = queue.Queue()
        self.done: dict[int, Exception | None] = {}
        self.thread = threading.Thread(target=self._run, name="mail-sender", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.todo.get()) is not None:
            mail_id, msg = item
            try:
                self.backend.send(msg, mail_id)
                self.done[mail_id] = None
            except Exception as exc:  # reported to the caller, retried later
                self.done[mail_id] = exc

    def put(self, mail_id: int, msg: RawMessage) -> None:
        self.todo.put((mail_id, msg))

    def finish(self) -> dict[int, Exception | None]:
        self.todo.put(None)
        self.thread.join()
        return self.done


def _deliver_batch(mails: list[OutboxMail], backend, cfg) -> tuple[int, int]:
    """Build and send claimed mails; (sent, failed)."""
    with current_app.test_request_context():  # url_for works as in a request
        try:
            _prepare(mails)
            return _build_and_send(mails, backend, cfg)
        finally:
            g.pop("mail_batch_cache", None)


def _build_and_send(mails: list[OutboxMail], backend, cfg) -> tuple[int, int]:
    overlap = _Overlap(backend) if getattr(backend, "overlaps", False) else None
    if overlap is None:
        return _build_and_send_with(mails, backend, cfg, None)
    # The sender thread wakes for every SMTP reply; with Python's default 5 ms switch
    # interval it would wait that long for the renderer to let go each time.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, 0.0005))
    try:
        return _build_and_send_with(mails, backend, cfg, overlap)
    finally:
        sys.setswitchinterval(interval)


def _build_and_send_with(mails: list[OutboxMail], backend, cfg, overlap) -> tuple[int, int]:
    sent = failed = 0
    waiting = []
    for mail in mails:
        try:
            if mail.builder and not build_deferred(mail):
                mail.status, mail.last_error = SKIPPED, "nothing to send any more"
                continue
            if not mail.message_id:
                mail.message_id = make_msgid(domain="eventhub.local")
            msg = build_message(mail, cfg["MAIL_FROM"], cfg)
            if overlap is not None:
                overlap.put(mail.id, msg)
                waiting.append(mail)
                continue
            backend.send(msg, mail.id)
        except Exception as exc:  # any transport failure is retried later
            _failed(mail, exc, cfg)
            failed += 1
        else:
            _sent(mail)
            sent += 1
    if overlap is not None:
        results = overlap.finish()
        for mail in waiting:
            exc = results.get(mail.id, RuntimeError("not sent"))
            if exc is None:
                _sent(mail)
                sent += 1
            else:
                _failed(mail, exc, cfg)
                failed += 1
    return sent, failed


def _sent(mail: OutboxMail) -> None:
    mail.attempts += 1
    mail.status = SENT
    mail.sent_at = utcnow()
    mail.last_error = None


def _failed(mail: OutboxMail, exc: Exception, cfg) -> None:
    mail.attempts += 1
    mail.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if mail.attempts >= cfg["MAIL_MAX_ATTEMPTS"]:
        mail.status = FAILED
    else:
        mail.next_attempt_at = utcnow() + retry_delay(mail.attempts,
                                                      cfg["MAIL_RETRY_BASE_SECONDS"])
    log.warning("mail %s to outbox failed (attempt %s): %s", mail.id, mail.attempts, exc)


def retry_mail(mail_id: int) -> OutboxMail | None:
    """Put a failed mail back in the queue, due now."""
    mail = db.session.get(OutboxMail, mail_id)
    if mail is None or mail.status != FAILED:
        return None
    mail.status = QUEUED
    mail.attempts = 0
    mail.next_attempt_at = utcnow()
    db.session.flush()
    return mail


def failed_mails() -> list[OutboxMail]:
    """Mails that gave up, newest first."""
    return list(
        db.session.scalars(
            select(OutboxMail).where(OutboxMail.status == FAILED).order_by(OutboxMail.id.desc())
        )
    )


def outbox_counts() -> dict[str, int]:
    """How many mails are queued, sent and failed."""
    from sqlalchemy import func

    rows = db.session.execute(
        select(OutboxMail.status, func.count()).group_by(OutboxMail.status)
    ).all()
    counts = {QUEUED: 0, SENT: 0, FAILED: 0}
    counts.update({status: n for status, n in rows})
    return counts


def start_worker_thread(app: Flask, interval: float = 2.0) -> threading.Thread:
    """Deliver the outbox every ``interval`` seconds from a daemon thread."""

    def run() -> None:
        while True:
            try:
                with app.app_context():
                    deliver_due()
                    db.session.remove()
            except Exception:  # keep the worker alive through a database hiccup
                log.exception("outbox worker")
            time.sleep(interval)

    thread = threading.Thread(target=run, name="outbox-worker", daemon=True)
    thread.start()
    return thread
