"""Preview and publish: a draft's public pages as participants will see them, under a
banner; "Offentliggør" through a checklist that names what is missing; making a
published event a draft again warns when people have registered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from eventhub.audit import AuditEntry
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.registration.models import Registration
from tests.support.client import login
from tests.support.factories import (
    PASSWORD,
    get_event,
    make_event,
    make_registration,
    make_session,
    make_user,
    registration_form,
)
from tests.support.plain_words import visible_text

BANNER = "Forhåndsvisning – ikke offentliggjort"


@pytest.fixture
def organizer(app, client):
    make_user(app, "org@example.com", password=PASSWORD)
    login(client, "org@example.com")
    return client


def _draft(app, slug="kladde", **fields) -> int:
    org = make_user(app, "org@example.com")  # the signed-in organizer (password unchanged)
    return make_event(app, slug, status="draft", organizer_id=org, **fields)


def _ready(app, event_id: int) -> None:
    """Fill in everything the checklist asks for."""
    now = datetime.now(UTC)
    with app.app_context():
        event = db.session.get(Event, event_id)
        event.venue, event.capacity = "Dokk1, Aarhus", 100
        event.privacy_notice = "Vi bruger dine oplysninger til at afvikle dagen."
        event.registration_opens_at = now - timedelta(days=1)
        event.registration_closes_at = event.starts_at - timedelta(days=1)
        if hasattr(Event, "contact_email"):
            event.contact_email = "info@example.dk"
        db.session.commit()
        start = event.starts_at
    make_session(app, event_id, "Velkommen", start, start + timedelta(hours=1))


def _text(response) -> str:
    return " ".join(visible_text(response.get_data(as_text=True))[0])


def test_staff_preview_every_public_page_of_a_draft_under_a_banner(app, organizer):
    event_id = _draft(app, venue="Dokk1")
    start = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    session = make_session(app, event_id, "Velkommen", start, start + timedelta(hours=1))
    for path in ("/e/kladde", "/e/kladde/programme", f"/e/kladde/programme/{session}",
                 "/e/kladde/register", "/e/kladde/my-day", "/e/kladde/privacy"):
        response = organizer.get(path)
        assert response.status_code == 200, path
        assert BANNER in _text(response), path
    # Staff pages carry no banner; anyone else finds no draft at all.
    assert BANNER not in _text(organizer.get("/manage/e/kladde"))
    assert app.test_client().get("/e/kladde").status_code == 404
    assert app.test_client().get("/e/kladde/programme").status_code == 404


def test_the_preview_registration_form_shows_but_cannot_be_sent(app, organizer):
    event_id = _draft(app, venue="Dokk1")
    page = organizer.get("/e/kladde/register")
    text = _text(page)
    assert "Tilmeld mig" in text and "Tilmeldingen er lukket" not in text
    assert "disabled" in page.get_data(as_text=True)
    event_page = _text(organizer.get("/e/kladde"))
    assert "Tilmeld dig" in event_page  # the button participants will see

    sent = organizer.post("/e/kladde/register", data=registration_form())
    assert sent.status_code == 409
    assert "forhåndsvisning" in _text(sent).lower() and "Intet er gemt" in _text(sent)
    assert 'value="Mette Holm"' in sent.get_data(as_text=True)  # what was typed is kept
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration).where(
            Registration.event_id == event_id)) == 0


def test_publish_checklist_names_what_is_missing_and_publishes_when_complete(app, organizer):
    event_id = _draft(app)
    page = _text(organizer.get("/manage/e/kladde"))
    assert "Offentliggør" in page and "Der mangler" in page

    checklist = _text(organizer.get("/manage/e/kladde/publish"))
    for missing in ("Sted", "Antal pladser", "Privatlivspolitik", "Tilmeldingsperiode",
                    "Program"):
        assert missing in checklist
    assert ("Kontaktadresse" in checklist) == hasattr(Event, "contact_email")

    refused = organizer.post("/manage/e/kladde/publish", data={})
    assert refused.status_code == 422
    message = _text(refused)
    assert "kan ikke offentliggøres endnu" in message
    assert "sted" in message and "program" in message
    assert get_event(app, "kladde").status == "draft"  # nothing half-done

    _ready(app, event_id)
    assert "i orden" in _text(organizer.get("/manage/e/kladde/publish"))
    done = organizer.post("/manage/e/kladde/publish", data={})
    assert done.status_code == 302
    assert get_event(app, "kladde").status == "published"
    assert app.test_client().get("/e/kladde").status_code == 200  # now everyone sees it
    assert BANNER not in _text(organizer.get("/e/kladde"))
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.action).where(
            AuditEntry.action == "event.publish")) == "event.publish"
    log = _text(organizer.get("/manage/e/kladde/log"))
    assert "Arrangement offentliggjort" in log


def test_missing_contact_address_is_one_more_rule(app, organizer):
    """With the contact fields on the event, an empty address blocks publishing."""
    event_id = _draft(app)
    _ready(app, event_id)
    if not hasattr(Event, "contact_email"):
        from eventhub.events import publishing

        with app.app_context():
            assert "contact" not in {r.key for r in publishing.missing(
                db.session.get(Event, event_id))}
        assert organizer.post("/manage/e/kladde/publish", data={}).status_code == 302
        return
    with app.app_context():
        db.session.get(Event, event_id).contact_email = ""
        db.session.commit()
    refused = organizer.post("/manage/e/kladde/publish", data={})
    assert refused.status_code == 422 and "kontaktadresse" in _text(refused)
    assert get_event(app, "kladde").status == "draft"


def test_only_organizers_publish(app, client):
    org = make_user(app, "org@example.com", password=PASSWORD)
    make_user(app, "check@example.com", password=PASSWORD)
    event_id = make_event(app, "kladde", status="draft", organizer_id=org)
    _ready(app, event_id)
    with app.app_context():
        from eventhub.accounts.models import User
        from eventhub.events.models import CHECKIN, EventRole

        user = db.session.scalar(select(User).where(User.email == "check@example.com"))
        db.session.add(EventRole(event_id=event_id, user_id=user.id, role=CHECKIN))
        db.session.commit()
    login(client, "check@example.com")
    assert client.post("/manage/e/kladde/publish", data={}).status_code == 403
    assert get_event(app, "kladde").status == "draft"


def test_unpublish_warns_when_people_have_registered(app, organizer):
    event_id = _draft(app)
    _ready(app, event_id)
    organizer.post("/manage/e/kladde/publish", data={})
    make_registration(app, event_id, "a@example.dk")
    make_registration(app, event_id, "b@example.dk")

    warning = _text(organizer.get("/manage/e/kladde/unpublish"))
    assert "2 personer er tilmeldt" in warning
    refused = organizer.post("/manage/e/kladde/unpublish", data={})
    assert refused.status_code == 409
    assert get_event(app, "kladde").status == "published"
    done = organizer.post("/manage/e/kladde/unpublish", data={"confirm": "y"})
    assert done.status_code == 302
    assert get_event(app, "kladde").status == "draft"
    with app.app_context():  # the registrations are kept
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 2


def test_unpublish_without_registrations_needs_no_warning(app, organizer):
    event_id = _draft(app)
    _ready(app, event_id)
    organizer.post("/manage/e/kladde/publish", data={})
    assert "tilmeldt" not in _text(organizer.get("/manage/e/kladde/unpublish"))
    assert organizer.post("/manage/e/kladde/unpublish", data={}).status_code == 302
    assert get_event(app, "kladde").status == "draft"


def test_close_and_archive_buttons(app, organizer):
    event_id = _draft(app)
    _ready(app, event_id)
    organizer.post("/manage/e/kladde/publish", data={})
    assert organizer.post("/manage/e/kladde/status/close", data={}).status_code == 302
    assert get_event(app, "kladde").status == "closed"
    assert organizer.post("/manage/e/kladde/status/archive", data={}).status_code == 302
    assert get_event(app, "kladde").status == "archived"
    wrong = organizer.post("/manage/e/kladde/status/close", data={})
    assert wrong.status_code == 302
    assert "kan ikke lade sig gøre" in _text(organizer.get("/manage/e/kladde"))
    assert get_event(app, "kladde").status == "archived"


def test_the_edit_form_has_no_status_to_bypass_the_checklist(app, organizer):
    _draft(app)
    page = organizer.get("/manage/e/kladde/edit").get_data(as_text=True)
    assert 'name="status"' not in page
