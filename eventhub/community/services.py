"""Who works in an organizing organization's community, and what they see across its
events: leads with filters, solutions' trails. Every public function checks access.

Community managers of an organization are ``CommunityMember`` rows; admins see every
organization. Functions flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import median

from flask_babel import gettext as _
from sqlalchemy import (
    Integer,
    String,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from eventhub import audit
from eventhub.accounts.models import User
from eventhub.community import figures as figures_mod
from eventhub.community.models import BARRIERS, NO, CheckinAnswer, CommunityMember
from eventhub.directory.models import (
    APPROVED,
    LEARN,
    RUNNING,
    Experience,
    Interest,
    Presentation,
    Solution,
)
from eventhub.errors import Conflict, Forbidden, NotFound, ValidationError
from eventhub.events.models import ORGANIZER, Event, EventSeries, Organization
from eventhub.events.services import has_role, is_authenticated
from eventhub.extensions import db
from eventhub.followup import services as followup
from eventhub.followup.models import ADOPTED, STAGES, Lead, LeadEntry, LeadEvent
from eventhub.programme.models import Session
from eventhub.registration.models import Registration

PAGE_SIZE = 100


# --- access -------------------------------------------------------------------------------

def organizations_of(user) -> list[Organization]:
    """The organizing organizations whose workspace the user may open."""
    if not is_authenticated(user):
        return []
    if user.is_admin:
        stmt = select(Organization).where(Organization.id.in_(
            select(Event.host_organization_id).where(Event.host_organization_id.is_not(None))))
    else:
        stmt = select(Organization).join(
            CommunityMember, CommunityMember.organization_id == Organization.id).where(
            CommunityMember.user_id == user.id)
    return list(db.session.scalars(stmt.order_by(Organization.name)))


def is_member(user, organization_id: int) -> bool:
    if not is_authenticated(user):
        return False
    if user.is_admin:
        return True
    return db.session.scalar(select(CommunityMember.id).where(
        CommunityMember.organization_id == organization_id,
        CommunityMember.user_id == user.id)) is not None


def require_member(user, organization_id: int) -> Organization:
    """The organization, if the user is one of its community managers (or an admin)."""
    org = db.session.get(Organization, organization_id)
    if org is None:
        raise NotFound(_("Organisationen findes ikke."))
    if not is_member(user, organization_id):
        raise Forbidden(_("Du er ikke community manager for %(org)s.", org=org.name))
    return org


def members(actor, org: Organization) -> list[User]:
    require_member(actor, org.id)
    return list(db.session.scalars(select(User).join(
        CommunityMember, CommunityMember.user_id == User.id).where(
        CommunityMember.organization_id == org.id).order_by(User.email)))


def add_member(actor, org: Organization, email: str) -> User:
    """Make a staff user a community manager of the organization (its members do this)."""
    require_member(actor, org.id)
    email = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        raise ValidationError(_("Der er ingen bruger med den adresse. Personen skal først "
                                "have en konto."), "email")
    try:
        with db.session.begin_nested():
            db.session.add(CommunityMember(organization_id=org.id, user_id=user.id))
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("%(email)s er allerede community manager.", email=user.email),
                       "email") from None
    return user


def set_host(actor, event: Event, organization_id: int | None) -> int:
    """The event's organizing organization (its organizers decide). The event's leads
    move into that organization's scope; where it already has a lead for the same
    solution and organization, the two are merged. Returns how many were merged."""
    if not has_role(actor, event, ORGANIZER):
        raise Forbidden(_("Kun arrangører kan vælge den arrangerende organisation."))
    if organization_id is not None and db.session.get(Organization, organization_id) is None:
        raise ValidationError(_("Organisationen findes ikke."), "organization")
    event.host_organization_id = organization_id
    scope = organization_id or 0
    merged = 0
    for lead in db.session.scalars(select(Lead).where(
            Lead.event_id == event.id, Lead.scope != scope)).all():
        other = db.session.scalar(select(Lead).where(
            Lead.scope == scope, Lead.solution_id == lead.solution_id,
            Lead.organization_id == lead.organization_id, Lead.id != lead.id)) \
            if lead.organization_id and lead.solution_id else None
        if other is None:
            lead.scope = scope
            db.session.flush()
        else:
            followup.merge_leads(other, lead, actor)
            merged += 1
    audit.record(actor, event, "community.host", str(organization_id or ""))
    db.session.flush()
    return merged


# --- the workspace ------------------------------------------------------------------------

@dataclass
class Filter:
    event_id: int | None = None
    series_id: int | None = None
    solution_id: int | None = None
    region: str = ""
    org_kind: str = ""
    stage: str = ""


def events_of(org: Organization) -> list[Event]:
    return list(db.session.scalars(select(Event).where(
        Event.host_organization_id == org.id).order_by(Event.starts_at.desc())))


def series_of(org: Organization) -> list[EventSeries]:
    return list(db.session.scalars(select(EventSeries).where(EventSeries.id.in_(
        select(Event.series_id).where(Event.host_organization_id == org.id)))
        .order_by(EventSeries.name)))


def _event_ids(org: Organization, flt: Filter):
    stmt = select(Event.id).where(Event.host_organization_id == org.id)
    if flt.event_id:
        stmt = stmt.where(Event.id == flt.event_id)
    if flt.series_id:
        stmt = stmt.where(Event.series_id == flt.series_id)
    return stmt


def _lead_stmt(org: Organization, flt: Filter):
    stmt = select(Lead).where(Lead.scope == org.id)
    if flt.event_id or flt.series_id:
        stmt = stmt.where(Lead.id.in_(select(LeadEvent.lead_id).where(
            LeadEvent.event_id.in_(_event_ids(org, flt)))))
    if flt.solution_id:
        stmt = stmt.where(Lead.solution_id == flt.solution_id)
    if flt.region or flt.org_kind:
        orgs = select(Organization.id)
        if flt.region:
            orgs = orgs.where(or_(Organization.region_code == flt.region,
                                  Organization.code == flt.region))
        if flt.org_kind:
            orgs = orgs.where(Organization.kind == flt.org_kind)
        stmt = stmt.where(Lead.organization_id.in_(orgs))
    if flt.stage:
        if flt.stage not in STAGES:
            raise ValidationError(_("Vælg en af mulighederne på listen."), "stage")
        stmt = stmt.where(Lead.stage == flt.stage)
    return stmt


def leads(actor, org: Organization, flt: Filter, page: int = 1,
          total: int | None = None) -> tuple[list[Lead], int]:
    """One page of the organization's leads across its events (newest change first), and
    how many there are in all (``total`` when the caller has counted them already)."""
    require_member(actor, org.id)
    stmt = _lead_stmt(org, flt)
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    page = max(1, page)
    found = list(db.session.scalars(stmt.options(
        selectinload(Lead.organization),
        selectinload(Lead.solution).lazyload(Solution.category_rows))
        .order_by(Lead.updated_at.desc(), Lead.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    titles: dict[int, list[str]] = {}
    if found:
        for lead_id, title in db.session.execute(
                select(LeadEvent.lead_id, Event.title).join(Event, Event.id == LeadEvent.event_id)
                .where(LeadEvent.lead_id.in_([lead.id for lead in found]))
                .order_by(Event.starts_at)):
            titles.setdefault(lead_id, []).append(title)
    for lead in found:
        lead.event_titles = titles.get(lead.id, [])
    return found, total


def get_lead(actor, org: Organization, lead_id: int) -> Lead:
    require_member(actor, org.id)
    lead = db.session.get(Lead, lead_id)
    if lead is None or lead.scope != org.id:
        raise NotFound(_("Leadet findes ikke."))
    return lead


def latest_event(lead: Lead) -> Event:
    """The last event the lead turned up at (where its moves are filed)."""
    links = sorted(lead.event_links, key=lambda link: link.event.starts_at)
    return links[-1].event if links else lead.event


def move(actor, org: Organization, lead: Lead, stage: str, *, reason: str = "",
         note: str = "") -> LeadEntry | None:
    """Move a lead from the workspace (filed under its latest event)."""
    require_member(actor, org.id)
    if lead.scope != org.id:
        raise NotFound(_("Leadet findes ikke."))
    return followup.record_move(actor, latest_event(lead), lead, stage, reason=reason, note=note)


@dataclass
class Overview:
    counts: dict[str, int]                  # stage → leads
    solutions: list[dict]                   # most leads first: id, name, leads, adopted
    organizations: list[dict]               # most leads first: id, name, kind, leads, adopted
    figures: figures_mod.Figures

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _tally(per: dict, key: int, stage: str, n: int, **item) -> None:
    entry = per.setdefault(key, {"id": key, **item, "leads": 0, "adopted": 0})
    entry["leads"] += n
    entry["adopted"] += n if stage in ADOPTED else 0


def overview(actor, org: Organization, flt: Filter, events: list[Event] | None = None,
             ) -> Overview:
    """Every count of the workspace in one statement: the leads are filtered once (a
    CTE), and stage counts, solutions, organizations, days to adoption and the trend
    across the editions are grouped from it; the barriers come from the check-in answers
    of the same events. ``events``: the organization's events, when the caller has them
    (for the trend's titles)."""
    require_member(actor, org.id)
    f = _lead_stmt(org, flt).with_only_columns(
        Lead.id, Lead.organization_id, Lead.solution_id, Lead.stage, Lead.adopted_at,
        Lead.event_id).cte("filtered_leads")
    event_ids = _event_ids(org, flt)
    nothing = null().cast(String)
    days = cast(figures_mod._days(f.c.adopted_at, Event.ends_at), Integer)
    stmt = union_all(
        select(literal("o").label("part"), f.c.organization_id.label("key"),
               Organization.name.label("name"), Organization.kind.label("kind"),
               f.c.stage.label("stage"), func.count().label("n"))
        .select_from(f).outerjoin(Organization, Organization.id == f.c.organization_id)
        .group_by(f.c.organization_id, Organization.name, Organization.kind, f.c.stage),
        select(literal("s"), f.c.solution_id, Solution.name, nothing, f.c.stage, func.count())
        .select_from(f).join(Solution, Solution.id == f.c.solution_id)
        .group_by(f.c.solution_id, Solution.name, f.c.stage),
        select(literal("d"), days, nothing, nothing, nothing, func.count())
        .select_from(f).join(Event, Event.id == f.c.event_id)
        .where(f.c.adopted_at.is_not(None)).group_by(days),
        select(literal("t"), LeadEvent.event_id, nothing, nothing, f.c.stage, func.count())
        .select_from(f).join(LeadEvent, LeadEvent.lead_id == f.c.id)
        .where(LeadEvent.event_id.in_(event_ids)).group_by(LeadEvent.event_id, f.c.stage),
        select(literal("b"), null().cast(Integer), CheckinAnswer.barrier, nothing, nothing,
               func.count()).where(CheckinAnswer.event_id.in_(event_ids),
                                   CheckinAnswer.answer == NO)
        .group_by(CheckinAnswer.barrier),
    )
    counts = dict.fromkeys(STAGES, 0)
    sols: dict[int, dict] = {}
    orgs: dict[int, dict] = {}
    editions: dict[int, list[int]] = {}
    days_found: list[int] = []
    barriers: dict[str, int] = {}
    for kind, key, name, org_kind, stage, n in db.session.execute(stmt):
        if kind == "o":
            counts[stage] = counts.get(stage, 0) + n
            if key is not None:
                _tally(orgs, key, stage, n, name=name, kind=org_kind)
        elif kind == "s":
            _tally(sols, key, stage, n, name=name)
        elif kind == "d":
            days_found.extend([int(key)] * n)
        elif kind == "t":
            item = editions.setdefault(key, [0, 0])
            item[0] += n
            item[1] += n if stage in ADOPTED else 0
        else:
            barriers[name] = n
    out = figures_mod.Figures(leads=sum(counts.values()))
    out.kinds = {stage: counts.get(stage, 0) for stage in figures_mod.KINDS}
    out.barriers = [(str(label), barriers.get(key, 0)) for key, label in BARRIERS.items()]
    out.median_days = int(median(days_found)) if days_found else None
    if editions:
        by_id = {e.id: e for e in (events if events is not None else events_of(org))}
        out.trend = [(by_id[i].title, *editions[i]) for i in sorted(
            editions, key=lambda i: (by_id[i].starts_at, by_id[i].title))]
    return Overview(
        counts,
        sorted(sols.values(), key=lambda r: (-r["leads"], r["name"].casefold())),
        sorted(orgs.values(), key=lambda r: (-r["leads"], r["name"].casefold())),
        out)


# --- a solution's trail -------------------------------------------------------------------

@dataclass
class Trail:
    solution: Solution
    events: list[Event]
    interests: list[tuple[str, int]]       # (event title, "want to know more")
    stages: dict[str, int]
    adoptions: list[tuple[datetime, str, str]]  # (when, organization, stage)
    experiences: list[Experience]
    regions: list[tuple[str, int]]          # (region name, organizations running it)


def _presented_at(solution: Solution, event_ids=None) -> list[Event]:
    stmt = select(Event).join(Session, Session.event_id == Event.id).join(
        Presentation, Presentation.session_id == Session.id).where(
        Presentation.solution_id == solution.id)
    if event_ids is not None:
        stmt = stmt.where(Event.id.in_(event_ids))
    return list(db.session.scalars(stmt.distinct().order_by(Event.starts_at)))


def _regions(experiences: list[Experience]) -> list[tuple[str, int]]:
    names = dict(db.session.execute(select(Organization.code, Organization.name).where(
        Organization.kind == "region")).all())
    count: dict[str, int] = {}
    for exp in experiences:
        code = exp.organization.region_code or (
            exp.organization.code if exp.organization.kind == "region" else None)
        key = names.get(code, _("Uden region"))
        count[key] = count.get(key, 0) + 1
    return sorted(count.items(), key=lambda kv: (-kv[1], kv[0]))


def running(solution: Solution) -> list[Experience]:
    """Organizations that run the solution (published experiences)."""
    return list(db.session.scalars(select(Experience).where(
        Experience.solution_id == solution.id, Experience.status.in_(RUNNING),
        Experience.draft.is_(False)).options(selectinload(Experience.organization))
        .order_by(Experience.since.is_(None), Experience.since, Experience.id)))


def trail(actor, org: Organization, solution_id: int) -> Trail:
    """Everything about one solution across the organization's events (staff)."""
    require_member(actor, org.id)
    solution = db.session.get(Solution, solution_id)
    if solution is None:
        raise NotFound(_("Løsningen findes ikke."))
    event_ids = select(Event.id).where(Event.host_organization_id == org.id)
    interests = db.session.execute(
        select(Event.title, func.count()).select_from(Interest)
        .join(Registration, Registration.id == Interest.registration_id)
        .join(Event, Event.id == Registration.event_id)
        .where(Interest.solution_id == solution.id, Interest.kind == LEARN,
               Event.id.in_(event_ids))
        .group_by(Event.id, Event.title, Event.starts_at).order_by(Event.starts_at)).all()
    stages = dict.fromkeys(STAGES, 0)
    stages.update(dict(db.session.execute(select(Lead.stage, func.count()).where(
        Lead.scope == org.id, Lead.solution_id == solution.id).group_by(Lead.stage)).all()))
    adoptions = [(at, name or "–", stage) for at, name, stage in db.session.execute(
        select(Lead.adopted_at, Organization.name, Lead.stage)
        .outerjoin(Organization, Organization.id == Lead.organization_id)
        .where(Lead.scope == org.id, Lead.solution_id == solution.id,
               Lead.adopted_at.is_not(None)).order_by(Lead.adopted_at)).all()]
    experiences = running(solution)
    return Trail(solution, _presented_at(solution, event_ids),
                 [(t, n) for t, n in interests], stages, adoptions, experiences,
                 _regions(experiences))


@dataclass
class PublicTrail:
    solution: Solution
    running: list[Experience]
    regions: list[tuple[str, int]]
    new_since: list[tuple[Event, int]]   # (event, organizations that began after it)


def public_trail(solution_id: int) -> PublicTrail:
    """A published solution's trail for anyone: organizations and counts, never people."""
    solution = db.session.get(Solution, solution_id)
    if solution is None or not solution.public or solution.status != APPROVED:
        raise NotFound(_("Løsningen findes ikke, eller den er ikke offentliggjort."))
    exps = running(solution)
    since = []
    for event in _presented_at(solution):
        if not event.is_public:
            continue
        day = event.starts_at.date()
        since.append((event, sum(1 for e in exps if e.since and e.since >= day)))
    return PublicTrail(solution, exps, _regions(exps), since)


# --- contact for follow-up ----------------------------------------------------------------

@dataclass
class Contact:
    name: str
    email: str      # "" unless the person consented to be contacted
    phone: str
    consented: bool


def _person(lead: Lead) -> Registration | None:
    reg = lead.registration
    if reg is None or reg.email.endswith(".invalid") or reg.status == "cancelled":
        return None
    return reg


def contact_of(actor, org: Organization, lead: Lead) -> Contact | None:
    """Who the lead is about; address and phone only with their follow-up consent."""
    require_member(actor, org.id)
    reg = _person(lead)
    if reg is None:
        return None
    if reg.followup_consent:
        return Contact(reg.name, reg.email, reg.phone, True)
    return Contact(reg.name, "", "", False)


MAX_SUBJECT, MAX_BODY = 200, 5000


def send_mail(actor, org: Organization, lead: Lead, subject: str, body: str) -> None:
    """A mail from the lead's page to its consenting person, through the outbox, with
    Reply-To the community manager; recorded in the lead's history."""
    from eventhub.mail import queue_built_mail

    contact = contact_of(actor, org, lead)
    if contact is None or not contact.consented:
        raise Forbidden(_("Personen har ikke sagt ja til at blive kontaktet om opfølgning. "
                          "Brug en introduktion eller en kontaktanmodning i stedet."))
    subject, body = " ".join((subject or "").split()), (body or "").strip()
    if not subject:
        raise ValidationError(_("Skriv et emne."), "subject")
    if not body:
        raise ValidationError(_("Skriv selve mailen."), "body")
    if len(subject) > MAX_SUBJECT or len(body) > MAX_BODY:
        raise ValidationError(_("Højst %(max)d tegn.", max=MAX_BODY), "body")
    event = latest_event(lead)
    queue_built_mail(contact.email, "community-lead-mail", kind="community-lead-mail",
                     event_id=lead.registration.event_id, subject=subject, body=body,
                     reply_to=actor.email, sender=actor.display_name)
    lead.entries.append(LeadEntry(author_id=actor.id, event_id=event.id, text=_(
        "Mail sendt: %(subject)s", subject=subject)))
    db.session.flush()


def build_lead_mail(subject: str, body: str, reply_to: str, sender: str):
    """The lead mail as the outbox worker builds it: replies reach the community manager
    who wrote it, whose name is the sender's display name."""
    from eventhub.mail import BuiltMail

    return BuiltMail("community_lead_mail", dict(subject=subject, body=body,
                                                 reply_to=reply_to, sender=sender),
                     reply_to=reply_to, from_name=sender)
