"""Badge scanning by the people of a solution: only consenting participants, a lead in
the follow-up with rating, notes and tags, a mail with a withdraw link; the scan code is
not the ticket, and neither side accepts the other's code."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from eventhub.errors import NotFound
from eventhub.extensions import db
from eventhub.followup.models import Lead
from eventhub.mail import OutboxMail
from eventhub.meetings.models import Scan
from eventhub.registration.models import Registration
from tests.support.client import Client, login
from tests.support.factories import registration_form
from tests.support.mail import body_of, delivered_mails
from tests.support.meetings import meeting_world


@pytest.fixture
def world(app):
    return meeting_world(app)


@pytest.fixture
def stand(app, world):
    client = Client(app, app.response_class)
    assert login(client, "stand@example.com").status_code == 302
    return client


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_an_exhibitor_scans_a_consenting_badge_into_a_lead(app, world, stand, mail_dir):
    page = stand.get("/e/moeder/scan").get_data(as_text=True)
    assert "Du scanner for Skærmbesøg" in page and "data-scanner" in page
    response = stand.post("/e/moeder/scan",
                          data={"code": f"http://localhost/s/{world['scan']['anna']}"})
    assert response.status_code == 302
    notes_page = response.headers["Location"]
    assert stand.post(notes_page, data={"rating": "4", "notes": "Vil låne to tablets",
                                        "tags": "pilot, aftenvagt"}).status_code == 302
    with app.app_context():
        scan = db.session.scalars(select(Scan)).one()
        assert (scan.rating, scan.notes, scan.tags) == (4, "Vil låne to tablets",
                                                       ["pilot", "aftenvagt"])
        lead = db.session.get(Lead, scan.lead_id)
        assert lead.registration_id == world["anna"] and lead.source == "scan"
        assert "Vil låne to tablets" in [e.text for e in lead.entries]
    mail = [m for m in delivered_mails(app, mail_dir) if m["To"] == "anna@aarhus.dk"][-1]
    assert "Dit badge er scannet for Skærmbesøg" in mail["Subject"]
    assert "stand@example.com" not in body_of(mail)
    assert re.search(r"http://localhost/e/moeder/scan/withdraw/\S+", body_of(mail))
    # The community manager sees the lead in the follow-up.
    cm = Client(app, app.response_class)
    login(cm, "cm@example.com")
    leads = cm.get("/manage/e/moeder/followup/leads").get_data(as_text=True)
    assert "Anna Andersen" in leads and "Skærmbesøg" in leads


def test_the_short_code_under_the_qr_can_be_typed_as_read(app, world, stand):
    with app.app_context():
        code = db.session.get(Registration, world["anna"]).scan_code
    assert len(code) == 8
    # Typed by hand: lower case, a space for the dash, and an O where the badge has a 0.
    typed = (code[:4] + " " + code[4:]).lower().replace("0", "o")
    response = stand.post("/e/moeder/scan", data={"code": typed})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Scan)).one().registration_id == world["anna"]
    other = "".join("1" if ch != "1" else "2" for ch in code)  # no one's code
    page = stand.post("/e/moeder/scan", data={"code": other})
    text = page.get_data(as_text=True)
    assert page.status_code == 404 and "Tjek de otte tegn" in text and other in text
    with app.app_context():
        assert _count(Scan) == 1


def test_a_participant_without_consent_cannot_be_scanned_and_nothing_is_stored(
        app, world, stand):
    page = stand.post("/e/moeder/scan", data={"code": world["scan"]["carl"]})
    assert page.status_code == 403
    assert "Carl Carlsen har ikke givet samtykke" in page.get_data(as_text=True)
    with app.app_context():
        assert _count(Scan) == 0 and _count(Lead) == 0
        assert db.session.scalar(select(func.count()).select_from(OutboxMail).where(
            OutboxMail.to_addr == "carl@odense.dk")) == 0


def test_ticket_codes_and_forged_tokens_are_refused(app, world, stand):
    for code in (world["tickets"]["anna"], f"http://localhost/t/{world['tickets']['anna']}"):
        page = stand.post("/e/moeder/scan", data={"code": code})
        assert page.status_code == 400
        assert "Det er en billet, ikke et badge" in page.get_data(as_text=True)
    page = stand.post("/e/moeder/scan", data={"code": "x" * 32})
    assert page.status_code == 404 and "Koden kendes ikke" in page.get_data(as_text=True)
    page = stand.post("/e/moeder/scan", data={"code": ""})
    assert page.status_code == 404
    with app.app_context():
        assert _count(Scan) == 0 and _count(Lead) == 0


def test_the_check_in_refuses_a_scan_code_and_the_ticket_page_does_not_open(app, world):
    from eventhub.events.models import Event
    from eventhub.registration import checkins
    with app.app_context():
        event = db.session.get(Event, world["event"])
        for typed in (world["scan"]["anna"], f"http://localhost/s/{world['scan']['anna']}"):
            with pytest.raises(NotFound):
                checkins.find_for_check_in(event, typed)
    client = app.test_client()
    assert client.get(f"/t/{world['scan']['anna']}").status_code == 404
    # The scan link itself shows no person and no ticket.
    page = client.get(f"/s/{world['scan']['anna']}").get_data(as_text=True)
    assert "Anna" not in page and "/t/" not in page and "udstillere" in page


def test_others_may_not_scan_but_presenters_of_the_solution_may(app, world, client):
    login(client, "cm@example.com")
    assert client.get("/e/moeder/scan").status_code == 403
    assert client.post("/e/moeder/scan", data={"code": world["scan"]["anna"]}
                       ).status_code == 403
    from eventhub.accounts.models import User
    from eventhub.meetings import scans
    with app.app_context():  # Bo presents Skærmbesøg in the programme
        bo = db.session.get(Registration, world["bo"])
        user = User(email="bo@svendborg.dk", name="Bo Bertelsen")
        db.session.add(user)
        db.session.flush()
        bo.user_id = user.id
        assert [s.name for s in scans.scanner_solutions(user, bo.event)] == ["Skærmbesøg"]
        db.session.rollback()


def test_bad_rating_keeps_what_was_typed(app, world, stand):
    location = stand.post("/e/moeder/scan", data={"code": world["scan"]["anna"]}
                          ).headers["Location"]
    page = stand.post(location, data={"rating": "9", "notes": "Ring i januar", "tags": ""})
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "fra 0 til 5" in text and "Ring i januar" in text
    with app.app_context():
        assert db.session.scalars(select(Scan)).one().notes == ""


def test_the_scanned_person_withdraws_from_the_mail_link(app, world, stand, mail_dir, client):
    stand.post("/e/moeder/scan", data={"code": world["scan"]["anna"]})
    mail = [m for m in delivered_mails(app, mail_dir) if m["To"] == "anna@aarhus.dk"][-1]
    link = re.search(r"http://localhost(/e/moeder/scan/withdraw/\S+)", body_of(mail)).group(1)
    assert "Træk tilbage" in client.get(link).get_data(as_text=True)
    assert client.post(link, data={}).status_code == 200
    with app.app_context():
        assert _count(Scan) == 0 and _count(Lead) == 0
        assert db.session.get(Registration, world["anna"]).scan_consent_at is None
    page = stand.post("/e/moeder/scan", data={"code": world["scan"]["anna"]})
    assert page.status_code == 403 and "ikke givet samtykke" in page.get_data(as_text=True)
    assert client.get(link).status_code == 404


def test_scans_are_in_my_data_and_forgotten(app, world, stand, client):
    location = stand.post("/e/moeder/scan", data={"code": world["scan"]["anna"]}
                          ).headers["Location"]
    stand.post(location, data={"rating": "3", "notes": "Ring i januar", "tags": "kol"})
    page = client.get(f"/r/{world['tokens']['anna']}/my-data").get_data(as_text=True)
    assert "Scanninger af dit badge" in page and "Skærmbesøg" in page
    from eventhub.privacy import services as privacy
    with app.app_context():
        privacy.forget([world["anna"]])
        db.session.commit()
        scan = db.session.scalars(select(Scan)).one()
        assert scan.registration_id is None and scan.notes == "" and scan.tags == []
        assert scan.rating == 3  # the figures stay


def test_registration_asks_for_scan_consent_unticked(app, world, client):
    page = client.get("/e/moeder/register").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="scan_consent"[^>]*>', page).group(0)
    assert "checked" not in box
    assert "Udstillere og oplægsholdere må scanne mit badge" in page
    for email, ticked in (("ja@vejle.dk", True), ("nej@vejle.dk", False)):
        form = registration_form(email=email, name="Vejle Person")
        if ticked:
            form["scan_consent"] = "y"
        assert client.post("/e/moeder/register", data=form).status_code == 302
    with app.app_context():
        got = dict(db.session.execute(select(Registration.email, Registration.scan_consent_at)
                                      .where(Registration.email.like("%@vejle.dk"))).all())
        assert got["ja@vejle.dk"] is not None and got["nej@vejle.dk"] is None


def test_scan_consent_is_withdrawn_on_my_data(app, world, stand, client):
    page = client.get(f"/r/{world['tokens']['anna']}/my-data").get_data(as_text=True)
    assert "Udstillere og oplægsholdere må scanne dit badge" in page
    assert client.post(f"/r/{world['tokens']['anna']}/my-data/consents/badge_scan/withdraw",
                       data={}).status_code == 302
    page = stand.post("/e/moeder/scan", data={"code": world["scan"]["anna"]})
    assert page.status_code == 403 and "ikke givet samtykke" in page.get_data(as_text=True)
