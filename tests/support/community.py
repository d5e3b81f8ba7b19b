"""A small world for the reuse trail: an organizing organization with a community
manager, one event it hosts that is over, participants who want to know more."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from eventhub.community.models import CommunityMember
from eventhub.db import utcnow
from eventhub.directory.models import Interest, Solution
from eventhub.events.models import Event, EventSeries, Organization
from eventhub.extensions import db
from eventhub.registration.models import Registration
from tests.support.factories import make_event, make_user

T0 = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)  # the event ends


def org_id(name: str) -> int:
    return db.session.scalar(select(Organization.id).where(Organization.name == name))


def person(event_id: int, email: str, name: str, org: str, **kw) -> Registration:
    reg = Registration(event_id=event_id, email=email, name=name, organization_id=org_id(org),
                       status="confirmed", directory_consent_at=utcnow(), **kw)
    db.session.add(reg)
    db.session.flush()
    return reg


def build(app, slug: str = "del-genbrug-2027", ends_at: datetime = T0) -> dict:
    organizer = make_user(app, "arr@klynge.dk")
    cm = make_user(app, "cm@klynge.dk")
    event_id = make_event(app, slug, organizer_id=organizer, starts_at=ends_at - timedelta(
        hours=7), ends_at=ends_at, title="Del & Genbrug 2027",
        retention_until=(ends_at + timedelta(days=400)).date())
    with app.app_context():
        host = Organization(name="Velfærdsklyngen", name_key="velfærdsklyngen", kind="other")
        series = EventSeries(name="Del & Genbrug")
        db.session.add_all([host, series])
        db.session.flush()
        event = db.session.get(Event, event_id)
        event.host_organization_id, event.series_id = host.id, series.id
        db.session.add(CommunityMember(organization_id=host.id, user_id=cm))
        sol = Solution(name="Skærmbesøg", summary="Videobesøg i stedet for kørsel", public=True)
        db.session.add(sol)
        db.session.flush()
        anna = person(event_id, "anna@aarhus.dk", "Anna Andersen", "Aarhus Kommune",
                      phone="+45 20 30 40 50", followup_consent_at=utcnow())
        dorte = person(event_id, "dorte@vejle.dk", "Dorte Dam", "Vejle Kommune")
        carl = person(event_id, "carl@odense.dk", "Carl Carlsen", "Odense Kommune")
        for reg in (anna, dorte, carl):
            db.session.add(Interest(registration_id=reg.id, solution_id=sol.id, kind="learn"))
        db.session.commit()
        return dict(event=event_id, host=host.id, series=series.id, solution=sol.id,
                    anna=anna.id, dorte=dorte.id, carl=carl.id, organizer=organizer, cm=cm)


def months_later(moment: datetime, months: int, **extra) -> datetime:
    from eventhub.community.checkins import add_months

    return add_months(moment, months) + timedelta(**extra)


def day(moment: datetime) -> date:
    return moment.date()
