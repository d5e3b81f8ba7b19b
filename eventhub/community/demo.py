"""The demo's organizing organization: the cluster behind Del & Genbrug, its community
managers, and a few answers to the check-ins so the figures have something to show."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from eventhub.accounts.models import User
from eventhub.community.models import Checkin, CheckinAnswer, CommunityMember
from eventhub.events.models import Event, Organization, name_key
from eventhub.extensions import db
from eventhub.registration.models import Registration

HOST = "Velfærdsteknologisk Klynge"
MANAGERS = ("community@example.com", "arrangoer@example.com")


def host_for(event: Event) -> None:
    """Make the cluster the event's organizing organization (before its leads are made)."""
    host = db.session.scalar(select(Organization).where(Organization.name_key == name_key(HOST)))
    if host is None:
        host = Organization(name=HOST, name_key=name_key(HOST), kind="other")
        db.session.add(host)
        db.session.flush()
    event.host_organization_id = host.id
    for user in db.session.scalars(select(User).where(User.email.in_(MANAGERS))):
        if db.session.scalar(select(CommunityMember.id).where(
                CommunityMember.organization_id == host.id,
                CommunityMember.user_id == user.id)) is None:
            db.session.add(CommunityMember(organization_id=host.id, user_id=user.id))
    db.session.flush()


def load_community(event: Event) -> None:
    """Two answers to the three-month check-in: a barrier named, a test going on."""
    from eventhub.directory.models import Interest

    if db.session.scalar(select(Checkin.id).where(Checkin.event_id == event.id).limit(1)):
        return
    rows = db.session.execute(
        select(Registration, Interest.solution_id).join(
            Interest, Interest.registration_id == Registration.id)
        .where(Registration.event_id == event.id, Interest.kind == "learn")
        .order_by(Registration.id).limit(2)).all()
    for (reg, sid), (answer, barrier) in zip(rows, (("no", "ownership"), ("testing", "")),
                                             strict=False):
        checkin = Checkin(event_id=event.id, registration_id=reg.id, month=3,
                          solution_ids=[sid], sent_at=event.ends_at + timedelta(days=91))
        db.session.add(checkin)
        db.session.flush()
        db.session.add(CheckinAnswer(checkin_id=checkin.id, event_id=event.id, solution_id=sid,
                                     organization_id=reg.organization_id, answer=answer,
                                     barrier=barrier,
                                     answered_at=event.ends_at + timedelta(days=93)))
    db.session.flush()
