"""Audit log of staff actions: who did what to which event, and when.

A row holds the actor's user id, the event, an action code and a short label of the
target ("#12", "CSV, 40") — never a participant's name or email, so the log itself holds
no personal data beyond who on the staff acted. Services call ``record`` (it only adds to
the session; the request commits it with everything else).

The stored target may carry codes (a role, a stage, a segment); people read it through
``describe``: each domain adds, in its ``init_app``, the label of its actions and a
function that turns its targets into words of the reader's language (``add_action``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from eventhub import contributions
from eventhub.db import UTCDateTime, utcnow
from eventhub.extensions import db

ACTIONS = {
    "event.create": _l("Arrangement oprettet"),
    "event.edit": _l("Arrangement ændret"),
    "staff.invite": _l("Rolle givet"),
    "staff.remove": _l("Rolle fjernet"),
    "registration.add": _l("Tilmelding oprettet af arrangør"),
    "registration.edit": _l("Tilmelding ændret af arrangør"),
    "registration.approve": _l("Tilmelding godkendt"),
    "registration.cancel": _l("Tilmelding afmeldt af arrangør"),
    "registration.resend": _l("Bekræftelse sendt igen"),
    "registration.checkin": _l("Checket ind"),
    "registration.checkin_undo": _l("Check-in fortrudt"),
    "registrations.export": _l("Tilmeldinger eksporteret"),
    "registrations.import": _l("Tilmeldinger importeret"),
    "badges.print": _l("Navneskilte hentet"),
    "questions.edit": _l("Tilmeldingsspørgsmål ændret"),
    "programme.edit": _l("Programpunkt ændret"),
    "programme.import": _l("Program importeret"),
    "polls.export": _l("Afstemninger eksporteret"),
    "privacy.purge": _l("Persondata anonymiseret efter slettefristen"),
    "api.write": _l("Ændret gennem API'et"),
    "api.token_create": _l("API-nøgle oprettet"),
    "api.token_revoke": _l("API-nøgle trukket tilbage"),
    "webhook.create": _l("Webhook-modtager oprettet"),
    "webhook.edit": _l("Webhook-modtager ændret"),
    "webhook.delete": _l("Webhook-modtager slettet"),
}
PAGE_SIZE = 50
MAX_TARGET = 200


class AuditEntry(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_event_created", "event_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(MAX_TARGET), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def action_label(self) -> str:
        kind = _kinds().get(self.action)
        if kind is not None:
            return str(kind.label)
        return str(ACTIONS.get(self.action, _l("Anden handling")))

    @property
    def target_text(self) -> str:
        """The target in words: the action's describer, else the stored label."""
        kind = _kinds().get(self.action)
        if kind is not None and kind.describe is not None:
            try:
                return kind.describe(self.target or "")
            except (ValueError, KeyError, IndexError):
                pass  # an older or odd target: shown as stored
        return self.target or ""


@dataclass
class ActionKind:
    """How the log names one action and words its target."""

    label: Any
    describe: Callable[[str], str] | None = None


_KINDS = "audit.kinds"


def add_action(app: Flask, action: str, label: Any,
               describe: Callable[[str], str] | None = None) -> None:
    """Name an action in this app's log; ``describe(target)`` words its stored target."""
    contributions.add(app, _KINDS, (action, ActionKind(label, describe)))


def _kinds() -> dict[str, ActionKind]:
    return dict(contributions.of(_KINDS))


def record(actor: Any, event: Any, action: str, target: str = "") -> AuditEntry:
    """Log one staff action on an event (``target`` is a short label, no personal data)."""
    entry = AuditEntry(
        event_id=getattr(event, "id", event), actor_id=getattr(actor, "id", None),
        action=action, target=(target or "")[:MAX_TARGET])
    db.session.add(entry)
    return entry


def registration_label(reg: Any) -> str:
    """How the log names a registration: by number, never by name."""
    return f"#{reg.id}"


@dataclass
class LogPage:
    entries: list[tuple[AuditEntry, str]]  # (entry, actor's display name)
    page: int
    pages: int
    total: int


def entries_for(event: Any, page: int = 1, per_page: int = PAGE_SIZE) -> LogPage:
    """One page of the event's log, newest first, with the actors' names."""
    from eventhub.accounts.models import User

    total = db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.event_id == event.id))
    pages = max((total + per_page - 1) // per_page, 1)
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        select(AuditEntry, User.name, User.email)
        .outerjoin(User, AuditEntry.actor_id == User.id)
        .where(AuditEntry.event_id == event.id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    entries = [(entry, name or (email or "").split("@", 1)[0] or "–")
               for entry, name, email in rows]
    return LogPage(entries, page, pages, total)
