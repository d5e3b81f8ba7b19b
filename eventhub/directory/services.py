"""Rules of the directory: who may see it, solutions, presentations, experiences, profiles,
interests. Contact requests live in ``contacts.py``, recommendations in ``recommend.py``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import case, delete, func, select
from sqlalchemy.exc import IntegrityError

from eventhub.directory.models import (
    APPROVED,
    CATEGORIES,
    CONSIDERING,
    EXPERIENCE_STATUSES,
    IMPLEMENTED,
    INTEREST_KINDS,
    MATURITY,
    PILOTING,
    PROPOSED,
    SCALED,
    STOPPED,
    USE,
    Experience,
    Interest,
    Presentation,
    Profile,
    Solution,
    SolutionCategory,
)
from eventhub.errors import Conflict, Forbidden, NotFound, ValidationError
from eventhub.events.models import COMMUNITY_MANAGER, ORGANIZER, Event, Organization
from eventhub.events.services import has_role, require_role
from eventhub.extensions import db
from eventhub.programme.models import Session, Speaker
from eventhub.registration.models import CANCELLED, Registration
from eventhub.registration.services import set_directory_consent
from eventhub.signals import emit

MAX_TEXT = 5000
MAX_SHORT = 200


# --- who may look -------------------------------------------------------------------------

def is_directory_staff(user, event: Event) -> bool:
    return has_role(user, event, ORGANIZER, COMMUNITY_MANAGER)


def directory_closed(event: Event, today: date | None = None) -> bool:
    """After the close date the directory is staff-only."""
    return event.directory_open_until is not None and \
        (today or date.today()) > event.directory_open_until


def require_access(event: Event, user, reg: Registration | None) -> None:
    """The event's participants (until the close date) and its organizers and community
    managers may use the directory."""
    if is_directory_staff(user, event):
        return
    if reg is None or reg.status == CANCELLED or reg.event_id != event.id:
        raise Forbidden(_("Netværket er kun for arrangementets deltagere. Log ind med det "
                          "link, vi sender til den e-mailadresse, du tilmeldte dig med."))
    if directory_closed(event):
        raise Forbidden(_("Netværket for dette arrangement er lukket."))


def is_listed(reg: Registration | None, event: Event) -> bool:
    """Whether a person may be shown to others in this event's directory right now."""
    return reg is not None and reg.event_id == event.id and reg.status != CANCELLED \
        and reg.directory_consent_at is not None


def listed_person(event: Event, registration_id: int) -> Registration:
    reg = db.session.get(Registration, registration_id)
    if not is_listed(reg, event):
        raise NotFound(_("Personen findes ikke i netværket."))
    return reg


# --- text checks --------------------------------------------------------------------------

