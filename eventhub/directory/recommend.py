""""People you should meet": matches between what I look for and what others have done.

Every match carries its reason in words, e.g. "Svendborg Kommune har implementeret X, som
du vil vide mere om". Only listed (consenting) participants of the event are suggested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from eventhub.directory.models import (
    CATEGORIES,
    IMPLEMENTED,
    LEARN,
    PILOTING,
    RUNNING,
    SCALED,
    USE,
    Experience,
    Interest,
    Profile,
    Solution,
    solution_categories,
)
from eventhub.directory.services import profile_of
from eventhub.events.models import Organization
from eventhub.extensions import db
from eventhub.registration.models import CANCELLED, Registration

WEIGHT = {SCALED: 3.0, IMPLEMENTED: 3.0, PILOTING: 2.0}


@dataclass
class Match:
    person: Registration
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    solution_id: int | None = None

    def add(self, score: float, reason: str, solution_id: int | None = None) -> None:
        if reason in self.reasons:
            return
        self.score += score
        self.reasons.append(reason)
        if self.solution_id is None:
            self.solution_id = solution_id


def _runs(status: str, org: str, solution: str) -> str:
    if status == SCALED:
        return _("%(org)s har udbredt %(solution)s, som du vil vide mere om",
                 org=org, solution=solution)
    if status == PILOTING:
        return _("%(org)s afprøver %(solution)s, som du vil vide mere om",
                 org=org, solution=solution)
    return _("%(org)s har implementeret %(solution)s, som du vil vide mere om",
             org=org, solution=solution)


def _listed_at(event_id: int):
    return (Registration.event_id == event_id, Registration.status != CANCELLED,
            Registration.directory_consent_at.is_not(None))


def _marked(event_id: int, solution_ids: set[int], kind: str):
    """(listed person, solution id) for everyone here who marked these solutions so."""
    return db.session.execute(
        select(Registration, Interest.solution_id)
        .join(Interest, Interest.registration_id == Registration.id)
        .where(Interest.solution_id.in_(solution_ids), Interest.kind == kind,
               *_listed_at(event_id)))


def _words(text: str) -> set[str]:
    return {w.casefold() for w in re.findall(r"\w{5,}", text or "")}


@dataclass
class _Seeker:
    """One participant's wishes, and the matches found for them so far."""

    me: Registration
    wanted: set[int]  # solutions I want to know more about
    ours: set[int]  # solutions we use or run
    profile: Profile | None
    names: dict[int, str]  # solution id → name, for wanted and ours
    matches: dict[int, Match] = field(default_factory=dict)

    def match(self, person: Registration) -> Match | None:
        """The match for this person; None for myself and my own organization."""
        me = self.me
        if person.id == me.id or (me.organization_id and
                                  person.organization_id == me.organization_id):
            return None
        return self.matches.setdefault(person.id, Match(person))


def _seeker(me: Registration) -> _Seeker:
    wanted = set(db.session.scalars(select(Interest.solution_id).where(
        Interest.registration_id == me.id, Interest.kind == LEARN)))
    ours = set(db.session.scalars(select(Interest.solution_id).where(
        Interest.registration_id == me.id, Interest.kind == USE)))
    if me.organization_id:
        ours |= set(db.session.scalars(select(Experience.solution_id).where(
            Experience.organization_id == me.organization_id,
            Experience.status.in_(RUNNING), Experience.draft.is_(False))))
    names = dict(db.session.execute(select(Solution.id, Solution.name).where(
        Solution.id.in_(wanted | ours))).all()) if wanted | ours else {}
    return _Seeker(me, wanted, ours, profile_of(me), names)


