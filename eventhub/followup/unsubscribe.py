"""Unsubscribe links: a signed token per registration, a public page, and the set of
people left out of later follow-up mail."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from eventhub.errors import NotFound
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.followup.models import Unsubscribe
from eventhub.registration.models import Registration

SALT = "followup-unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def token_for(reg: Registration) -> str:
    """A token that names one registration; it does not expire (old mails keep working)."""
    return _serializer().dumps(reg.id)


def unsubscribe_url(reg: Registration) -> str:
    return current_app.config["BASE_URL"] + url_for("followup_public.unsubscribe",
                                                    token=token_for(reg))


def registration_of(token: str) -> Registration:
    try:
        reg_id = _serializer().loads(token)
    except BadSignature:
        reg_id = None
    reg = db.session.get(Registration, reg_id) if isinstance(reg_id, int) else None
    if reg is None:
        raise NotFound(_("Linket er ikke gyldigt. Kopiér hele linket fra mailen."))
    return reg


def is_unsubscribed(reg: Registration) -> bool:
    return db.session.scalar(select(Unsubscribe.id).where(
        Unsubscribe.registration_id == reg.id)) is not None


def unsubscribe(reg: Registration) -> None:
    """No more follow-up mail about this event to this person (twice is fine)."""
    if is_unsubscribed(reg):
        return
    try:
        with db.session.begin_nested():
            db.session.add(Unsubscribe(registration_id=reg.id))
            db.session.flush()
    except IntegrityError:
        pass  # two clicks at once: one row is enough


def unsubscribed_ids(event: Event) -> set[int]:
    return set(db.session.scalars(
        select(Unsubscribe.registration_id).join(
            Registration, Registration.id == Unsubscribe.registration_id)
        .where(Registration.event_id == event.id)))
