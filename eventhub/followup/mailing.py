"""Follow-up mail to a segment of the participants, with placeholders and a preview,
through the outbox; and the post-event survey (polls opened after the event)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from eventhub import audit
from eventhub.accounts.models import User
from eventhub.db import utcnow
from eventhub.directory.models import Interest, Solution
from eventhub.errors import ValidationError
from eventhub.events.models import (
    ORGANIZATION_KIND_LABELS,
    ORGANIZATION_KINDS,
    Event,
    Organization,
)
from eventhub.extensions import db
from eventhub.followup.models import Mailing, SurveyPoll
from eventhub.followup.services import require_staff
from eventhub.followup.unsubscribe import is_unsubscribed, unsubscribe_url, unsubscribed_ids
from eventhub.mail import BuiltMail, queue_built_mail
from eventhub.polls.models import CLOSED, OPEN, Poll
from eventhub.programme.models import SIGNED_UP, Signup
from eventhub.registration.models import (
    CANCELLED,
    CONFIRMED,
    PENDING,
    WAITLISTED,
    Registration,
)

ALL, INTERESTED, NOT_CHECKED_IN, ORG_KIND = "all", "interested", "not_checked_in", "org_kind"
BY_STATUS, SESSION, CHECKED_IN, SELECTED = "by_status", "in_session", "checked_in", "hand_picked"
SEGMENTS = {
    ALL: _l("Alle deltagere"),
    INTERESTED: _l("Alle, der har vist interesse for en løsning"),
    NOT_CHECKED_IN: _l("Alle, der ikke blev checket ind"),
    ORG_KIND: _l("Alle deltagere fra en type organisation"),
    CHECKED_IN: _l("Alle, der blev checket ind"),
    BY_STATUS: _l("Alle bekræftede, alle på venteliste eller alle, der venter på godkendelse"),
    SESSION: _l("Alle tilmeldt et programpunkt"),
    SELECTED: _l("Udvalgte fra deltagerlisten"),
}
STATUS_CHOICES = (CONFIRMED, WAITLISTED, PENDING)
# What a mailing is: the community manager's follow-up, or an organizer's message.
FOLLOWUP, MESSAGE = "followup", "message"
ORG_KIND_LABELS = ORGANIZATION_KIND_LABELS  # one table of labels for the kinds
# Placeholders in subject and text: {{ name }} → what it becomes for one person, written
# as in the event's own mail texts (the older {name} is read as well).
PLACEHOLDERS = {
    "navn": _l("deltagerens navn"),
    "organisation": _l("deltagerens organisation"),
    "arrangement": _l("arrangementets titel"),
    "evaluering": _l("link til evalueringen (afstemningerne efter arrangementet)"),
    "netvaerk": _l("link til netværket"),
}
PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}\s]{1,30})\s*\}\}|\{([^{}\s]{1,30})\}")


def placeholders_in(text: str) -> set[str]:
    """The names of the placeholders in ``text``."""
    return {a or b for a, b in PLACEHOLDER_RE.findall(text)}


def shown_placeholder(name: str) -> str:
    return "{{ " + name + " }}"
MAX_SUBJECT, MAX_BODY = 200, 10000


@dataclass
class MailData:
    segment: str
    subject: str
    body: str
    solution_id: int | None = None
    org_kind: str = ""
    status: str = ""
    session_id: int | None = None
    registration_ids: list[int] = field(default_factory=list)
    kind: str = FOLLOWUP

    def segment_value(self) -> str:
        """What narrows the segment, as the mailing keeps it."""
        return {INTERESTED: str(self.solution_id or ""), ORG_KIND: self.org_kind,
                BY_STATUS: self.status, SESSION: str(self.session_id or ""),
                SELECTED: ",".join(map(str, self.registration_ids))}.get(self.segment, "")


def _check_segment(data: MailData) -> None:
    if data.segment not in SEGMENTS:
        raise ValidationError(_("Vælg en af mulighederne på listen."), "segment")
    if data.segment == INTERESTED and not data.solution_id:
        raise ValidationError(_("Vælg løsningen."), "solution")
    if data.segment == ORG_KIND and data.org_kind not in ORGANIZATION_KINDS:
        raise ValidationError(_("Vælg typen af organisation."), "org_kind")
    if data.segment == BY_STATUS and data.status not in STATUS_CHOICES:
        raise ValidationError(_("Vælg en status."), "status")
    if data.segment == SESSION and not data.session_id:
        raise ValidationError(_("Vælg programpunktet."), "session")
    if data.segment == SELECTED and not data.registration_ids:
        raise ValidationError(_("Vælg mindst én person på listen."), "registrations")
    _check_narrowing(data)


def _check_narrowing(data: MailData) -> None:
    """A narrowing chosen while "Modtagere" says something else would be ignored, and the
    mail would go to more people than the organizer meant: say so instead."""
    for segment, field_name, value in ((ORG_KIND, "org_kind", data.org_kind),
                                       (BY_STATUS, "status", data.status),
                                       (SESSION, "session", data.session_id),
                                       (SELECTED, "registrations", data.registration_ids)):
        if value and data.segment != segment:
            raise ValidationError(_(
                "Dette valg gælder kun modtagerne \"%(segment)s\". Vælg dem under "
                "Modtagere, eller fjern valget.", segment=SEGMENTS[segment]), field_name)


def _check(data: MailData) -> tuple[str, str]:
    _check_segment(data)
    subject, body = " ".join((data.subject or "").split()), (data.body or "").strip()
    if not subject:
        raise ValidationError(_("Skriv et emne."), "subject")
    if not body:
        raise ValidationError(_("Skriv selve mailen."), "body")
    if len(subject) > MAX_SUBJECT:
        raise ValidationError(_("Højst %(max)d tegn.", max=MAX_SUBJECT), "subject")
    if len(body) > MAX_BODY:
        raise ValidationError(_("Højst %(max)d tegn.", max=MAX_BODY), "body")
    for where, text in (("subject", subject), ("body", body)):
        unknown = sorted(placeholders_in(text) - set(PLACEHOLDERS))
        if unknown:
            raise ValidationError(_("Ukendt felt: %(names)s. Brug kun %(known)s.",
                                    names=", ".join(map(shown_placeholder, unknown)),
                                    known=", ".join(map(shown_placeholder, PLACEHOLDERS))),
                                  where)
    return subject, body


def recipients(event: Event, segment: str, solution_id: int | None = None,
               org_kind: str = "", data: MailData | None = None) -> list[Registration]:
    """Participants in the segment (confirmed, unless the segment names a status),
    without those who unsubscribed."""
    status = data.status if data is not None and segment == BY_STATUS else CONFIRMED
    stmt = select(Registration).where(Registration.event_id == event.id,
                                      Registration.status == status)
    if segment == SESSION and data is not None:
        stmt = stmt.where(Registration.id.in_(select(Signup.registration_id).where(
            Signup.session_id == data.session_id, Signup.status == SIGNED_UP)))
    elif segment == SELECTED and data is not None:
        stmt = stmt.where(Registration.id.in_(data.registration_ids))
    elif segment == CHECKED_IN:
        stmt = stmt.where(Registration.checked_in_at.is_not(None))
    elif segment == INTERESTED:
        stmt = stmt.where(Registration.id.in_(select(Interest.registration_id).where(
            Interest.solution_id == solution_id)))
    elif segment == NOT_CHECKED_IN:
        stmt = stmt.where(Registration.checked_in_at.is_(None))
    elif segment == ORG_KIND:
        stmt = stmt.join(Organization, Organization.id == Registration.organization_id) \
            .where(Organization.kind == org_kind)
    out = unsubscribed_ids(event)
    return [r for r in db.session.scalars(stmt.order_by(Registration.name, Registration.id))
            if r.id not in out and not r.email.endswith(".invalid")]


def survey_url(event: Event) -> str:
    return current_app.config["BASE_URL"] + url_for("polls.join", code=event.join_code)


def fill(text: str, event: Event, reg: Registration) -> str:
    """Put one person's values into the placeholders."""
    values = {
        "navn": reg.name,
        "organisation": reg.organization.name if reg.organization else "",
        "arrangement": event.title,
        "evaluering": survey_url(event),
        "netvaerk": current_app.config["BASE_URL"] + url_for("directory.index",
                                                             slug=event.slug),
    }
    return PLACEHOLDER_RE.sub(
        lambda m: values.get(m.group(1) or m.group(2), m.group(0)), text)


