"""Printable documents for a registration: the ticket (one page with a big QR code)
and sheets of name badges for the organizers to print and cut.

Both are HTML templates (``templates/pdf/``) rendered with ``render_template`` (so
``_()`` and ``|localdt`` follow the current language) and turned into PDF by
WeasyPrint. Every QR code is an inline ``data:`` PNG that encodes the stable public
ticket URL ``BASE_URL/t/<ticket code>``; nothing is fetched while rendering.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence

from flask import current_app, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from eventhub.documents import qr_png, render_pdf
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.registration.models import (
    BADGE_LABELS,
    BADGE_ROLES,
    CONFIRMED,
    PARTICIPANT,
    STATUS_LABELS,
    Registration,
)

# A4 sheet: 2 columns × 4 rows of 90 × 55 mm badges (credit-card holders).
BADGE_COLUMNS, BADGE_ROWS = 2, 4
BADGES_PER_PAGE = BADGE_COLUMNS * BADGE_ROWS
# QR pixels per module. The image is scaled up in the PDF with `image-rendering:
# pixelated` (no smoothing), so a small image stays crisp and is fast to embed.
BADGE_QR_BOX = 4
TICKET_QR_BOX = 8


def ticket_link(ticket_code: str) -> str:
    """The absolute URL a ticket's QR code encodes (check-in scans it)."""
    return current_app.config["BASE_URL"].rstrip("/") + "/t/" + ticket_code


def qr_data_uri(text: str, box_size: int = BADGE_QR_BOX) -> str:
    """A QR code of ``text`` as an inline PNG for an ``<img src>``."""
    png = qr_png(text, box_size=box_size)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def name_size(name: str) -> str:
    """A CSS class that shrinks long names (and long single words, such as double
    surnames) so the whole name fits next to the QR code, in three lines at most."""
    longest = max((len(word) for word in re.split(r"[\s-]+", name)), default=0)
    for size, (max_length, max_word) in enumerate(((16, 11), (28, 14), (42, 18)), 1):
        if len(name) <= max_length and longest <= max_word:
            return f"n{size}"
    return "n4"


def ticket_pdf(reg: Registration) -> bytes:
    """One A6 page: event, time and place, who, status, and the QR code to scan."""
    link = ticket_link(reg.ticket_code)
    html = render_template(
        "pdf/ticket.html",
        reg=reg,
        event=reg.event,
        organization=reg.organization.name if reg.organization else "",
        status_label=STATUS_LABELS.get(reg.status, reg.status),
        valid=reg.status == CONFIRMED,
        qr_src=qr_data_uri(link, TICKET_QR_BOX),
    )
    return render_pdf(html)


def _badge(reg: Registration, with_qr: bool) -> dict:
    role = reg.badge_role if reg.badge_role in BADGE_ROLES else PARTICIPANT
    return {
        "name": reg.name,
        "size": name_size(reg.name),
        "organization": reg.organization.name if reg.organization else "",
        "role": role,
        "qr_src": qr_data_uri(ticket_link(reg.ticket_code)) if with_qr else None,
    }


def badges_pdf(event: Event, registrations: Iterable[Registration], *,
               with_qr: bool = True) -> bytes:
    """A4 sheets of name badges, eight to a page, in the order given."""
    badges = [_badge(reg, with_qr) for reg in registrations]
    sheets = [badges[i:i + BADGES_PER_PAGE] for i in range(0, len(badges), BADGES_PER_PAGE)]
    html = render_template(
        "pdf/badges.html",
        event=event,
        sheets=sheets,
        with_qr=with_qr,
        role_labels={role: str(label) for role, label in BADGE_LABELS.items()},
    )
    return render_pdf(html)


def badge_registrations(event: Event, statuses: Sequence[str] = (CONFIRMED,)
                        ) -> list[Registration]:
    """The registrations to print badges for, by name, organizations loaded at once."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id, Registration.status.in_(statuses))
            .options(selectinload(Registration.organization))
            .order_by(func.lower(Registration.name), Registration.id)
        )
    )
