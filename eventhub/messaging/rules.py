"""Scheduled mails of an event (reminder, morning-of, thank-you): when each goes out,
to whom, and the scheduler's job that queues them.

Each rule reaches each person once: a row in ``mail_sends`` per (rule, registration),
inserted with "on conflict do nothing" in the same transaction as the outbox mail. Two
schedulers at once, or one restarted after a crash, find the rows already there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from eventhub import audit
from eventhub.db import utcnow
from eventhub.errors import ValidationError
from eventhub.events.models import ARCHIVED, DRAFT, ORGANIZER, Event
from eventhub.events.services import require_role
from eventhub.extensions import db
from eventhub.followup.mailing import survey_poll_ids, survey_url
from eventhub.followup.models import Unsubscribe
from eventhub.followup.unsubscribe import is_unsubscribed, unsubscribe_url
from eventhub.mail import QUEUED, BuiltMail, OutboxMail, batch_cache
from eventhub.messaging import certificates, texts
from eventhub.messaging.models import MORNING, REMINDER, RULE_KINDS, THANKS, MailRule, MailSend
from eventhub.messaging.values import locale_of, values_for
from eventhub.registration.badges import print_qr_png
from eventhub.registration.models import CONFIRMED, Registration
from eventhub.timeutil import LOCAL_TZ, to_local

DEFAULT_DAYS, MAX_DAYS = 2, 60
THANKS_AFTER = timedelta(hours=2)
THANKS_UNTIL = timedelta(days=14)  # a thank-you later than this is not sent at all
CHUNK = 200


def ensure_rules(event: Event) -> list[MailRule]:
    """The event's rules, the defaults made where missing (all on)."""
    have = {r.kind: r for r in db.session.scalars(
        select(MailRule).where(MailRule.event_id == event.id))}
    missing = [k for k in RULE_KINDS if k not in have]
    if missing:
        _insert_ignoring(MailRule, [dict(event_id=event.id, kind=k, enabled=True,
                                         days_before=DEFAULT_DAYS, created_at=utcnow())
                                    for k in missing], ["event_id", "kind"])
        have = {r.kind: r for r in db.session.scalars(
            select(MailRule).where(MailRule.event_id == event.id))}
    return [have[k] for k in RULE_KINDS]


def _insert_ignoring(model, rows: list[dict], keys: list[str], returning=None):
    """INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite); the inserted rows'
    ``returning`` column when asked."""
    if not rows:
        return []
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(model).values(rows).on_conflict_do_nothing(index_elements=keys)
    if returning is not None:
        return list(db.session.scalars(stmt.returning(returning)))
    db.session.execute(stmt)
    return []


def send_time(rule: MailRule, event: Event) -> datetime:
    """When the rule's mail goes out."""
    start = to_local(event.starts_at)
    if rule.kind == REMINDER:
        day = start.date() - timedelta(days=rule.days_before)
        return min(datetime.combine(day, time(9, 0), LOCAL_TZ), event.starts_at)
    if rule.kind == MORNING:
        morning = datetime.combine(start.date(), time(7, 0), LOCAL_TZ)
        return min(morning, event.starts_at - timedelta(hours=1))
    return event.ends_at + THANKS_AFTER


def too_late(rule: MailRule, event: Event) -> datetime:
    """After this, the rule sends nothing more (a reminder after the start is no use)."""
    if rule.kind == REMINDER:
        return event.starts_at
    if rule.kind == MORNING:
        return event.ends_at
    return event.ends_at + THANKS_UNTIL


def _audience_stmt(event: Event):
    return (select(Registration.id).where(
        Registration.event_id == event.id, Registration.status == CONFIRMED,
        ~Registration.email.endswith(".invalid"),
        ~Registration.id.in_(select(Unsubscribe.registration_id))))


def audience_count(event: Event) -> int:
    """How many people a rule's mail reaches (confirmed, not unsubscribed)."""
    return db.session.scalar(select(func.count()).select_from(
        _audience_stmt(event).subquery())) or 0


def sent_count(rule: MailRule) -> int:
    return db.session.scalar(select(func.count(MailSend.id)).where(
        MailSend.rule_id == rule.id)) or 0


@dataclass
class RuleView:
    rule: MailRule
    at: datetime
    audience: int
    sent: int
    passed: bool


def overview(actor, event: Event) -> list[RuleView]:
    """The rules with when they go out, to how many, and how many got them."""
    require_role(actor, event, ORGANIZER)
    now, count = utcnow(), audience_count(event)
    return [RuleView(r, send_time(r, event), count, sent_count(r), too_late(r, event) <= now)
            for r in ensure_rules(event)]


def update_rule(actor, event: Event, kind: str, enabled: bool, days_before: int | None
                ) -> MailRule:
    """Turn a rule on or off; the reminder's number of days before the start."""
    require_role(actor, event, ORGANIZER)
    rule = next((r for r in ensure_rules(event) if r.kind == kind), None)
    if rule is None:
        raise ValidationError(_("Vælg en af mulighederne på listen."), "kind")
    if kind == REMINDER:
        if days_before is None or not 1 <= days_before <= MAX_DAYS:
            raise ValidationError(_("Påmindelsen skal sendes mellem 1 og %(max)d dage før "
                                    "arrangementet starter, ikke efter.", max=MAX_DAYS),
                                  "days_before")
        rule.days_before = days_before
    rule.enabled = enabled
    db.session.flush()
    audit.record(actor, event, "messaging.rule", f"{kind}: {'on' if enabled else 'off'}")
    return rule