@dataclass
class Preview:
    count: int
    subject: str
    body: str
    sample: Registration | None


def preview(actor, event: Event, data: MailData) -> Preview:
    """How many get it, and the mail as the first of them will read it."""
    require_staff(actor, event)
    subject, body = _check(data)
    people = recipients(event, data.segment, data.solution_id, data.org_kind, data)
    if not people:
        return Preview(0, subject, body, None)
    return Preview(len(people), fill(subject, event, people[0]), fill(body, event, people[0]),
                   people[0])


def send(actor, event: Event, data: MailData) -> Mailing:
    """Queue one mail per person in the segment; an empty segment sends nothing."""
    require_staff(actor, event)
    subject, body = _check(data)
    if data.segment == INTERESTED and db.session.get(Solution, data.solution_id) is None:
        raise ValidationError(_("Vælg løsningen."), "solution")
    people = recipients(event, data.segment, data.solution_id, data.org_kind, data)
    if not people:
        raise ValidationError(_("Ingen i segmentet kan få mailen (eller alle har frabedt sig "
                                "mails), så intet er sendt."), "segment")
    value = data.segment_value()[:2000]
    mailing = Mailing(event_id=event.id, segment=data.segment, segment_value=value,
                      subject=subject, body=body, recipients=len(people),
                      sent_by_id=getattr(actor, "id", None), kind=data.kind)
    db.session.add(mailing)
    db.session.flush()
    for reg in people:
        queue_built_mail(reg.email, "followup-mail", kind=data.kind, event_id=event.id,
                         mailing_id=mailing.id, registration_id=reg.id)
    if "evaluering" in placeholders_in(subject + body) and event.ends_at <= utcnow():
        open_survey(actor, event, quiet=True)
    audit.record(actor, event, f"{data.kind}.mail" if data.kind == FOLLOWUP else "messaging.mail",
                 f"{data.segment} {value[:40]}: {len(people)}".strip())
    db.session.flush()
    return mailing


