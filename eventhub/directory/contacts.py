"""Contact requests: a message relayed through the outbox; addresses travel only on accept."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from eventhub.db import utcnow
from eventhub.directory.models import ACCEPTED, DECLINED, PENDING, ContactRequest, Solution
from eventhub.directory.services import is_listed
from eventhub.errors import Conflict, NotFound, ValidationError
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.mail import BuiltMail, queue_built_mail
from eventhub.registration.models import CANCELLED, Registration

MAX_MESSAGE = 1000
MAX_PENDING_PER_SENDER = 30  # besides the rate limit: nobody mass-mails the directory


def send_request(sender: Registration, recipient: Registration, message: str,
                 solution: Solution | None = None) -> ContactRequest:
    """Ask a listed participant of the same event for contact; they get a mail."""
    event = sender.event
    if sender.status == CANCELLED:
        raise ValidationError(_("Din tilmelding er annulleret."), "message")
    if recipient.id == sender.id:
        raise ValidationError(_("Du kan ikke sende en kontaktanmodning til dig selv."),
                              "message")
    if not is_listed(recipient, event):
        raise NotFound(_("Personen findes ikke i netværket."))
    message = (message or "").strip()
    if not message:
        raise ValidationError(_("Skriv en kort besked, så modtageren ved, hvorfor du "
                                "skriver."), "message")
    if len(message) > MAX_MESSAGE:
        raise ValidationError(_("Højst %(max)d tegn.", max=MAX_MESSAGE), "message")
    existing = db.session.scalar(select(ContactRequest).where(or_(
        (ContactRequest.sender_id == sender.id) & (ContactRequest.recipient_id == recipient.id),
        (ContactRequest.sender_id == recipient.id) & (ContactRequest.recipient_id == sender.id))))
    if existing is not None:
        raise Conflict(_("I har allerede en kontaktanmodning mellem jer. Se den under "
                         "Mine kontakter."), "message")
    pending = db.session.scalar(select(db.func.count()).select_from(ContactRequest).where(
        ContactRequest.sender_id == sender.id, ContactRequest.status == PENDING))
    if pending >= MAX_PENDING_PER_SENDER:
        raise ValidationError(_("Du har mange ubesvarede anmodninger. Vent på svar, før du "
                                "sender flere."), "message")
    request = ContactRequest(event_id=event.id, sender_id=sender.id, recipient_id=recipient.id,
                             message=message, solution_id=solution.id if solution else None)
    db.session.add(request)
    db.session.flush()
    queue_built_mail(recipient.email, "contact-request", kind="contact", event_id=event.id,
                     request_id=request.id)
    return request


def by_token(token: str) -> ContactRequest:
    request = db.session.scalar(select(ContactRequest).where(ContactRequest.token == token))
    if request is None or not token:
        raise NotFound(_("Kontaktanmodningen findes ikke."))
    return request


def answer(request: ContactRequest, accept: bool) -> bool:
    """The recipient accepts (both get the other's address by mail) or declines.

    Only a pending request changes (a conditional UPDATE, so a double click sends one
    mail). Returns whether this call changed it.
    """
    status = ACCEPTED if accept else DECLINED
    changed = db.session.execute(
        update(ContactRequest).where(ContactRequest.id == request.id,
                                     ContactRequest.status == PENDING)
        .values(status=status, answered_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(request)
    if changed and accept:
        for who, other in ((request.sender, request.recipient),
                           (request.recipient, request.sender)):
            queue_built_mail(who.email, "contact-accepted", kind="contact",
                             event_id=request.event_id, request_id=request.id,
                             to_registration_id=who.id, other_registration_id=other.id)
    return bool(changed)


def requests_of(reg: Registration) -> tuple[list[ContactRequest], list[ContactRequest]]:
    """(received, sent), newest first."""
    def q(column):
        return list(db.session.scalars(select(ContactRequest).where(column == reg.id)
                                       .order_by(ContactRequest.created_at.desc())))
    return q(ContactRequest.recipient_id), q(ContactRequest.sender_id)


def shared_email(request: ContactRequest, viewer: Registration) -> str | None:
    """The other person's address, only once the request is accepted."""
    if request.status != ACCEPTED or viewer.id not in (request.sender_id, request.recipient_id):
        return None
    other = request.recipient if viewer.id == request.sender_id else request.sender
    return other.email


def _answer_url(request: ContactRequest) -> str:
    return current_app.config["BASE_URL"] + url_for(
        "directory.contact_answer", slug=request.event.slug, token=request.token)


def build_request(request_id: int) -> BuiltMail | None:
    request = db.session.get(ContactRequest, request_id)
    if request is None or request.status != PENDING:
        return None
    return BuiltMail("contact_request", dict(request=request, event=request.event,
                                             answer_url=_answer_url(request)))


def build_accepted(request_id: int, to_registration_id: int,
                   other_registration_id: int) -> BuiltMail | None:
    request = db.session.get(ContactRequest, request_id)
    other = db.session.get(Registration, other_registration_id)
    if request is None or other is None or request.status != ACCEPTED:
        return None
    event: Event = request.event
    return BuiltMail("contact_accepted", dict(request=request, event=event, other=other))
