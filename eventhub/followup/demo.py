"""Demo follow-up: leads in every stage with some history (one moved backwards, two past
their due date), owned by the demo's community manager and organizer, and the scale poll
as the post-event survey. Loading twice changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from eventhub.accounts.models import User
from eventhub.directory.models import Solution
from eventhub.events.models import Event, Organization
from eventhub.extensions import db
from eventhub.followup.models import (
    ADOPTED,
    BY_HAND,
    FROM_CONTACT,
    FROM_INTEREST,
    FROM_INTRODUCTION,
    Lead,
    LeadEntry,
    SurveyPoll,
)
from eventhub.followup.services import in_event, new_lead
from eventhub.polls.models import Poll
from eventhub.registration.models import Registration

CM, ORG = "community@example.com", "arrangoer@example.com"
SKAERM, FALD, GENOPTR, ROBOT, GPS, KOL = (
    "Skærmbesøg i hjemmeplejen", "Natlig faldsensor",
    "Digital genoptræning efter hofteoperation", "Dispenserrobot til medicin",
    "Tryghedsalarm med GPS", "Telemedicin til borgere med KOL")

# (person or None, organization, solution, source, owner, due: days after the event or
#  "overdue", history: [(days after the event, stage or None, text)])
LEADS = [
    ("Søren Kjær", "Odense Kommune", SKAERM, FROM_INTRODUCTION, CM, 90, [
        (1, "new", ""), (3, "contacted", "Introduceret til Aarhus Kommune."),
        (20, "meeting", "Videomøde med Aarhus: planlægning og udstyr."),
        (48, "adopted_adaptation", "Kører nu i to distrikter, tilpasset aftenvagten.")]),
    ("Pernille Krogh", "Randers Kommune", SKAERM, FROM_INTEREST, CM, 40, [
        (1, "new", ""), (6, "contacted", "Mail sendt med Svendborgs erfaringer."),
        (25, "meeting", "Møde med Svendborg aftalt til februar.")]),
    ("Thomas Brandt", "Vejle Kommune", FALD, FROM_INTEREST, CM, "overdue", [
        (1, "new", ""), (9, "contacted", "Ringet op; vil tale med plejecentrets leder først.")]),
    ("Mette Holm", "Aarhus Kommune", FALD, FROM_CONTACT, ORG, None, [
        (1, "new", ""), (4, "contacted", ""), (15, "meeting", "Besøg i Odense."),
        (38, "adopted_copy", "Samme sensor og samme arbejdsgang som i Odense.")]),
    ("Line Vestergaard", "Aalborg Kommune", ROBOT, FROM_INTEREST, CM, 60, [
        (1, "new", ""), (5, "contacted", ""), (18, "meeting", "Møde med Svendborg."),
        (22, "contacted", "Mødet blev aflyst – tilbage til kontakt, ny dato følger."),
        (40, "meeting", "Nyt møde holdt; Kolding deltog også.")]),
    ("Maria Skov", "Viborg Kommune", GPS, FROM_INTEREST, ORG, None, [
        (1, "new", ""), (8, "contacted", ""),
        (70, "adopted_inspiration", "Bygger deres egen ordning med Horsens' vejledning "
                                    "som forlæg.")]),
    ("Kasper Winther", "Roskilde Kommune", ROBOT, FROM_INTEREST, CM, None, [
        (1, "new", ""), (10, "contacted", ""),
        (30, "dropped", "Ingen budget til robotter i 2027; tages op igen i 2028.")]),
    ("Trine Nygaard", "Lolland Kommune", SKAERM, FROM_INTEREST, CM, "overdue", [
        (1, "new", "Prøvede selv i 2022; vil høre, hvad Aarhus gør anderledes.")]),
    ("Henrik Dahl", "Svendborg Kommune", KOL, FROM_INTEREST, ORG, 30, [
        (1, "new", ""), (12, "contacted", "Region Midtjylland sender deres evaluering.")]),
    ("Jesper Bundgaard", "Silkeborg Kommune", GENOPTR, FROM_INTRODUCTION, CM, None, [
        (1, "new", ""), (2, "contacted", ""), (14, "meeting", ""),
        (44, "adopted_copy", "Samme app og øvelser som i Esbjerg.")]),
    (None, "Herning Kommune", GPS, BY_HAND, CM, 21, [
        (2, "new", "Hjælpemiddelcentret spurgte efter dagen.")]),
]


def load_followup(event: Event) -> None:
    """Leads and their history, if the event has none yet (needs the directory demo)."""
    if db.session.scalar(select(Lead.id).where(in_event(event.id)).limit(1)):
        return
    solutions = {s.name: s for s in db.session.scalars(select(Solution))}
    if SKAERM not in solutions:
        return  # no directory demo data: nothing to follow up
    users = {u.email: u for u in db.session.scalars(select(User).where(
        User.email.in_((CM, ORG))))}
    regs = {r.name: r for r in db.session.scalars(
        select(Registration).where(Registration.event_id == event.id))}
    orgs = {o.name: o for o in db.session.scalars(select(Organization).where(
        Organization.name.in_({org for _p, org, *_rest in LEADS})))}
    end = event.ends_at
    for person, org, solution, source, owner, due, history in LEADS:
        if solution not in solutions or org not in orgs:
            continue
        reg = regs.get(person) if person else None
        author = users.get(owner)
        if due == "overdue":
            due_on = date.today() - timedelta(days=5)
        else:
            due_on = (end + timedelta(days=due)).date() if due else None
        lead = new_lead(event, registration_id=reg.id if reg else None,
                    organization_id=orgs[org].id, solution_id=solutions[solution].id,
                    source=source, owner_id=author.id if author else None, due_on=due_on,
                    created_by_id=author.id if author else None,
                    created_at=end + timedelta(days=history[0][0]))
        stage = None
        for days, to_stage, text in history:
            when = end + timedelta(days=days)
            lead.entries.append(LeadEntry(author_id=author.id if author else None,
                                          from_stage=stage if to_stage else None,
                                          to_stage=to_stage, text=text, created_at=when))
            if to_stage:
                if to_stage in ADOPTED and stage not in ADOPTED:
                    lead.adopted_at = when
                stage = to_stage
        lead.stage = stage
        if stage == "dropped":
            lead.drop_reason = history[-1][2]
        db.session.add(lead)
    survey = db.session.scalar(select(Poll).where(
        Poll.event_id == event.id, Poll.kind == "scale").limit(1))
    if survey is not None and db.session.scalar(
            select(SurveyPoll.id).where(SurveyPoll.poll_id == survey.id)) is None:
        db.session.add(SurveyPoll(event_id=event.id, poll_id=survey.id))
    db.session.flush()