def mailings(actor, event: Event, kind: str = FOLLOWUP) -> list[Mailing]:
    require_staff(actor, event)
    return list(db.session.scalars(select(Mailing).where(
        Mailing.event_id == event.id, Mailing.kind == kind)
        .order_by(Mailing.sent_at.desc(), Mailing.id.desc())))


def build_followup(mailing_id: int, registration_id: int) -> BuiltMail | None:
    """One person's follow-up mail or message: from the event's name, replies to whoever
    sent a follow-up (the event's contact for a message), with a one-click unsubscribe."""
    mailing = db.session.get(Mailing, mailing_id)
    reg = db.session.get(Registration, registration_id)
    if mailing is None or reg is None or reg.status == CANCELLED or is_unsubscribed(reg):
        return None  # unsubscribed or cancelled since it was queued
    event = mailing.event
    sender = db.session.get(User, mailing.sent_by_id) if mailing.sent_by_id else None
    link = unsubscribe_url(reg)
    return BuiltMail("followup_mail", dict(
        event=event, reg=reg, kind=mailing.kind, subject=fill(mailing.subject, event, reg),
        body=fill(mailing.body, event, reg), unsubscribe_url=link),
        reply_to=sender.email if sender is not None and mailing.kind == FOLLOWUP else None,
        unsubscribe_url=link)


# --- the post-event survey ----------------------------------------------------------------

def survey_poll_ids(event: Event) -> set[int]:
    return set(db.session.scalars(select(SurveyPoll.poll_id).where(
        SurveyPoll.event_id == event.id)))


def set_survey(actor, event: Event, poll_ids: list[int]) -> None:
    """Which of the event's polls make up the post-event survey."""
    require_staff(actor, event)
    mine = set(db.session.scalars(select(Poll.id).where(Poll.event_id == event.id)))
    wanted = set(poll_ids)
    if not wanted <= mine:
        raise ValidationError(_("Vælg en af mulighederne på listen."), "polls")
    have = survey_poll_ids(event)
    for row in db.session.scalars(select(SurveyPoll).where(SurveyPoll.event_id == event.id)):
        if row.poll_id not in wanted:
            db.session.delete(row)
    db.session.add_all(SurveyPoll(event_id=event.id, poll_id=pid) for pid in wanted - have)
    db.session.flush()


def open_survey(actor, event: Event, *, quiet: bool = False) -> list[int]:
    """Open the survey's polls; only once the event is over. Returns the opened poll ids."""
    require_staff(actor, event)
    if event.ends_at > utcnow():
        if quiet:
            return []
        raise ValidationError(_("Evalueringen kan først åbnes, når arrangementet er slut."))
    ids = survey_poll_ids(event)
    if not ids and not quiet:
        raise ValidationError(_("Vælg først de afstemninger, der hører til evalueringen."))
    opened = []
    for poll in db.session.scalars(select(Poll).where(Poll.id.in_(ids))):
        if poll.status != OPEN:
            # Same change as the organizers' "open" (polls.services.set_status), allowed
            # here for the community manager and only for the survey's own polls.
            poll.status, poll.opened_at = OPEN, poll.opened_at or utcnow()
            poll.closed_at = None
            opened.append(poll.id)
    if opened:
        audit.record(actor, event, "followup.survey", f"{len(opened)}")
    db.session.flush()
    return opened


def close_survey(actor, event: Event) -> list[int]:
    require_staff(actor, event)
    closed = []
    for poll in db.session.scalars(select(Poll).where(Poll.id.in_(survey_poll_ids(event)),
                                                     Poll.status == OPEN)):
        poll.status, poll.closed_at = CLOSED, utcnow()
        closed.append(poll.id)
    db.session.flush()
    return closed
