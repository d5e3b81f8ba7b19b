"""The community manager's dashboard: figures, the interest matrix, suggested
introductions and the one-click introduction (a mail to both, consenting people only)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select, union_all
from sqlalchemy.exc import IntegrityError

from eventhub import audit
from eventhub.directory.models import (
    ACCEPTED,
    APPROVED,
    EXPERIENCE_STATUSES,
    LEARN,
    RUNNING,
    USE,
    ContactRequest,
    Experience,
    Interest,
    Solution,
)
from eventhub.directory.services import is_listed, presented_solution_ids
from eventhub.errors import Conflict, ValidationError
from eventhub.events.models import Event, Organization
from eventhub.extensions import db
from eventhub.followup.models import (
    CONTACTED,
    FROM_INTRODUCTION,
    NEW,
    Introduction,
    Lead,
    LeadEntry,
)
from eventhub.followup.services import (
    LeadData,
    carry_on,
    create_lead,
    in_event,
    lead_in_scope,
    move,
    require_staff,
)
from eventhub.followup.unsubscribe import unsubscribe_url, unsubscribed_ids
from eventhub.mail import BuiltMail, queue_built_mail
from eventhub.polls.models import Poll, QAQuestion, Vote
from eventhub.registration.models import CANCELLED, CONFIRMED, Registration

MAX_SUGGESTIONS = 40


# --- figures ------------------------------------------------------------------------------

def figures(event: Event) -> dict[str, int]:
    """The dashboard's key figures (one query each)."""
    regs = select(Registration.id).where(Registration.event_id == event.id,
                                         Registration.status != CANCELLED)

    def count(stmt) -> int:
        return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0

    polls = select(Poll.id).where(Poll.event_id == event.id)
    voters = union_all(
        select(Vote.voter_key.label("k")).where(Vote.poll_id.in_(polls)),
        select(QAQuestion.voter_key.label("k")).where(QAQuestion.poll_id.in_(polls))).subquery()
    requests = select(ContactRequest.status).where(ContactRequest.event_id == event.id)
    return {
        "registered": count(select(Registration.id).where(
            Registration.event_id == event.id, Registration.status == CONFIRMED)),
        "checked_in": count(regs.where(Registration.checked_in_at.is_not(None))),
        "voters": db.session.scalar(select(func.count(func.distinct(voters.c.k)))) or 0,
        "opt_ins": count(regs.where(Registration.directory_consent_at.is_not(None))),
        "interests": count(select(Interest.id).where(Interest.registration_id.in_(regs))),
        "contacts_sent": count(requests),
        "contacts_accepted": count(requests.where(ContactRequest.status == ACCEPTED)),
    }


# --- the interest matrix ------------------------------------------------------------------

@dataclass
class MatrixRow:
    solution: Solution
    learn: list[str] = field(default_factory=list)  # organizations that want to know more
    use: list[str] = field(default_factory=list)  # organizations that say "we use it"
    running: list[tuple[str, str]] = field(default_factory=list)  # (organization, status)
    presented: bool = False


def interest_matrix(actor, event: Event) -> list[MatrixRow]:
    """Solutions presented or marked at this event: who is interested, who runs them."""
    require_staff(actor, event)
    rows: dict[int, MatrixRow] = {}
    presented = presented_solution_ids(event)
    marks = db.session.execute(
        select(Interest.solution_id, Interest.kind, Organization.name)
        .join(Registration, Registration.id == Interest.registration_id)
        .outerjoin(Organization, Organization.id == Registration.organization_id)
        .where(Registration.event_id == event.id, Registration.status != CANCELLED)
        .distinct()).all()
    ids = presented | {sid for sid, _k, _o in marks}
    if not ids:
        return []
    solutions = db.session.scalars(select(Solution).where(
        Solution.id.in_(ids), Solution.status == APPROVED)).all()
    for solution in solutions:
        rows[solution.id] = MatrixRow(solution, presented=solution.id in presented)
    for sid, kind, org in marks:
        if sid in rows:
            target = rows[sid].learn if kind == LEARN else rows[sid].use
            name = org or _("(uden organisation)")
            if name not in target:
                target.append(name)
    for sid, org, status in db.session.execute(
            select(Experience.solution_id, Organization.name, Experience.status)
            .join(Organization, Organization.id == Experience.organization_id)
            .where(Experience.solution_id.in_(rows), Experience.status.in_(RUNNING),
                   Experience.draft.is_(False)).order_by(Organization.name)):
        rows[sid].running.append((org, str(EXPERIENCE_STATUSES[status])))
    for row in rows.values():
        row.learn.sort(key=str.casefold)
        row.use.sort(key=str.casefold)
    return sorted(rows.values(), key=lambda r: (-len(r.learn), r.solution.name.casefold()))


# --- suggested introductions --------------------------------------------------------------

@dataclass
class Suggestion:
    solution: Solution
    seeker: Registration  # wants to know more
    runner: Registration  # their organization runs it (or they said "we use it")
    status: str  # how the runner's organization uses it, in words


def _listed(event: Event):
    return (Registration.event_id == event.id, Registration.status != CANCELLED,
            Registration.directory_consent_at.is_not(None))


