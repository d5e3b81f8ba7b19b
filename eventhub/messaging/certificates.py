"""Certificates of attendance: a PDF per checked-in participant with a short
verification link and QR (``/c/<code>``) that shows that this name attended."""

from __future__ import annotations

import base64
import hashlib
import hmac

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select

from eventhub.documents import qr_png, render_pdf
from eventhub.errors import NotFound, ValidationError
from eventhub.extensions import db
from eventhub.messaging import texts
from eventhub.messaging.values import locale_of, values_for
from eventhub.programme.models import CANCELLED, SIGNED_UP, AgendaEntry, Session, Signup
from eventhub.registration.models import CONFIRMED, Registration

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _b36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = ALPHABET[r] + out
        if not n:
            return out


def _mac(reg_id: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"certificate:{reg_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode().lower()[:12]


def code_for(reg: Registration) -> str:
    """A short code that names one registration and cannot be guessed."""
    return f"{_b36(reg.id)}-{_mac(reg.id)}"


def registration_for_code(code: str) -> Registration:
    """The registration a code names, if the code is genuine and it has a certificate."""
    number, _sep, mac = (code or "").lower().partition("-")
    reg = None
    if number and len(number) <= 12 and all(c in ALPHABET for c in number):
        reg_id = int(number, 36)
        if hmac.compare_digest(mac, _mac(reg_id)):
            reg = db.session.get(Registration, reg_id)
    if reg is None or not has_certificate(reg):
        raise NotFound(_("Vi kender ikke dette deltagerbevis. Tjek, at hele koden er "
                         "skrevet rigtigt."))
    return reg


def has_certificate(reg: Registration) -> bool:
    """Only a confirmed participant who was checked in has one."""
    return reg.status == CONFIRMED and reg.checked_in_at is not None


def require_certificate(reg: Registration) -> None:
    if not has_certificate(reg):
        raise ValidationError(_("Der er intet deltagerbevis endnu: det får du, når du er "
                                "blevet checket ind på arrangementet."))


def verify_url(reg: Registration) -> str:
    return current_app.config["BASE_URL"] + url_for("messaging_public.verify",
                                                    code=code_for(reg))


def download_url(reg: Registration) -> str:
    return current_app.config["BASE_URL"] + url_for("messaging_public.certificate",
                                                    token=reg.manage_token)


def attended_sessions(reg: Registration) -> list[Session]:
    """The sessions the person chose (my day or a workshop seat), not cancelled ones."""
    mine = or_(Session.id.in_(select(AgendaEntry.session_id).where(
        AgendaEntry.registration_id == reg.id)),
        Session.id.in_(select(Signup.session_id).where(
            Signup.registration_id == reg.id, Signup.status == SIGNED_UP)))
    return list(db.session.scalars(select(Session).where(
        Session.event_id == reg.event_id, Session.status != CANCELLED, mine)
        .order_by(Session.starts_at)))


def certificate_pdf(reg: Registration) -> bytes:
    """The certificate as a PDF, in the event's language."""
    require_certificate(reg)
    event = reg.event
    locale = locale_of(event)
    sessions = attended_sessions(reg)
    heading, text, _html = texts.render_key(event, "certificate", locale, values_for(
        event, reg, locale, sessioner=", ".join(s.title for s in sessions)))
    link = verify_url(reg)
    qr = "data:image/png;base64," + base64.b64encode(qr_png(link)).decode()
    with force_locale(locale):
        html = render_template("pdf/certificate.html", reg=reg, event=event, heading=heading,
                               text=text, sessions=sessions, verify_url=link, qr=qr,
                               current_lang=locale)
    return render_pdf(html)
