"""Events: public pages, drafts, creating and editing, staff roles, organizations."""

import pytest
from sqlalchemy import select

from eventhub.events.models import CHECKIN, DRAFT, EventRole, Organization
from eventhub.events.services import find_or_create_organization
from eventhub.extensions import db
from tests.support.client import login
from tests.support.factories import EVENT_FORM, PASSWORD, get_event, make_event, make_user
from tests.support.mail import body_of, delivered_mails, link_in


@pytest.fixture
def admin(app, client):
    make_user(app, "admin@example.com", admin=True)
    login(client, "admin@example.com")
    return client


def test_front_page_lists_published_events_only(client, app):
    make_event(app, "synlig", title="Synligt arrangement")
    make_event(app, "kladde", title="Hemmelig kladde", status=DRAFT)
    page = client.get("/").get_data(as_text=True)
    assert "Synligt arrangement" in page
    assert "Hemmelig kladde" not in page


def test_event_page_shows_copenhagen_time(client, app):
    make_event(app, "synlig")  # starts 08:00 UTC = 09:00 in Copenhagen (winter time)
    page = client.get("/e/synlig").get_data(as_text=True)
    assert "kl. 09:00" in page
    assert "15:00" in page


def test_draft_visible_only_to_its_staff(client, app):
    organizer = make_user(app, "org@example.com", password=PASSWORD)
    make_user(app, "other@example.com", password=PASSWORD)
    make_event(app, "kladde", status=DRAFT, organizer_id=organizer)
    assert client.get("/e/kladde").status_code == 404
    login(client, "other@example.com")
    assert client.get("/e/kladde").status_code == 404
    client.post("/logout", data={})
    login(client, "org@example.com")
    page = client.get("/e/kladde")
    assert page.status_code == 200
    assert "Forhåndsvisning – ikke offentliggjort" in page.get_data(as_text=True)


def test_admin_creates_event_and_becomes_organizer(admin, app):
    response = admin.post("/manage/events/new", data=EVENT_FORM)
    assert response.status_code == 302
    event = get_event(app, "velfaerdsteknologi-i-praksis")
    assert event.title == "Velfærdsteknologi i praksis"
    assert event.starts_at.hour == 8  # 09:00 Copenhagen is 08:00 UTC in March
    assert event.capacity == 80
    with app.app_context():
        roles = db.session.scalars(select(EventRole.role).where(EventRole.event_id == event.id))
        assert list(roles) == ["organizer"]
    assert admin.get("/e/velfaerdsteknologi-i-praksis").status_code == 200


def test_a_new_event_is_a_draft_until_published_through_the_checklist(admin, app):
    # The form has no status: a "published" sent along is not how an event is published.
    admin.post("/manage/events/new", data={**EVENT_FORM, "status": "published"})
    assert get_event(app, "velfaerdsteknologi-i-praksis").status == "draft"


def test_summer_time_is_respected(admin, app):
    admin.post("/manage/events/new", data={**EVENT_FORM, "slug": "sommer",
                                            "starts_at": "2027-06-10T09:00",
                                            "ends_at": "2027-06-10T16:00",
                                            "registration_closes_at": ""})
    assert get_event(app, "sommer").starts_at.hour == 7  # CEST is UTC+2


