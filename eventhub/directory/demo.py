"""Demo content for the directory: solutions presented at the demo sessions, experiences
from several municipalities, profiles and interests of consenting participants."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from eventhub.directory.models import (
    Experience,
    Interest,
    Presentation,
    Profile,
    Solution,
    SolutionCategory,
)
from eventhub.events.models import Event, Organization
from eventhub.extensions import db
from eventhub.programme.models import Session
from eventhub.registration.models import Registration

# name, summary, category, provider, maturity, session title (or None)
SOLUTIONS = [
    ("Skærmbesøg i hjemmeplejen", "Planlagte videobesøg hos borgeren i stedet for kørsel",
     ["video"], "Skærmbesøg A/S", "operation", "Skærmbesøg i hjemmeplejen: 40.000 besøg senere"),
    ("Natlig faldsensor", "Sensor ved sengen, der kalder personalet, før borgeren falder",
     ["sensors"], "SensorHjem ApS", "ready", "Sensorer mod fald om natten"),
    ("Digital genoptræning efter hofteoperation", "Øvelser med video og app, fulgt af "
     "terapeuten på afstand", ["rehabilitation"], None, "operation",
     "Digital genoptræning efter hofteoperation"),
    ("Dispenserrobot til medicin", "Robot der doserer og minder borgeren om medicinen",
     ["medication"], None, "operation", "Medicinhåndtering med dispenserrobot"),
    ("Tryghedsalarm med GPS", "Alarm til borgere med demens, der kan gå udendørs",
     ["aids", "sensors"], "Tryghedsteknik ApS", "ready", None),
    ("Telemedicin til borgere med KOL", "Målinger hjemme og video med sygeplejersken",
     ["telemedicine", "video"], None, "operation", None),
]

# solution index, organization, status, since, scale, effects (clinical, patient,
# economic, organisational), lessons
EXPERIENCES = [
    (0, "Aarhus Kommune", "scaled", date(2021, 3, 1), "1.200 borgere",
     ("", "Borgerne oplever færre forstyrrelser", "28 % færre kørte kilometer",
      "Planlægningen blev enklere"), "Borgere med nedsat hørelse har brug for hjælp."),
    (0, "Svendborg Kommune", "implemented", date(2023, 1, 1), "320 borgere",
     ("", "", "Sparer 12 minutters kørsel pr. besøg", ""), ""),
    (0, "Odense Kommune", "piloting", date(2025, 9, 1), "40 borgere", ("", "", "", ""), ""),
    (0, "Randers Kommune", "considering", None, "", ("", "", "", ""), ""),
    (0, "Lolland Kommune", "stopped", date(2022, 5, 1), "15 borgere", ("", "", "", ""),
     "For få borgere havde en stabil internetforbindelse."),
    (1, "Odense Kommune", "implemented", date(2022, 10, 1), "6 plejecentre",
     ("30 % færre faldulykker om natten", "Tryghed for borgere og pårørende", "", ""), ""),
    (1, "Vejle Kommune", "piloting", date(2025, 4, 1), "1 plejecenter", ("", "", "", ""), ""),
    (2, "Aalborg Kommune", "implemented", date(2023, 6, 1), "180 borgere",
     ("Samme funktionsniveau som ved fremmødetræning", "", "", ""), ""),
    (2, "Esbjerg Kommune", "scaled", date(2021, 1, 1), "600 borgere",
     ("", "Borgerne træner oftere", "", "Terapeuterne når flere"), ""),
    (3, "Svendborg Kommune", "scaled", date(2020, 2, 1), "450 borgere",
     ("Færre fejl i medicineringen", "", "2,1 mio. kr. om året i frigjort tid", ""), ""),
    (3, "Kolding Kommune", "implemented", date(2022, 8, 1), "210 borgere",
     ("", "", "", ""), ""),
    (4, "Horsens Kommune", "implemented", date(2023, 3, 1), "90 borgere",
     ("", "Pårørende føler sig trygge", "", ""), ""),
    (4, "Viborg Kommune", "piloting", date(2025, 2, 1), "25 borgere", ("", "", "", ""), ""),
    (5, "Region Midtjylland", "implemented", date(2020, 9, 1), "1.900 borgere",
     ("Færre indlæggelser", "", "", ""), ""),
    (5, "Silkeborg Kommune", "implemented", date(2021, 11, 1), "140 borgere",
     ("", "", "", ""), ""),
]

# participant name → (bio, can help with, looking for, categories, learn, use)
PROFILES = {
    "Mette Holm": ("Har drevet skærmbesøg i Aarhus fra pilot til drift.",
                   "Skærmbesøg, gevinstrealisering, planlægning", "Erfaringer med faldsensorer",
                   ["sensors"], [1], [0]),
    "Søren Kjær": ("Teamleder i hjemmeplejen.", "Faldsensorer om natten",
                   "Skærmbesøg og videokonsultation", ["video"], [0], [1]),
    "Line Vestergaard": ("", "Digital genoptræning", "Medicinrobotter", ["medication"], [3],
                         [2]),
    "Camilla Bach": ("Terapeut med fokus på rehabilitering.", "Genoptræning på video", "",
                     ["rehabilitation"], [], [2]),
    "Henrik Dahl": ("Sundhedschef i Svendborg.", "Dispenserrobotter, skærmbesøg",
                    "Telemedicin", ["telemedicine"], [5], [3, 0]),
    "Pernille Krogh": ("", "", "Skærmbesøg", ["video"], [0], []),
    "Thomas Brandt": ("", "Innovationsprojekter", "Faldsensorer", ["sensors"], [1], []),
    "Maria Skov": ("", "", "GPS-alarmer til borgere med demens", ["aids"], [4], []),
    "Kasper Winther": ("", "", "Medicin og robotter", ["medication"], [3], []),
    "Anne Kirkegaard": ("", "GPS-alarmer", "", [], [], [4]),
    "Jesper Bundgaard": ("", "Telemedicin til KOL", "Digital genoptræning",
                         ["rehabilitation"], [2], [5]),
    "Signe Lauridsen": ("", "Dispenserrobotter", "", [], [], [3]),
    "Trine Nygaard": ("", "", "Skærmbesøg – vi prøver igen", ["video"], [0], []),
}


def load_directory(event: Event) -> None:
    """Solutions, experiences, presentations, profiles and interests, if not there yet."""
    if db.session.scalar(select(Solution.id).where(Solution.name == SOLUTIONS[0][0])):
        return
    orgs = {o.name: o for o in db.session.scalars(select(Organization))}
    sessions = {s.title: s for s in db.session.scalars(
        select(Session).where(Session.event_id == event.id))}
    regs = {r.name: r for r in db.session.scalars(
        select(Registration).where(Registration.event_id == event.id))}
    solutions = []
    for name, summary, cats, provider, maturity, session_title in SOLUTIONS:
        sol = Solution(name=name, summary=summary, maturity=maturity,
                       description=summary + ".", proposed_at_event_id=event.id,
                       provider_id=orgs[provider].id if provider in orgs else None,
                       public=len(solutions) < 2)
        sol.category_rows = [SolutionCategory(category=c) for c in cats]
        db.session.add(sol)
        db.session.flush()
        solutions.append(sol)
        session = sessions.get(session_title) if session_title else None
        if session is not None:
            db.session.add(Presentation(session_id=session.id, solution_id=sol.id,
                                        presenters=list(session.speakers)))
    for index, org, status, since, scale, effects, lessons in EXPERIENCES:
        contact = next((r for r in regs.values() if r.organization and
                        r.organization.name == org and r.directory_consent_at), None)
        db.session.add(Experience(
            solution_id=solutions[index].id, organization_id=orgs[org].id, status=status,
            since=since, scale=scale, effect_clinical=effects[0], effect_patient=effects[1],
            effect_economic=effects[2], effect_organisational=effects[3], lessons=lessons,
            contact_registration_id=contact.id if contact else None))
    for name, (bio, helps, looking, cats, learn, use) in PROFILES.items():
        reg = regs.get(name)
        if reg is None or reg.directory_consent_at is None:
            continue
        db.session.add(Profile(registration_id=reg.id, bio=bio, can_help_with=helps,
                               looking_for=looking, looking_for_categories=cats))
        for kind, indexes in (("learn", learn), ("use", use)):
            for i in indexes:
                db.session.add(Interest(registration_id=reg.id, solution_id=solutions[i].id,
                                        kind=kind, source="session"))
    db.session.flush()