def _they_run_what_i_want(s: _Seeker) -> None:
    """1. Organizations that run what I want to know more about: their listed people."""
    if not s.wanted:
        return
    rows = db.session.execute(
        select(Registration, Experience, Organization.name)
        .join(Experience, Experience.organization_id == Registration.organization_id)
        .join(Organization, Organization.id == Experience.organization_id)
        .where(Experience.solution_id.in_(s.wanted), Experience.status.in_(RUNNING),
               Experience.draft.is_(False), *_listed_at(s.me.event_id)))
    for person, exp, org_name in rows:
        m = s.match(person)
        if m is not None:
            bonus = 1.0 if exp.contact_registration_id == person.id else 0.0
            m.add(WEIGHT[exp.status] + bonus,
                  _runs(exp.status, org_name, s.names[exp.solution_id]), exp.solution_id)


def _they_use_what_i_want(s: _Seeker) -> None:
    """2. People who said "we use this" about what I want to know more about."""
    if not s.wanted:
        return
    for person, sid in _marked(s.me.event_id, s.wanted, USE):
        m = s.match(person)
        if m is not None:
            m.add(2.0, _("%(name)s bruger %(solution)s, som du vil vide mere om",
                         name=person.name, solution=s.names[sid]), sid)


def _they_want_what_we_run(s: _Seeker) -> None:
    """3. People who want to know more about what we run: I can help them."""
    if not s.ours:
        return
    for person, sid in _marked(s.me.event_id, s.ours, LEARN):
        m = s.match(person)
        if m is not None:
            m.add(1.5, _("%(name)s vil vide mere om %(solution)s, som I bruger",
                         name=person.name, solution=s.names[sid]), sid)


def _they_run_my_categories(s: _Seeker) -> None:
    """4. Organizations running solutions in the categories I look for."""
    categories = set(s.profile.looking_for_categories) if s.profile else set()
    if not categories:
        return
    rows = db.session.execute(
        select(Registration, Solution.id, Solution.name, Organization.name,
               solution_categories.c.category)
        .join(Experience, Experience.organization_id == Registration.organization_id)
        .join(Solution, Solution.id == Experience.solution_id)
        .join(solution_categories, solution_categories.c.solution_id == Solution.id)
        .join(Organization, Organization.id == Experience.organization_id)
        .where(solution_categories.c.category.in_(categories),
               Experience.status.in_(RUNNING), Experience.draft.is_(False),
               Solution.status == "approved", *_listed_at(s.me.event_id))
        .limit(200))
    for person, sid, sname, org_name, cat in rows:
        m = s.match(person)
        if m is not None and len(m.reasons) < 3:
            m.add(1.0, _("%(org)s bruger %(solution)s inden for %(category)s, som du "
                         "leder efter", org=org_name, solution=sname,
                         category=str(CATEGORIES[cat]).lower()), sid)


def _they_help_with_what_i_look_for(s: _Seeker) -> None:
    """5. "I am looking for" meets "I can help with"."""
    looking = _words(s.profile.looking_for) if s.profile else set()
    if not looking:
        return
    for person, helps in db.session.execute(
            select(Registration, Profile.can_help_with)
            .join(Profile, Profile.registration_id == Registration.id)
            .where(Profile.can_help_with != "", *_listed_at(s.me.event_id)).limit(2000)):
        common = looking & _words(helps)
        m = s.match(person) if common else None
        if m is not None:
            m.add(0.5 * len(common), _("%(name)s kan hjælpe med det, du leder efter: "
                                       "%(words)s", name=person.name,
                                       words=", ".join(sorted(common)[:3])))


# In this order: a reason found earlier comes first, and its solution is the match's.
RULES = (_they_run_what_i_want, _they_use_what_i_want, _they_want_what_we_run,
         _they_run_my_categories, _they_help_with_what_i_look_for)


def people_to_meet(me: Registration, limit: int = 10) -> list[Match]:
    """Ranked suggestions for this participant, each with one or more reasons."""
    seeker = _seeker(me)
    for rule in RULES:
        rule(seeker)
    ranked = sorted(seeker.matches.values(), key=lambda m: (-m.score, m.person.name))
    return ranked[:limit]
