"""A participant registers, gets a receipt, mail with ticket and calendar, and manages
the registration through the personal link."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from eventhub.events.models import CLOSED, DRAFT
from eventhub.extensions import db
from eventhub.registration.models import Answer, Registration
from tests.support.factories import add_question, make_event, registration_form, registrations_of
from tests.support.mail import body_of, delivered_mails


@pytest.fixture
def event_id(app):
    return make_event(app, "dag", title="Del og Genbrug", capacity=2)


def register(client, slug="dag", **overrides):
    return client.post(f"/e/{slug}/register", data=registration_form(**overrides))


def personal_path(response) -> str:
    return re.match(r"(/r/[^?]+)", response.headers["Location"]).group(1)


def test_register_confirms_and_shows_a_receipt(client, app, event_id, mail_dir):
    form = client.get("/e/dag/register").get_data(as_text=True)
    assert 'list="organizations"' in form and "<option value=\"Aarhus Kommune\">" in form
    consent = re.search(r'<input[^>]*name="directory_consent"[^>]*>', form).group(0)
    assert "checked" not in consent  # the consent is not ticked in advance
    assert "/e/dag/privacy" in form

    response = register(client, directory_consent="y")
    assert response.status_code == 302
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tak for din tilmelding, Mette Holm!" in receipt
    assert "Bekræftet" in receipt
    assert "Aarhus Kommune" in receipt
    assert "Ja, du vises" in receipt

    [mail] = delivered_mails(app, mail_dir)
    assert mail["To"] == "mette.holm@aarhus.example.dk"
    assert mail["Subject"] == "Du er tilmeldt Del og Genbrug"
    body = body_of(mail)
    assert personal_path(response) in body
    names = {part.get_filename(): part for part in mail.iter_attachments()}
    assert set(names) == {"billet-qr.png", "arrangement.ics"}
    cal = Calendar.from_ical(names["arrangement.ics"].get_content())
    [vevent] = cal.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Del og Genbrug"
    assert vevent["DTSTART"].params["TZID"] == "Europe/Copenhagen"
    assert cal.walk("VTIMEZONE")


def test_ticket_qr_in_the_mail_decodes_to_the_ticket_url(client, app, event_id, mail_dir,
                                                          tmp_path):
    import shutil
    import subprocess

    register(client)
    [mail] = delivered_mails(app, mail_dir)
    png = next(p for p in mail.iter_attachments() if p.get_filename() == "billet-qr.png")
    path = tmp_path / "qr.png"
    path.write_bytes(png.get_content())
    assert shutil.which("zbarimg"), "zbar-tools is installed by .ci/run"
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True,
                             text=True, check=True).stdout.strip()
    with app.app_context():
        code = db.session.scalar(select(Registration.ticket_code))
    assert decoded == f"http://localhost/t/{code}"
    assert len(code) >= 27  # 160 random bits, base64url
    page = client.get(f"/t/{code}").get_data(as_text=True)
    assert "Mette Holm" in page and "Billetkode" in page


def test_full_event_puts_people_on_the_waiting_list_with_position(client, app, event_id,
                                                                   mail_dir):
    for i in range(2):
        register(client, email=f"p{i}@example.com", name=f"Person {i}")
    third = register(client, email="p2@example.com", name="Person 2")
    fourth = register(client, email="p3@example.com", name="Person 3")
    assert "nummer 1 på ventelisten" in client.get(third.headers["Location"]).get_data(
        as_text=True)
    assert "nummer 2 på ventelisten" in client.get(fourth.headers["Location"]).get_data(
        as_text=True)
    statuses = [s for _e, s, _w, _i in registrations_of(app, event_id)]
    assert statuses == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    waiting_mail = [m for m in delivered_mails(app, mail_dir) if m["To"] == "p2@example.com"][0]
    assert "venteliste" in waiting_mail["Subject"]
    assert not any(p.get_filename() == "billet-qr.png" for p in waiting_mail.iter_attachments())


def test_cancelling_frees_the_seat_for_the_first_waiting(client, app, event_id, mail_dir):
    first = register(client, email="p0@example.com")
    register(client, email="p1@example.com")
    register(client, email="p2@example.com", name="Venter Først")
    register(client, email="p3@example.com")
    path = personal_path(first)
    assert "Din plads går videre" in client.get(path + "/cancel").get_data(as_text=True)
    client.post(path + "/cancel", data={})
    statuses = {e: s for e, s, _w, _i in registrations_of(app, event_id)}
    assert statuses == {"p0@example.com": "cancelled", "p1@example.com": "confirmed",
                        "p2@example.com": "confirmed", "p3@example.com": "waitlisted"}
    mails = delivered_mails(app, mail_dir)
    promoted = [m for m in mails if m["Subject"] == "Du har fået en plads til Del og Genbrug"]
    assert [m["To"] for m in promoted] == ["p2@example.com"]
    assert any(m["To"] == "p0@example.com" and "afmeldt" in m["Subject"] for m in mails)
    assert "Du er afmeldt" in client.get(path).get_data(as_text=True)


def test_same_email_twice_gets_a_kind_message_and_a_resend_button(client, app, event_id,
                                                                  mail_dir):
    register(client)
    again = register(client, email="  Mette.Holm@Aarhus.Example.dk ", name="Mette H.")
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert "Du er allerede tilmeldt" in page
    assert "Send mig mit link igen" in page
    assert 'value="Mette H."' in page  # typed values kept
    assert len(registrations_of(app, event_id)) == 1
    resent = client.post("/e/dag/register/resend", data={"email": "mette.holm@aarhus.example.dk"})
    assert "Tjek din mail" in resent.get_data(as_text=True)
    subjects = [m["Subject"] for m in delivered_mails(app, mail_dir)]
    assert subjects.count("Dit link til din tilmelding til Del og Genbrug") == 1


def test_personal_link_edits_answers_and_consent(client, app, event_id):
    qid = add_question(app, event_id, "Hvilke løsninger bruger I?", "multiple_choice",
                       options=["Skærmbesøg", "Sensorer", "Robotter"])
    response = client.post("/e/dag/register", data={
        **registration_form(), f"q_{qid}": ["Skærmbesøg", "Sensorer"], "directory_consent": "y"})
    path = personal_path(response)
    edit = client.get(path + "/edit").get_data(as_text=True)
    assert 'value="Skærmbesøg" checked' in edit
    client.post(path + "/edit", data={**registration_form(name="Mette Holm-Berg"),
                                      f"q_{qid}": ["Robotter"]})
    with app.app_context():
        reg = db.session.scalar(select(Registration))
        assert reg.name == "Mette Holm-Berg"
        assert reg.directory_consent_at is None  # consent withdrawn by leaving it unticked
        assert db.session.scalar(select(Answer.value)) == ["Robotter"]
    page = client.get(path).get_data(as_text=True)
    assert "Nej, du vises ikke" in page


def test_editing_a_question_keeps_given_answers(client, app, event_id):
    qid = add_question(app, event_id, "Kost", "single_choice", options=["Vegetar", "Alt"])
    register(client, **{f"q_{qid}": "Vegetar"})
    with app.app_context():
        from eventhub.registration.models import Question

        question = db.session.get(Question, qid)
        question.label, question.options = "Madønsker", ["Vegansk", "Alt"]
        db.session.commit()
        answer = db.session.scalar(select(Answer))
        assert (answer.value, answer.question_label) == ("Vegetar", "Kost")


@pytest.mark.parametrize("overrides,message", [
    ({"email": ""}, "Skriv din e-mailadresse."),
    ({"email": "ikke@gyldig"}, "Skriv en gyldig e-mailadresse"),
    ({"name": "x" * 250}, "Højst 200 tegn."),
    ({"organization": ""}, "Skriv navnet på din organisation."),
    ({"organization_kind": "rumvæsen"}, "Vælg en af mulighederne på listen."),
])
def test_bad_input_is_refused_in_danish_and_kept(client, app, event_id, overrides, message):
    response = register(client, **overrides)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="Udviklingskonsulent"' in page
    assert registrations_of(app, event_id) == []


def test_answers_are_checked(client, app, event_id):
    required = add_question(app, event_id, "Allergier?", "yes_no", required=True)
    choice = add_question(app, event_id, "Workshop", "single_choice", options=["A", "B"])
    response = client.post("/e/dag/register", data={**registration_form(), f"q_{choice}": "C"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Besvar spørgsmålet." in page and f'id="q_{required}-error"' in page
    assert "Vælg blandt svarmulighederne." in page
    unknown = client.post("/e/dag/register", data={**registration_form(), "q_99999": "hej",
                                                   f"q_{required}": "yes"})
    assert "ikke findes" in unknown.get_data(as_text=True)
    assert registrations_of(app, event_id) == []


@pytest.mark.parametrize("fields,message", [
    ({"status": CLOSED}, "Tilmeldingen er lukket"),
    ({"registration_opens_at": datetime.now(UTC) + timedelta(days=1)}, "ikke åbnet endnu"),
    ({"registration_closes_at": datetime.now(UTC) - timedelta(days=1)}, "fristen er overskredet"),
])
def test_registration_outside_the_window_is_refused(client, app, fields, message):
    make_event(app, "lukket", **fields)
    page = client.get("/e/lukket/register").get_data(as_text=True)
    assert message in page
    response = register(client, slug="lukket")
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Registration)) is None


def test_draft_event_cannot_be_registered_for(client, app):
    make_event(app, "kladde", status=DRAFT)
    assert register(client, slug="kladde").status_code == 404


@pytest.mark.parametrize("path", ["/t/forfalsket-kode", "/r/forfalsket-token",
                                  "/r/forfalsket-token/ticket.pdf", "/t/x/qr.png"])
def test_forged_codes_get_a_danish_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "<html lang=\"da\">" in response.get_data(as_text=True)


def test_calendar_download(client, app, event_id):
    path = personal_path(register(client))
    response = client.get(path + "/event.ics")
    assert response.mimetype == "text/calendar"
    [vevent] = Calendar.from_ical(response.data).walk("VEVENT")
    assert vevent["DTSTART"].dt.hour == 9  # 08:00 UTC shown as 09:00 Copenhagen


def test_registration_is_rate_limited(client, app, event_id):
    app.config["RATELIMIT_REGISTER"] = "2 per minute"
    register(client, email="a@example.com")
    register(client, email="b@example.com")
    response = register(client, email="c@example.com")
    assert response.status_code == 429
    assert "For mange forsøg" in response.get_data(as_text=True)
    assert len(registrations_of(app, event_id)) == 2
