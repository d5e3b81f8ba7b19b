"""A meeting world for tests, the benchmark and the browser journey: an event with
meeting periods and tables, listed participants, a solution someone runs."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from eventhub.db import utcnow
from eventhub.directory.models import Experience, Presentation, Solution
from eventhub.events.models import COMMUNITY_MANAGER, EventRole, Organization
from eventhub.extensions import db
from eventhub.meetings import services, setup
from eventhub.programme.models import Speaker
from eventhub.registration.models import Registration
from tests.support.factories import PASSWORD, make_event, make_session, make_user

DAY = datetime(2027, 3, 10, tzinfo=UTC)
PERIODS = "12:30-14:00\n15:00-15:45"  # Copenhagen: 11:30-13:00 and 14:00-14:45 UTC


def org_id(name: str, kind: str = "municipality") -> int:
    found = db.session.scalar(select(Organization.id).where(Organization.name == name))
    if found is None:
        org = Organization(name=name, name_key=name.casefold(), kind=kind)
        db.session.add(org)
        db.session.flush()
        found = org.id
    return found


def person(event_id: int, email: str, name: str, org: str, *, consent: bool = True,
           scan: bool = False, kind: str = "municipality") -> Registration:
    reg = Registration(event_id=event_id, email=email, name=name, job_title="Projektleder",
                       organization_id=org_id(org, kind), status="confirmed",
                       directory_consent_at=utcnow() if consent else None,
                       scan_consent_at=utcnow() if scan else None)
    db.session.add(reg)
    db.session.flush()
    return reg


def setup_meetings(app, event_id: int, *, tables: int = 3, slot_minutes: int = 15,
                   periods: str = PERIODS, max_pending: int = 5, organizer=None) -> None:
    with app.app_context():
        from eventhub.events.models import Event
        event = db.session.get(Event, event_id)
        actor = organizer or _admin()
        setup.save_setup(actor, event, setup.SetupData(
            enabled=True, slot_minutes=slot_minutes, periods=periods, tables=tables,
            max_pending=max_pending))
        db.session.commit()


def _admin():
    from eventhub.accounts.models import User
    user = db.session.scalar(select(User).where(User.email == "admin-meetings@example.com"))
    if user is None:
        user = User(email="admin-meetings@example.com", name="Admin", is_admin=True)
        db.session.add(user)
        db.session.flush()
    return user


def meeting_world(app, slug: str = "moeder") -> dict:
    """Anna (Aarhus) and Bo (Svendborg, runs "Skærmbesøg") listed and scannable, Carl
    (Odense) in neither; an organizer, a community manager and an exhibitor for the
    solution; meeting periods 12:30-14:00 and 15:00-15:45 with 15-minute slots and 3
    tables."""
    organizer = make_user(app, "arr@example.com", password=PASSWORD)
    cm = make_user(app, "cm@example.com", password=PASSWORD)
    exhibitor = make_user(app, "stand@example.com", password=PASSWORD)
    event_id = make_event(app, slug, organizer_id=organizer,
                          title="Del & Genbrug 2027", venue="Odense Congress Center")
    session_id = make_session(app, event_id, "Skærmbesøg i hjemmeplejen",
                              datetime(2027, 3, 10, 11, 30, tzinfo=UTC),
                              datetime(2027, 3, 10, 12, 0, tzinfo=UTC))
    with app.app_context():
        db.session.add(EventRole(event_id=event_id, user_id=cm, role=COMMUNITY_MANAGER))
        anna = person(event_id, "anna@aarhus.dk", "Anna Andersen", "Aarhus Kommune", scan=True)
        bo = person(event_id, "bo@svendborg.dk", "Bo Bertelsen", "Svendborg Kommune",
                    scan=True)
        carl = person(event_id, "carl@odense.dk", "Carl Carlsen", "Odense Kommune",
                      consent=False)
        sol = Solution(name="Skærmbesøg", summary="Videobesøg i stedet for kørsel",
                       description="Borgeren får en tablet til planlagte skærmbesøg.")
        db.session.add(sol)
        db.session.flush()
        db.session.add(Experience(solution_id=sol.id, organization_id=bo.organization_id,
                                  status="implemented", contact_registration_id=bo.id))
        speaker = Speaker(session_id=session_id, name="Bo Bertelsen",
                          organization="Svendborg Kommune", registration_id=bo.id)
        db.session.add(speaker)
        db.session.flush()
        db.session.add(Presentation(session_id=session_id, solution_id=sol.id,
                                    presenters=[speaker]))
        from eventhub.meetings.models import Exhibitor
        db.session.add(Exhibitor(event_id=event_id, user_id=exhibitor, solution_id=sol.id))
        db.session.commit()
        world = dict(event=event_id, slug=slug, session=session_id, anna=anna.id, bo=bo.id,
                     carl=carl.id, solution=sol.id, organizer=organizer, cm=cm,
                     exhibitor=exhibitor,
                     tokens={r.name.split()[0].lower(): r.manage_token
                             for r in (anna, bo, carl)},
                     scan={r.name.split()[0].lower(): r.scan_token for r in (anna, bo, carl)},
                     tickets={r.name.split()[0].lower(): r.ticket_code
                              for r in (anna, bo, carl)})
    setup_meetings(app, event_id)
    return world


def slot_at(hour: int, minute: int) -> str:
    """A slot's form value for a UTC wall-clock time on the event's day."""
    return services.slot_value(DAY.replace(hour=hour, minute=minute))
