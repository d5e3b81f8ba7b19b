"""Adoption check-ins: 3, 6 and 12 months after an event (the organizer may change the
months) each person with an open lead or a "want to know more" interest gets one mail
asking whether they took the solution into use, with a signed link that needs no
sign-in. The answer moves the lead; a reuse offers to record the organization's
experience.

Exactly once: a ``community_checkins`` row per (event, person, month) is inserted before
the mail is queued, in the same transaction, so a second scheduler's insert fails and
it queues nothing. The one reminder is claimed the same way (an UPDATE that only one
transaction can make). Mails are built by the outbox worker (``build_checkin``), which
leaves out anyone who unsubscribed, was purged or has answered since.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from eventhub.community.models import (
    ADAPTED,
    ANSWERS,
    BARRIERS,
    COPY,
    DEFAULT_MONTHS,
    INSPIRED,
    NO,
    NOT_RELEVANT,
    REUSED,
    TESTING,
    Checkin,
    CheckinAnswer,
    CheckinPlan,
)
from eventhub.db import utcnow
from eventhub.directory.models import (
    APPROVED,
    EXPERIENCE_STATUSES,
    LEARN,
    MAST_DOMAINS,
    Experience,
    Interest,
    Solution,
)
from eventhub.errors import Conflict, Forbidden, NotFound, ValidationError
from eventhub.events.models import ORGANIZER, Event
from eventhub.events.services import has_role
from eventhub.extensions import db
from eventhub.followup import services as followup
from eventhub.followup.models import (
    ADOPTED,
    ADOPTED_ADAPTATION,
    ADOPTED_COPY,
    ADOPTED_INSPIRATION,
    CLOSED_STAGES,
    DROPPED,
    FROM_INTEREST,
    MEETING,
    NEW,
    STAGE_RANK,
    Lead,
    LeadEntry,
)
from eventhub.followup.unsubscribe import is_unsubscribed, unsubscribe_url, unsubscribed_ids
from eventhub.mail import BuiltMail, queue_built_mail
from eventhub.privacy_registry import is_placeholder
from eventhub.registration.models import CONFIRMED, Registration

SALT = "community-checkin"
LINK_DAYS = 120          # a link works this long after its last mail
REMIND_AFTER = timedelta(days=14)
WINDOW = timedelta(days=30)  # a check-in not sent within this of its time is left out
MAX_MONTHS, MAX_TEXT = 36, 1000
STAGE_OF = {COPY: ADOPTED_COPY, ADAPTED: ADOPTED_ADAPTATION, INSPIRED: ADOPTED_INSPIRATION}
MAIL = "community-checkin"


def clock() -> datetime:
    """The time now; tests put a clock in ``app.extensions["eventhub.clock"]``."""
    fn = current_app.extensions.get("eventhub.clock")
    return fn() if fn else utcnow()


# --- the months ---------------------------------------------------------------------------

def months_of(event: Event) -> list[int]:
    plan = db.session.get(CheckinPlan, event.id)
    return plan.month_list if plan else list(DEFAULT_MONTHS)


def set_months(actor, event: Event, text: str) -> list[int]:
    """The months after the event when check-ins go out ("3, 6, 12"; empty: none)."""
    if not has_role(actor, event, ORGANIZER):
        raise Forbidden(_("Kun arrangører kan ændre, hvornår der spørges."))
    parts = [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]
    if not all(p.isdigit() and 1 <= int(p) <= MAX_MONTHS for p in parts) or len(parts) > 6:
        raise ValidationError(_("Skriv op til seks hele måneder mellem 1 og %(max)d, "
                                "adskilt af komma, fx 3, 6, 12.", max=MAX_MONTHS), "months")
    months = sorted({int(p) for p in parts})
    plan = db.session.get(CheckinPlan, event.id) or CheckinPlan(event_id=event.id)
    plan.months = ",".join(str(m) for m in months)
    db.session.add(plan)
    db.session.flush()
    return months


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later (the month's last day where it is shorter)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


# --- who is asked about what --------------------------------------------------------------

def _closed(event: Event) -> set[tuple[int, int]]:
    """(solution, organization) pairs whose lead has ended (adopted or dropped)."""
    return set(db.session.execute(select(Lead.solution_id, Lead.organization_id).where(
        Lead.scope == followup.scope_of(event), Lead.stage.in_(CLOSED_STAGES),
        Lead.organization_id.is_not(None))).all())


def people(event: Event) -> dict[int, tuple[Registration, list[int]]]:
    """Each person to ask, with the solutions: their "want to know more" interests and
    open leads at the event, less what their organization's lead has finished with."""
    wanted: dict[int, set[int]] = {}
    for rid, sid in db.session.execute(
            select(Interest.registration_id, Interest.solution_id)
            .join(Registration, Registration.id == Interest.registration_id)
            .join(Solution, Solution.id == Interest.solution_id)
            .where(Registration.event_id == event.id, Interest.kind == LEARN,
                   Solution.status == APPROVED)):
        wanted.setdefault(rid, set()).add(sid)
    closed_leads: set[tuple[int, int]] = set()
    for rid, sid, stage in db.session.execute(
            select(Lead.registration_id, Lead.solution_id, Lead.stage)
            .join(Registration, Registration.id == Lead.registration_id)
            .where(followup.in_event(event.id), Registration.event_id == event.id,
                   Lead.solution_id.is_not(None))):
        if stage in CLOSED_STAGES:
            closed_leads.add((rid, sid))
        else:
            wanted.setdefault(rid, set()).add(sid)
    if not wanted:
        return {}
    closed, out = _closed(event), unsubscribed_ids(event)
    found = {}
    # In id order: two schedulers then claim the same rows in the same order, so one
    # waits for the other instead of each holding a row the other needs (a deadlock).
    for reg in db.session.scalars(select(Registration).where(
            Registration.id.in_(wanted), Registration.status == CONFIRMED)
            .order_by(Registration.id)):
        if reg.id in out or is_placeholder(reg.email) or reg.email.endswith(".invalid"):
            continue
        sids = sorted(s for s in wanted[reg.id] if (s, reg.organization_id) not in closed
                      and (reg.id, s) not in closed_leads)
        if sids:
            found[reg.id] = (reg, sids)
    return found


