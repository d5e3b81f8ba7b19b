"""Audit log: staff actions are recorded with who, what and when — never a participant's
name or email — and organizers (only) read their event's log, a page at a time."""

import pytest
from sqlalchemy import select

from eventhub.audit import PAGE_SIZE, AuditEntry, record
from eventhub.events.models import CHECKIN, Event, EventRole
from eventhub.extensions import db
from eventhub.registration.models import Registration
from tests.support.client import Client, login
from tests.support.factories import EVENT_FORM, PASSWORD, make_event, make_registration, make_user

NAME, EMAIL = "Kirsten Kvist", "kirsten.kvist@example.dk"


@pytest.fixture
def organizer(app, client):
    user_id = make_user(app, "org@example.com", password=PASSWORD)
    make_event(app, "dag", title="Del og Genbrug", organizer_id=user_id)
    login(client, "org@example.com")
    return user_id


def actions(app) -> list[tuple[str, str, int | None]]:
    with app.app_context():
        return [(e.action, e.target, e.actor_id) for e in db.session.scalars(
            select(AuditEntry).order_by(AuditEntry.id))]


def test_staff_actions_are_logged_without_personal_data(app, client, organizer):
    with app.app_context():
        event_id = db.session.scalar(select(Event.id))
        db.session.get(Event, event_id).requires_approval = True
        db.session.commit()
    reg_id, _token = make_registration(app, event_id, EMAIL, NAME, status="pending")

    client.get("/manage/e/dag/registrations.csv")
    client.get("/manage/e/dag/registrations.xlsx")
    client.get("/manage/e/dag/badges.pdf")
    client.post("/manage/e/dag/registrations/import", data={
        "csv_text": "navn;e-mail;organisation\nBo Berg;bo@example.dk;Odense Kommune\n",
        "confirm": "1"})
    client.post(f"/manage/e/dag/registrations/{reg_id}/approve", data={})
    client.post(f"/manage/e/dag/registrations/{reg_id}", data={
        "name": NAME + " Jensen", "email": EMAIL, "organization": "Aarhus Kommune",
        "badge_role": "participant"})
    with app.app_context():
        code = db.session.get(Registration, reg_id).ticket_code
    client.post(f"/t/{code}/checkin", data={})
    client.post(f"/t/{code}/undo", data={})
    client.post(f"/manage/e/dag/registrations/{reg_id}/cancel", data={})
    client.post("/manage/e/dag/staff", data={"email": "hjaelper@example.com", "name": "Hjælper",
                                             "role": CHECKIN})
    with app.app_context():
        role_id = db.session.scalar(select(EventRole.id).where(EventRole.role == CHECKIN))
    client.post(f"/manage/e/dag/staff/{role_id}/remove", data={})
    client.post("/manage/e/dag/edit", data={**EVENT_FORM, "slug": "dag"})
    client.get("/manage/e/dag/polls/export.csv")
    client.get("/manage/e/dag/polls/export.pdf")

    logged = actions(app)
    assert [a for a, _t, _u in logged] == [
        "registrations.export", "registrations.export", "badges.print",
        "registrations.import", "registration.approve", "registration.edit",
        "registration.checkin", "registration.checkin_undo", "registration.cancel",
        "staff.invite", "staff.remove", "event.edit", "polls.export", "polls.export"]
    assert {u for _a, _t, u in logged} == {organizer}
    assert ("registration.approve", f"#{reg_id}", organizer) in logged
    assert logged[0][1].startswith("CSV") and logged[1][1].startswith("XLSX")
    for _action, target, _user in logged:
        assert NAME not in target and "kirsten" not in target.lower()
        assert "@" not in target and "Bo Berg" not in target

    # The posts' redirects were not followed: their messages ("… er godkendt"), which
    # name the person, wait in the session; the page a browser was sent to shows them.
    client.get("/manage/e/dag")
    page = client.get("/manage/e/dag/log").get_data(as_text=True)
    for label in ("Tilmeldinger eksporteret", "Tilmelding godkendt", "Checket ind",
                  "Check-in fortrudt", "Rolle givet", "Arrangement ændret",
                  "Afstemninger eksporteret", "Tilmeldinger importeret"):
        assert label in page, label
    assert NAME not in page
    english = client.get("/manage/e/dag/log?lang=en").get_data(as_text=True)
    assert "Registration approved" in english


def test_check_in_staff_actions_are_logged_too(app, client, organizer):
    with app.app_context():
        event_id = db.session.scalar(select(Event.id))
    helper = make_user(app, "helper@example.com", password=PASSWORD)
    with app.app_context():
        db.session.add(EventRole(event_id=event_id, user_id=helper, role=CHECKIN))
        db.session.commit()
    reg_id, _ = make_registration(app, event_id, EMAIL, NAME)
    with app.app_context():
        code = db.session.get(Registration, reg_id).ticket_code
    staff = Client(app, app.response_class)
    login(staff, "helper@example.com")
    staff.post(f"/t/{code}/checkin", data={})
    staff.post(f"/t/{code}/checkin", data={})  # a second scan changes nothing
    assert actions(app) == [("registration.checkin", f"#{reg_id}", helper)]
    assert staff.get("/manage/e/dag/log").status_code == 403  # the log is for organizers


def test_log_is_paged_newest_first_and_closed_to_others(app, client, organizer):
    with app.app_context():
        event = db.session.scalar(select(Event))
        for n in range(PAGE_SIZE + 5):
            record(db.session.get(type(event.roles[0].user), organizer), event,
                   "registration.edit", f"#{n}")
        db.session.commit()
    first = client.get("/manage/e/dag/log").get_data(as_text=True)
    assert f"#{PAGE_SIZE + 4}" in first and "<td>#0</td>" not in first
    assert "Side 1 af 2" in first
    second = client.get("/manage/e/dag/log?page=2").get_data(as_text=True)
    assert "<td>#0</td>" in second and f"#{PAGE_SIZE + 4}<" not in second
    assert client.get("/manage/e/dag/log?page=99").status_code == 200  # clamped
    assert client.get("/manage/e/dag/log?page=x").status_code == 200

    other = make_user(app, "other@example.com", password=PASSWORD)
    make_event(app, "andet", organizer_id=other)
    stranger = Client(app, app.response_class)
    login(stranger, "other@example.com")
    assert stranger.get("/manage/e/dag/log").status_code == 403
    assert app.test_client().get("/manage/e/dag/log").status_code == 302  # sign in first