def suggestions(actor, event: Event, limit: int = MAX_SUGGESTIONS) -> list[Suggestion]:
    """Who wants to know more about a solution, paired with a consenting person whose
    organization runs it; one pair of organizations per solution, not yet introduced."""
    require_staff(actor, event)
    out_ids = unsubscribed_ids(event)
    seekers = [(reg, sid) for reg, sid in db.session.execute(
        select(Registration, Interest.solution_id)
        .join(Interest, Interest.registration_id == Registration.id)
        .where(Interest.kind == LEARN, *_listed(event))
        .order_by(Interest.created_at, Interest.id)) if reg.id not in out_ids]
    if not seekers:
        return []
    wanted = {sid for _r, sid in seekers}
    runners: dict[int, list[tuple[Registration, str, int]]] = {}
    for reg, exp in db.session.execute(
            select(Registration, Experience)
            .join(Experience, Experience.organization_id == Registration.organization_id)
            .where(Experience.solution_id.in_(wanted), Experience.status.in_(RUNNING),
                   Experience.draft.is_(False), *_listed(event))
            .order_by(Registration.name)):
        rank = 0 if exp.contact_registration_id == reg.id else 1
        runners.setdefault(exp.solution_id, []).append(
            (reg, str(EXPERIENCE_STATUSES[exp.status]), rank))
    for reg, sid in db.session.execute(
            select(Registration, Interest.solution_id)
            .join(Interest, Interest.registration_id == Registration.id)
            .where(Interest.kind == USE, Interest.solution_id.in_(wanted), *_listed(event))
            ):
        runners.setdefault(sid, []).append((reg, _("Bruger den"), 2))
    done = set(db.session.execute(select(
        Introduction.solution_id, Introduction.seeker_id, Introduction.runner_id)))
    done_orgs = set()
    for sid, seeker_id, runner_id in done:
        a, b = db.session.get(Registration, seeker_id), db.session.get(Registration, runner_id)
        done_orgs.add((sid, a.organization_id if a else None, b.organization_id if b else None))
    solutions = {s.id: s for s in db.session.scalars(select(Solution).where(
        Solution.id.in_(wanted), Solution.status == APPROVED))}
    found: list[Suggestion] = []
    seen: set[tuple] = set()
    for seeker, sid in seekers:
        if sid not in solutions:
            continue
        for runner, status, _rank in sorted(runners.get(sid, []), key=lambda r: r[2]):
            if runner.id in out_ids or runner.id == seeker.id or (
                    seeker.organization_id and runner.organization_id == seeker.organization_id):
                continue
            key = (sid, seeker.organization_id or -seeker.id,
                   runner.organization_id or -runner.id)
            if key in seen or (sid, seeker.organization_id, runner.organization_id) in done_orgs:
                continue
            seen.add(key)
            found.append(Suggestion(solutions[sid], seeker, runner, status))
            break
        if len(found) >= limit:
            break
    return found


def introductions(actor, event: Event, limit: int = 20) -> list[Introduction]:
    require_staff(actor, event)
    return list(db.session.scalars(select(Introduction).where(
        Introduction.event_id == event.id).order_by(Introduction.id.desc()).limit(limit)))


def introduce(actor, event: Event, solution_id: int | None, seeker_id: int | None,
              runner_id: int | None) -> Introduction:
    """Introduce two consenting participants by mail (through the outbox) and put the
    seeker's lead at "contacted"."""
    require_staff(actor, event)
    solution = db.session.get(Solution, solution_id) if solution_id else None
    seeker = db.session.get(Registration, seeker_id) if seeker_id else None
    runner = db.session.get(Registration, runner_id) if runner_id else None
    if solution is None or solution.status != APPROVED:
        raise ValidationError(_("Vælg en løsning fra kataloget."))
    if not (is_listed(seeker, event) and is_listed(runner, event)) or seeker.id == runner.id:
        raise ValidationError(_("Begge skal være deltagere, der har sagt ja til at være i "
                                "netværket."))
    if {seeker.id, runner.id} & unsubscribed_ids(event):
        raise ValidationError(_("En af dem har frabedt sig mails om arrangementet."))
    intro = Introduction(event_id=event.id, solution_id=solution.id, seeker_id=seeker.id,
                         runner_id=runner.id, created_by_id=getattr(actor, "id", None))
    try:
        with db.session.begin_nested():
            db.session.add(intro)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("De to er allerede introduceret til hinanden om denne løsning.")) \
            from None
    for to, role in ((seeker, "seeker"), (runner, "runner")):
        queue_built_mail(to.email, "followup-introduction", kind="followup-introduction",
                         event_id=event.id, introduction_id=intro.id, role=role)
    note = _("Introduceret til %(name)s (%(org)s)", name=runner.name,
             org=runner.organization.name if runner.organization else "–")
    lead = db.session.scalar(select(Lead).where(
        in_event(event.id), Lead.registration_id == seeker.id,
        Lead.solution_id == solution.id)) or lead_in_scope(
        event, solution.id, seeker.organization_id)
    if lead is not None:
        carry_on(lead, event, actor)
    if lead is None:
        create_lead(actor, event, LeadData(solution_id=solution.id, registration_id=seeker.id,
                                           note=note), source=FROM_INTRODUCTION, stage=CONTACTED)
    elif lead.stage == NEW:
        move(actor, event, lead, CONTACTED, note=note)
    else:
        lead.entries.append(LeadEntry(author_id=getattr(actor, "id", None), text=note))
    audit.record(actor, event, "followup.introduce", f"#{seeker.id} ↔ #{runner.id}")
    db.session.flush()
    return intro


def build_introduction(introduction_id: int, role: str) -> BuiltMail | None:
    intro = db.session.get(Introduction, introduction_id)
    if intro is None:
        return None
    event = db.session.get(Event, intro.event_id)
    me, other = (intro.seeker, intro.runner) if role == "seeker" else (intro.runner, intro.seeker)
    if not (is_listed(me, event) and is_listed(other, event)):
        return None  # someone withdrew their consent since
    if me.id in unsubscribed_ids(event):
        return None
    base = current_app.config["BASE_URL"]
    return BuiltMail("followup_introduction", dict(
        event=event, intro=intro, me=me, other=other, role=role,
        other_url=base + url_for("directory.person", slug=event.slug, registration_id=other.id),
        unsubscribe_url=unsubscribe_url(me)))