@pytest.mark.parametrize("changes,field,message", [
    ({"ends_at": "2027-03-10T08:00"}, "ends_at", "Slut skal ligge efter start."),
    ({"title": ""}, "title", "Skriv en titel."),
    ({"starts_at": "i morgen"}, "starts_at", "Skriv dato og klokkeslæt"),
    ({"capacity": "mange"}, "capacity", "Skriv et helt tal."),
    ({"slug": "Store Bogstaver!"}, "slug", "Kortnavnet må kun indeholde"),
])
def test_event_form_errors_are_danish_and_keep_typed_values(admin, app, changes, field, message):
    data = {**EVENT_FORM, **changes}
    response = admin.post("/manage/events/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'id="{field}-error"' in page
    assert 'value="Odense Rådhus"' in page  # what was typed is kept
    assert "En dag om skærmbesøg." in page
    assert get_event(app, "velfaerdsteknologi-i-praksis") is None


def test_slug_already_taken(admin, app):
    make_event(app, "optaget")
    response = admin.post("/manage/events/new", data={**EVENT_FORM, "slug": "optaget"})
    assert response.status_code == 422
    assert "er allerede brugt" in response.get_data(as_text=True)


def test_organizer_edits_event_other_staff_cannot(client, app):
    organizer = make_user(app, "org@example.com", password=PASSWORD)
    checker = make_user(app, "check@example.com", password=PASSWORD)
    event_id = make_event(app, "redig", organizer_id=organizer)
    with app.app_context():
        db.session.add(EventRole(event_id=event_id, user_id=checker, role=CHECKIN))
        db.session.commit()
    login(client, "check@example.com")
    assert client.get("/manage/e/redig").status_code == 200  # staff can see the overview
    assert client.get("/manage/e/redig/edit").status_code == 403
    edit = client.post("/manage/e/redig/edit", data={**EVENT_FORM, "slug": "redig"})
    assert edit.status_code == 403
    client.post("/logout", data={})

    login(client, "org@example.com")
    form = client.get("/manage/e/redig/edit").get_data(as_text=True)
    assert 'value="2027-03-10T09:00"' in form  # shown in Copenhagen time
    response = client.post("/manage/e/redig/edit", data={**EVENT_FORM, "slug": "redig",
                                                          "title": "Nyt navn"})
    assert response.status_code == 302
    assert get_event(app, "redig").title == "Nyt navn"


def test_participant_cannot_create_events(client, app):
    make_user(app, "p@example.com", password=PASSWORD)
    login(client, "p@example.com")
    assert client.get("/manage/events/new").status_code == 403


def test_organizer_invites_staff_by_email(client, app, mail_dir):
    organizer = make_user(app, "org@example.com", password=PASSWORD)
    make_event(app, "hold", organizer_id=organizer)
    login(client, "org@example.com")
    response = client.post("/manage/e/hold/staff", data={
        "email": "Kollega@Example.com", "name": "Kim Kollega", "role": "community_manager",
    })
    assert response.status_code == 302
    mails = [m for m in delivered_mails(app, mail_dir) if m["To"] == "kollega@example.com"]
    assert len(mails) == 1
    assert "Arrangement hold" in mails[0]["Subject"]
    assert "som community manager" in body_of(mails[0])
    path = link_in(mails[0])

    colleague = app.test_client()
    page = colleague.get(path)
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
    response = colleague.post(path, data={"csrf_token": token.split('"')[0]})
    assert response.headers["Location"] == "/manage/e/hold"
    assert colleague.get("/manage/e/hold").status_code == 200


def test_invite_errors(client, app):
    organizer = make_user(app, "org@example.com", password=PASSWORD)
    make_event(app, "hold", organizer_id=organizer)
    login(client, "org@example.com")
    bad = client.post("/manage/e/hold/staff", data={"email": "nej", "role": "organizer"})
    assert bad.status_code == 422
    assert "Skriv en gyldig e-mailadresse" in bad.get_data(as_text=True)
    twice = client.post("/manage/e/hold/staff", data={"email": "org@example.com",
                                                      "role": "organizer"})
    assert "har allerede den rolle" in twice.get_data(as_text=True)


def test_last_organizer_cannot_be_removed(client, app):
    organizer = make_user(app, "org@example.com", password=PASSWORD)
    event_id = make_event(app, "hold", organizer_id=organizer)
    login(client, "org@example.com")
    with app.app_context():
        role_id = db.session.scalar(select(EventRole.id).where(EventRole.event_id == event_id))
    response = client.post(f"/manage/e/hold/staff/{role_id}/remove", data={},
                           follow_redirects=True)
    assert "mindst én arrangør" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(EventRole, role_id) is not None


def test_organizations_match_case_insensitively(app):
    with app.app_context():
        a = find_or_create_organization("aarhus  KOMMUNE")
        assert a.code == "751"  # the reference row, not a new one
        b = find_or_create_organization("Tryghedsteknik ApS", "company")
        c = find_or_create_organization("tryghedsteknik aps")
        assert b.id == c.id and c.kind == "company"
        db.session.commit()
        count = db.session.query(Organization).filter(Organization.code.is_(None)).count()
        assert count == 1


def test_organization_search_suggests_reference_data(client):
    names = [o["name"] for o in client.get("/organizations/search?q=aar").json]
    assert "Aarhus Kommune" in names
    assert client.get("/organizations/search?q=").json == []