# --- the scheduled job --------------------------------------------------------------------

def send_due(now: datetime) -> int:
    """Queue every check-in due at ``now`` and the reminders; returns how many mails."""
    sent = 0
    earliest = now - timedelta(days=31 * MAX_MONTHS) - WINDOW
    for event in db.session.scalars(select(Event).where(
            Event.ends_at <= now, Event.ends_at >= earliest).order_by(Event.id)):
        for month in months_of(event):
            due = add_months(event.ends_at, month)
            if due <= now < due + WINDOW:
                sent += _send(event, month, now)
    return sent + _remind(now)


def _send(event: Event, month: int, now: datetime) -> int:
    sent = 0
    for reg, sids in people(event).values():
        row = Checkin(event_id=event.id, registration_id=reg.id, month=month,
                      solution_ids=sids, sent_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(row)
                db.session.flush()
        except IntegrityError:
            continue  # sent before, or by another scheduler just now
        queue_built_mail(reg.email, MAIL, kind=MAIL, event_id=event.id, checkin_id=row.id,
                         reminder=False)
        sent += 1
    return sent


def _remind(now: datetime) -> int:
    answered = select(CheckinAnswer.checkin_id)
    rows = db.session.scalars(select(Checkin.id).where(
        Checkin.reminded_at.is_(None), Checkin.registration_id.is_not(None),
        Checkin.sent_at <= now - REMIND_AFTER,
        Checkin.sent_at > now - timedelta(days=LINK_DAYS) + REMIND_AFTER,
        Checkin.id.not_in(answered))).all()
    sent = 0
    for checkin_id in rows:
        claimed = db.session.execute(update(Checkin).where(
            Checkin.id == checkin_id, Checkin.reminded_at.is_(None))
            .values(reminded_at=now).execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            continue  # another scheduler reminded first
        checkin = db.session.get(Checkin, checkin_id)
        db.session.refresh(checkin)
        queue_built_mail(checkin.registration.email, MAIL, kind=MAIL,
                         event_id=checkin.event_id, checkin_id=checkin_id, reminder=True)
        sent += 1
    return sent


# --- the mail (built in one place, by the outbox worker) ----------------------------------

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def token_for(checkin: Checkin) -> str:
    return _serializer().dumps(checkin.id)


def link_for(checkin: Checkin) -> str:
    return current_app.config["BASE_URL"] + url_for("community_public.checkin",
                                                    token=token_for(checkin))


def open_solutions(checkin: Checkin) -> list[Solution]:
    """What the check-in still asks about: not answered, and the organization's lead has
    not ended since (staff may have recorded an adoption meanwhile)."""
    answered = {a.solution_id for a in checkin.answers}
    reg = checkin.registration
    closed = _closed(checkin.event)
    sids = [s for s in checkin.solution_ids if s not in answered
            and (reg is None or (s, reg.organization_id) not in closed)]
    if not sids:
        return []
    return list(db.session.scalars(select(Solution).where(Solution.id.in_(sids))
                                   .order_by(Solution.name)))


def build_checkin(checkin_id: int, reminder: bool = False) -> BuiltMail | None:
    """The check-in mail (None when there is nothing to ask any more)."""
    checkin = db.session.get(Checkin, checkin_id)
    reg = checkin.registration if checkin else None
    if reg is None or reg.status != CONFIRMED or is_placeholder(reg.email) \
            or is_unsubscribed(reg):
        return None
    solutions = open_solutions(checkin)
    if not solutions:
        return None
    return BuiltMail("community_checkin", dict(
        event=checkin.event, name=reg.name, solutions=solutions, month=checkin.month,
        reminder=reminder, link=link_for(checkin), unsubscribe_url=unsubscribe_url(reg)),
        unsubscribe_url=unsubscribe_url(reg))


# --- answering ----------------------------------------------------------------------------

def checkin_of(token: str) -> Checkin:
    """The check-in a link names: forged, expired or purged links are refused kindly."""
    try:
        checkin_id = _serializer().loads(token)
    except BadSignature:
        checkin_id = None
    checkin = db.session.get(Checkin, checkin_id) if isinstance(checkin_id, int) else None
    if checkin is None:
        raise NotFound(_("Linket er ikke gyldigt. Kopiér hele linket fra mailen."))
    reg = checkin.registration
    if reg is None or is_placeholder(reg.email):
        raise NotFound(_("Dine oplysninger fra arrangementet er slettet, så der kan ikke "
                         "længere svares her. Tak for din tid."))
    last = checkin.reminded_at or checkin.sent_at
    if clock() > last + timedelta(days=LINK_DAYS):
        raise Conflict(_("Linket er udløbet. Skriv til arrangøren, hvis du vil fortælle, "
                         "hvordan det gik."))
    return checkin


@dataclass
class AnswerData:
    solution_id: int | None
    answer: str
    barrier: str = ""
    text: str = ""


def answer(checkin: Checkin, data: AnswerData) -> CheckinAnswer:
    """Record the answer about one solution and move the organization's lead."""
    now = clock()
    if data.solution_id not in checkin.solution_ids:
        raise NotFound(_("Løsningen hører ikke til denne mail."))
    if data.answer not in ANSWERS:
        raise ValidationError(_("Vælg et af svarene."), "answer")
    text = (data.text or "").strip()
    barrier = data.barrier if data.answer == NO else ""
    if data.answer == NO and barrier not in BARRIERS:
        raise ValidationError(_("Vælg hvorfor ikke."), "barrier")
    if barrier == "other" and not text:
        raise ValidationError(_("Skriv kort hvorfor."), "text")
    if len(text) > MAX_TEXT:
        raise ValidationError(_("Højst %(max)d tegn.", max=MAX_TEXT), "text")
    before = db.session.scalar(select(CheckinAnswer).where(
        CheckinAnswer.checkin_id == checkin.id, CheckinAnswer.solution_id == data.solution_id))
    if before is not None:
        raise Conflict(_("Du har allerede svaret om denne løsning: \"%(answer)s\". Tak!",
                         answer=ANSWERS[before.answer]))
    reg, event = checkin.registration, checkin.event
    lead = _lead_for(event, reg, data.solution_id)
    row = CheckinAnswer(checkin_id=checkin.id, event_id=event.id,
                        solution_id=data.solution_id, organization_id=reg.organization_id,
                        lead_id=lead.id, answer=data.answer, barrier=barrier, text=text,
                        answered_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("Du har allerede svaret om denne løsning. Tak!")) from None
    _move_lead(event, lead, checkin, row, now)
    return row


def _lead_for(event: Event, reg: Registration, solution_id: int) -> Lead:
    lead = followup.lead_in_scope(event, solution_id, reg.organization_id) \
        or db.session.scalar(select(Lead).where(
            followup.in_event(event.id), Lead.registration_id == reg.id,
            Lead.solution_id == solution_id))
    if lead is None:
        lead = followup.new_lead(event, solution_id=solution_id, registration_id=reg.id,
                                 organization_id=reg.organization_id, source=FROM_INTEREST,
                                 stage=NEW)
        lead.entries.append(LeadEntry(to_stage=NEW, event_id=event.id, by_participant=True))
        db.session.add(lead)
        db.session.flush()
    return lead


def _move_lead(event: Event, lead: Lead, checkin: Checkin, row: CheckinAnswer,
               now: datetime) -> None:
    said = _("Svar på spørgsmålet %(months)d måneder efter: %(answer)s",
             months=checkin.month, answer=ANSWERS[row.answer])
    if row.barrier:
        said += f" ({BARRIERS[row.barrier]})"
    if row.text:
        said += f"\n{row.text}"
    if row.answer in STAGE_OF:
        stage, reason = STAGE_OF[row.answer], ""
    elif row.answer == TESTING:
        stage, reason = MEETING, ""
    else:
        stage = DROPPED
        reason = str(BARRIERS[row.barrier]) if row.answer == NO else str(ANSWERS[NOT_RELEVANT])
    keeps = lead.stage in ADOPTED or (row.answer == TESTING
                                      and STAGE_RANK[lead.stage] >= STAGE_RANK[MEETING])
    if keeps:  # never undo an adoption or go back from a later stage: note it only
        lead.entries.append(LeadEntry(text=said, event_id=event.id, by_participant=True,
                                      created_at=now))
        db.session.flush()
        return
    followup.report_by_participant(event, lead, stage, reason=reason[:300], note=said,
                                   when=now)


# --- the organization's experience --------------------------------------------------------

@dataclass
class ExperienceData:
    status: str
    since: date | None = None
    scale: str = ""
    effects: dict[str, str] | None = None


def experience_for(checkin: Checkin, solution_id: int) -> Experience | None:
    reg = checkin.registration
    if reg is None or reg.organization_id is None:
        return None
    return db.session.scalar(select(Experience).where(
        Experience.solution_id == solution_id, Experience.organization_id == reg.organization_id))


def may_record_experience(checkin: Checkin, solution_id: int) -> bool:
    reg = checkin.registration
    return reg is not None and reg.organization_id is not None and any(
        a.solution_id == solution_id and a.answer in (*REUSED, TESTING)
        for a in checkin.answers)


def save_experience(checkin: Checkin, solution_id: int, data: ExperienceData) -> Experience:
    """Create or update the organization's experience with the solution (offered after a
    reuse or a test was reported)."""
    if not may_record_experience(checkin, solution_id):
        raise Conflict(_("Erfaringen kan registreres, når du har svaret, at I bruger eller "
                         "afprøver løsningen, og du er tilmeldt fra en organisation."))
    if data.status not in EXPERIENCE_STATUSES:
        raise ValidationError(_("Vælg en af mulighederne på listen."), "status")
    if data.since and data.since > clock().date():
        raise ValidationError(_("Datoen kan ikke ligge i fremtiden."), "since")
    effects = {k: (v or "").strip() for k, v in (data.effects or {}).items() if k in MAST_DOMAINS}
    if len(data.scale or "") > 200 or any(len(v) > MAX_TEXT for v in effects.values()):
        raise ValidationError(_("Højst %(max)d tegn.", max=MAX_TEXT), "scale")
    reg = checkin.registration
    exp = experience_for(checkin, solution_id)
    if exp is None:
        exp = Experience(solution_id=solution_id, organization_id=reg.organization_id,
                         contact_registration_id=reg.id if reg.directory_consent else None)
        db.session.add(exp)
    exp.status, exp.since, exp.scale = data.status, data.since, (data.scale or "").strip()
    for key, value in effects.items():
        if value:
            setattr(exp, key, value)
    db.session.flush()
    return exp