def _text(value: str | None, field_name: str, limit: int = MAX_TEXT, *,
          required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(_("Feltet skal udfyldes."), field_name)
    if len(value) > limit:
        raise ValidationError(_("Højst %(max)d tegn.", max=limit), field_name)
    return value


def _url(value: str | None, field_name: str) -> str:
    value = _text(value, field_name, 300)
    if value and not value.lower().startswith(("https://", "http://")):
        raise ValidationError(_("Skriv en hel webadresse, der begynder med https://."),
                              field_name)
    return value


# --- solutions ----------------------------------------------------------------------------

@dataclass
class SolutionData:
    name: str = ""
    summary: str = ""
    description: str = ""
    provider_id: int | None = None
    categories: list[str] = field(default_factory=list)
    target_group: str = ""
    maturity: str = "ready"
    website: str = ""


def get_solution(solution_id: int, *, include_proposed: bool = False) -> Solution:
    solution = db.session.get(Solution, solution_id)
    if solution is None or (solution.status != APPROVED and not include_proposed):
        raise NotFound(_("Løsningen findes ikke."))
    return solution


def _apply_solution(solution: Solution, data: SolutionData) -> None:
    solution.name = _text(data.name, "name", MAX_SHORT, required=True)
    solution.summary = _text(data.summary, "summary", 500)
    solution.description = _text(data.description, "description")
    solution.target_group = _text(data.target_group, "target_group", MAX_SHORT)
    solution.website = _url(data.website, "website")
    if data.maturity not in MATURITY:
        raise ValidationError(_("Vælg en af mulighederne på listen."), "maturity")
    solution.maturity = data.maturity
    if data.provider_id is not None and db.session.get(Organization, data.provider_id) is None:
        raise ValidationError(_("Organisationen findes ikke."), "provider")
    solution.provider_id = data.provider_id
    wanted = {c for c in data.categories}
    if not wanted <= set(CATEGORIES):
        raise ValidationError(_("Vælg en af mulighederne på listen."), "categories")
    solution.category_rows = [row for row in solution.category_rows if row.category in wanted]
    have = {row.category for row in solution.category_rows}
    solution.category_rows += [SolutionCategory(category=c) for c in sorted(wanted - have)]


def save_solution(actor, event: Event, data: SolutionData,
                  solution: Solution | None = None) -> Solution:
    """An organizer creates or edits a solution in the catalogue."""
    require_role(actor, event, ORGANIZER)
    if solution is None:
        solution = Solution(status=APPROVED, created_by_id=actor.id,
                            proposed_at_event_id=event.id)
        db.session.add(solution)
    _apply_solution(solution, data)
    db.session.flush()
    return solution


def propose_solution(reg: Registration, data: SolutionData, user=None) -> Solution:
    """A participant proposes a solution; it waits for an organizer's approval."""
    solution = Solution(status=PROPOSED, proposed_at_event_id=reg.event_id,
                        created_by_id=getattr(user, "id", None))
    db.session.add(solution)
    _apply_solution(solution, data)
    db.session.flush()
    return solution


def proposals(event: Event) -> list[Solution]:
    return list(db.session.scalars(select(Solution).where(
        Solution.status == PROPOSED, Solution.proposed_at_event_id == event.id)
        .order_by(Solution.created_at)))


def decide_proposal(actor, event: Event, solution: Solution, approve: bool) -> None:
    """Approve a proposal into the catalogue, or reject (delete) it."""
    require_role(actor, event, ORGANIZER)
    if solution.status != PROPOSED or solution.proposed_at_event_id != event.id:
        raise NotFound(_("Forslaget findes ikke."))
    if approve:
        solution.status = APPROVED
    else:
        db.session.delete(solution)
    db.session.flush()


def set_public(actor, event: Event, solution: Solution, public: bool) -> None:
    """Organizers may show a solution (never people) to everyone."""
    require_role(actor, event, ORGANIZER)
    solution.public = public
    db.session.flush()


def catalogue(limit: int = 500) -> list[Solution]:
    return list(db.session.scalars(select(Solution).where(Solution.status == APPROVED)
                                   .order_by(func.lower(Solution.name)).limit(limit)))


# --- presentations ------------------------------------------------------------------------

def presentations_of_session(session: Session) -> list[Presentation]:
    return list(db.session.scalars(
        select(Presentation).join(Solution).where(
            Presentation.session_id == session.id, Solution.status == APPROVED)
        .order_by(Solution.name)))


def presentations_of_solution(solution: Solution) -> list[Presentation]:
    return list(db.session.scalars(
        select(Presentation).join(Session).where(Presentation.solution_id == solution.id)
        .order_by(Session.starts_at.desc())))


def set_presentations(actor, event: Event, session: Session,
                      chosen: dict[int, list[int]]) -> None:
    """The solutions a session presents ({solution id: [speaker ids]}), replacing the old."""
    require_role(actor, event, ORGANIZER)
    if session.event_id != event.id:
        raise NotFound(_("Programpunktet findes ikke."))
    speakers = {sp.id: sp for sp in session.speakers}
    existing = {p.solution_id: p for p in presentations_of_session(session)}
    for solution_id, p in existing.items():
        if solution_id not in chosen:
            db.session.delete(p)
    for solution_id, speaker_ids in chosen.items():
        get_solution(solution_id)
        p = existing.get(solution_id) or Presentation(session_id=session.id,
                                                      solution_id=solution_id)
        if p.id is None:
            db.session.add(p)
        p.presenters = [speakers[i] for i in speaker_ids if i in speakers]
    db.session.flush()


def shown_presenters(presentation: Presentation, event: Event) -> list[Speaker]:
    """Presenters fit for directory pages: external speakers, and participants only while
    they are listed in this event's directory."""
    return [sp for sp in presentation.presenters
            if sp.registration_id is None or is_listed(sp.registration, event)]


def presented_solution_ids(event: Event) -> set[int]:
    return set(db.session.scalars(select(Presentation.solution_id).join(Session)
                                  .where(Session.event_id == event.id)))


def presenter_sessions(reg: Registration) -> list[Session]:
    """Sessions this participant speaks at."""
    return list(db.session.scalars(select(Session).join(Speaker).where(
        Speaker.registration_id == reg.id).order_by(Session.starts_at)))


# --- experiences --------------------------------------------------------------------------

@dataclass
class ExperienceData:
    status: str = IMPLEMENTED
    since: date | None = None
    scale: str = ""
    effect_clinical: str = ""
    effect_patient: str = ""
    effect_economic: str = ""
    effect_organisational: str = ""
    lessons: str = ""
    evidence_url: str = ""


def experience_of(solution: Solution, organization_id: int | None) -> Experience | None:
    if organization_id is None:
        return None
    return db.session.scalar(select(Experience).where(
        Experience.solution_id == solution.id, Experience.organization_id == organization_id))


def may_correct(user, event: Event) -> bool:
    """Organizers correct any organization's experience."""
    return has_role(user, event, ORGANIZER)


def may_edit_experience(user, event: Event, reg: Registration | None,
                        organization_id: int) -> bool:
    """Participants record their own organization's experience; organizers correct any."""
    if has_role(user, event, ORGANIZER):
        return True
    return reg is not None and reg.organization_id == organization_id \
        and reg.status != CANCELLED


def save_experience(user, event: Event, reg: Registration | None, solution: Solution,
                    organization_id: int, data: ExperienceData, *,
                    experience: Experience | None = None) -> Experience:
    """Record or edit an organization's experience with a solution (one per pair)."""
    if not may_edit_experience(user, event, reg, organization_id):
        raise Forbidden(_("Du kan kun registrere erfaringer for din egen organisation."))
    new = experience is None
    if experience is None:
        if experience_of(solution, organization_id) is not None:
            raise Conflict(_("Din organisation har allerede en erfaring med denne løsning. "
                             "Ret den i stedet."), "status")
        experience = Experience(solution_id=solution.id, organization_id=organization_id,
                                created_by_id=getattr(user, "id", None))
        if reg is not None and reg.organization_id == organization_id:
            experience.contact_registration_id = reg.id
        db.session.add(experience)
    if data.status not in EXPERIENCE_STATUSES:
        raise ValidationError(_("Vælg en af mulighederne på listen."), "status")
    if data.since is not None and data.since > date.today():
        raise ValidationError(_("Datoen kan ikke ligge i fremtiden."), "since")
    experience.status, experience.since = data.status, data.since
    experience.scale = _text(data.scale, "scale", MAX_SHORT)
    for name in ("effect_clinical", "effect_patient", "effect_economic",
                 "effect_organisational", "lessons"):
        setattr(experience, name, _text(getattr(data, name), name))
    experience.evidence_url = _url(data.evidence_url, "evidence_url")
    experience.draft = False
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # someone from the same organization was faster
        raise Conflict(_("Din organisation har allerede en erfaring med denne løsning. "
                         "Ret den i stedet."), "status") from None
    if new:
        emit("experience.created", event_id=event.id, experience_id=experience.id,
             solution_id=solution.id)
    return experience


# Who has done the most first: scaled, implemented, piloting, considering, stopped.
_STATUS_ORDER = case({status: n for n, status in enumerate(
    (SCALED, IMPLEMENTED, PILOTING, CONSIDERING, STOPPED))}, value=Experience.status, else_=9)


def experiences_of_solution(solution: Solution) -> list[Experience]:
    return list(db.session.scalars(
        select(Experience).join(Organization).where(
            Experience.solution_id == solution.id, Experience.draft.is_(False))
        .order_by(_STATUS_ORDER, Organization.name)))


def experiences_of_organization(organization: Organization) -> list[Experience]:
    return list(db.session.scalars(
        select(Experience).join(Solution).where(
            Experience.organization_id == organization.id, Experience.draft.is_(False),
            Solution.status == APPROVED).order_by(Solution.name)))


# --- profiles and consent -----------------------------------------------------------------

@dataclass
class ProfileData:
    bio: str = ""
    can_help_with: str = ""
    looking_for: str = ""
    looking_for_categories: list[str] = field(default_factory=list)


def profile_of(reg: Registration) -> Profile | None:
    return db.session.scalar(select(Profile).where(Profile.registration_id == reg.id))


def save_profile(reg: Registration, data: ProfileData, *, consent: bool) -> Profile:
    """Save what the participant tells others, and their consent to be listed."""
    profile = profile_of(reg) or Profile(registration_id=reg.id)
    profile.bio = _text(data.bio, "bio", 1000)
    profile.can_help_with = _text(data.can_help_with, "can_help_with", 1000)
    profile.looking_for = _text(data.looking_for, "looking_for", 1000)
    if not set(data.looking_for_categories) <= set(CATEGORIES):
        raise ValidationError(_("Vælg en af mulighederne på listen."), "looking_for_categories")
    profile.looking_for_categories = sorted(set(data.looking_for_categories))
    if profile.id is None:
        db.session.add(profile)
    set_directory_consent(reg, consent)
    db.session.flush()
    return profile


def withdraw(reg: Registration) -> None:
    """Leave the directory at once (the profile text stays hidden until deleted)."""
    set_directory_consent(reg, False)


def delete_profile(reg: Registration) -> None:
    db.session.execute(delete(Profile).where(Profile.registration_id == reg.id))
    set_directory_consent(reg, False)


# --- interests ----------------------------------------------------------------------------

def interests_of(reg: Registration | None) -> dict[int, set[str]]:
    """{solution id: {"use", "learn"}} for this participant."""
    if reg is None:
        return {}
    marks: dict[int, set[str]] = {}
    for sid, kind in db.session.execute(select(Interest.solution_id, Interest.kind).where(
            Interest.registration_id == reg.id)):
        marks.setdefault(sid, set()).add(kind)
    return marks


def mark_interest(reg: Registration, solution: Solution, kind: str,
                  source: str = "solution") -> Experience | None:
    """Mark "we use this" or "want to know more" (again is a no-op). "We use this" also
    starts a draft experience for the participant's organization, returned for editing."""
    if kind not in INTEREST_KINDS:
        raise ValidationError(_("Vælg en af mulighederne på listen."), "kind")
    if reg.status == CANCELLED:
        raise Forbidden(_("Din tilmelding er annulleret."))
    exists_ = db.session.scalar(select(Interest.id).where(
        Interest.registration_id == reg.id, Interest.solution_id == solution.id,
        Interest.kind == kind))
    if exists_ is None:
        try:
            with db.session.begin_nested():
                db.session.add(Interest(registration_id=reg.id, solution_id=solution.id,
                                        kind=kind, source=source[:12]))
        except IntegrityError:
            pass  # the same click twice at once: one row is enough
    if kind != USE or reg.organization_id is None:
        return None
    experience = experience_of(solution, reg.organization_id)
    if experience is None:
        experience = Experience(solution_id=solution.id, organization_id=reg.organization_id,
                                status=IMPLEMENTED, draft=True, contact_registration_id=reg.id)
        db.session.add(experience)
        db.session.flush()
    return experience


def solutions_marked(reg: Registration, kind: str) -> list[Solution]:
    return list(db.session.scalars(
        select(Solution).join(Interest, Interest.solution_id == Solution.id)
        .where(Interest.registration_id == reg.id, Interest.kind == kind,
               Solution.status == APPROVED).order_by(Solution.name)))


def unmark_interest(reg: Registration, solution: Solution, kind: str) -> None:
    db.session.execute(delete(Interest).where(
        Interest.registration_id == reg.id, Interest.solution_id == solution.id,
        Interest.kind == kind))


def interest_counts(solution_ids) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    ids = list(solution_ids)
    if not ids:
        return counts
    for sid, kind, n in db.session.execute(
            select(Interest.solution_id, Interest.kind, func.count())
            .where(Interest.solution_id.in_(ids)).group_by(Interest.solution_id, Interest.kind)):
        counts.setdefault(sid, {})[kind] = n
    return counts


def interested_people(event: Event, solution: Solution, kind: str) -> list[Registration]:
    """Listed participants of this event who marked the solution (consenting only)."""
    return list(db.session.scalars(
        select(Registration).join(Interest, Interest.registration_id == Registration.id)
        .where(Interest.solution_id == solution.id, Interest.kind == kind,
               Registration.event_id == event.id, Registration.status != CANCELLED,
               Registration.directory_consent_at.is_not(None))
        .order_by(Registration.name)))


def listed_people_of_organization(event: Event, organization_id: int) -> list[Registration]:
    return list(db.session.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.organization_id == organization_id,
        Registration.status != CANCELLED, Registration.directory_consent_at.is_not(None))
        .order_by(Registration.name)))