def queue_due(now: datetime) -> int:
    """The scheduler's job: queue every rule's mail that is due, once per person."""
    queued = 0
    events = list(db.session.scalars(select(Event).where(
        Event.status.notin_((DRAFT, ARCHIVED)),
        Event.starts_at <= now + timedelta(days=MAX_DAYS + 1),
        Event.ends_at >= now - THANKS_UNTIL)))
    for event in events:
        for rule in ensure_rules(event):
            if rule.enabled and send_time(rule, event) <= now < too_late(rule, event):
                queued += _queue_rule(rule, event)
        db.session.commit()
    return queued


def _queue_rule(rule: MailRule, event: Event) -> int:
    """Queue the rule's mail for everyone who has not had it, a chunk per commit."""
    locale, queued = locale_of(event), 0
    while True:
        todo = list(db.session.scalars(
            _audience_stmt(event).where(~Registration.id.in_(
                select(MailSend.registration_id).where(MailSend.rule_id == rule.id)))
            .order_by(Registration.id).limit(current_app.config.get("MAIL_RULE_CHUNK", CHUNK))))
        if not todo:
            return queued
        now = utcnow()
        mine = _insert_ignoring(MailSend, [dict(rule_id=rule.id, registration_id=rid,
                                                created_at=now) for rid in todo],
                                ["rule_id", "registration_id"], MailSend.registration_id)
        emails = dict(db.session.execute(select(Registration.id, Registration.email).where(
            Registration.id.in_(mine))).all())
        if mine:  # one multi-row INSERT, not a unit of work per mail
            db.session.execute(insert(OutboxMail), [dict(
                to_addr=emails[rid], subject="", body_text="", kind=rule.kind,
                builder="messaging-rule", builder_args={"rule_id": rule.id,
                                                        "registration_id": rid},
                attachments=[], locale=locale, event_id=event.id, status=QUEUED,
                attempts=0, next_attempt_at=now, created_at=now) for rid in mine])
        db.session.commit()  # this chunk is queued and marked sent together, or neither
        queued += len(mine)


def prepare_rule_mails(args: list[dict]) -> None:
    """A batch's recipients in one query, and who of them unsubscribed in another."""
    ids = [a["registration_id"] for a in args]
    cache = batch_cache()
    cache["rule_regs"] = {r.id: r for r in db.session.scalars(
        select(Registration).where(Registration.id.in_(ids))
        .options(selectinload(Registration.organization)))}
    cache["unsubscribed"] = set(db.session.scalars(select(Unsubscribe.registration_id).where(
        Unsubscribe.registration_id.in_(ids))))


def build_rule_mail(rule_id: int, registration_id: int) -> BuiltMail | None:
    """The reminder, morning-of or thank-you mail for one person, built when sent."""
    cache = batch_cache()
    rules = cache.setdefault("rules", {})  # held here, or the identity map forgets it
    rule = rules.get(rule_id) or rules.setdefault(rule_id, db.session.get(MailRule, rule_id))
    reg = cache.get("rule_regs", {}).get(registration_id) or \
        db.session.get(Registration, registration_id)
    if rule is None or reg is None or reg.status != CONFIRMED:
        return None
    gone = registration_id in cache["unsubscribed"] if "unsubscribed" in cache \
        else is_unsubscribed(reg)
    return None if gone else rule_mail(rule, reg)


def rule_mail(rule: MailRule, reg: Registration) -> BuiltMail:
    """The mail itself (also the organizer's preview)."""
    event = rule.event
    locale = locale_of(event)
    extra, attachments = {}, []
    values = values_for(event, reg, locale)
    if rule.kind in (REMINDER, MORNING):
        # the fast encoder of the badges (a fraction of a millisecond per code)
        attachments.append(("billet-qr.png", "image/png",
                            print_qr_png(values["billet"], box_size=5,
                                         compress_level=1)))
    if rule.kind == THANKS:
        extra["evaluering"] = _survey_url(event)
        extra["bevis"] = ""
        if certificates.has_certificate(reg):
            extra["bevis"] = certificates.download_url(reg)
            attachments.append(("deltagerbevis.pdf", "application/pdf",
                                certificates.certificate_pdf(reg)))
    unsubscribe = unsubscribe_url(reg)
    footer = _footer(locale, unsubscribe)
    rendered = texts.render_key(event, rule.kind, locale, {**values, **extra}, footer)
    return BuiltMail("", {"event": event}, attachments, rendered=rendered,
                     unsubscribe_url=unsubscribe)


def _footer(locale: str, unsubscribe: str) -> str:
    if locale == "en":
        return ("--\nYou receive this mail because you registered for the event. "
                "No more mails like it:\n" + unsubscribe)
    return ("--\nDu får denne mail, fordi du er tilmeldt arrangementet. Ingen flere af "
            "den slags mails:\n" + unsubscribe)


def _survey_url(event: Event) -> str:
    return survey_url(event) if survey_poll_ids(event) else ""
