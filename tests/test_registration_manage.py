"""Organizers: questions, lists, exports, imports, approval; check-in staff: check-in."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from eventhub.events.models import CHECKIN, EventRole
from eventhub.extensions import db
from eventhub.registration.models import Question, Registration
from tests.support.client import Client, login
from tests.support.factories import (
    PASSWORD,
    add_question,
    make_event,
    make_user,
    registration_form,
    registrations_of,
)
from tests.support.mail import delivered_mails


@pytest.fixture
def organizer(app, client):
    user_id = make_user(app, "org@example.com", password=PASSWORD)
    event_id = make_event(app, "dag", title="Del og Genbrug", capacity=3, organizer_id=user_id)
    login(client, "org@example.com")
    return event_id


def register(app, email, **overrides):
    """Register as an anonymous visitor on a client of its own."""
    anon = Client(app, app.response_class, use_cookies=True)
    return anon.post("/e/dag/register", data=registration_form(email=email, **overrides))


def test_organizer_builds_questions_and_edits_keep_answers(client, app, organizer):
    bad = client.post("/manage/e/dag/questions", data={
        "label": "Workshop", "kind": "single_choice", "options": "Kun én"})
    assert bad.status_code == 422
    assert "mindst to svarmuligheder" in bad.get_data(as_text=True)
    client.post("/manage/e/dag/questions", data={
        "label": "Workshop", "kind": "single_choice", "options": "A\nB\nB\n", "required": "y"})
    client.post("/manage/e/dag/questions", data={"label": "Kost", "kind": "short_text"})
    with app.app_context():
        workshop, kost = db.session.scalars(select(Question).order_by(Question.id)).all()
        assert workshop.options == ["A", "B"] and workshop.required
        wid, kid = workshop.id, kost.id
    client.post(f"/manage/e/dag/questions/{kid}/up", data={})
    page = client.get("/e/dag/register").get_data(as_text=True)
    assert page.index("Kost") < page.index("Workshop")

    register(app, "a@example.com", **{f"q_{wid}": "A"})
    client.post(f"/manage/e/dag/questions/{wid}", data={
        "label": "Eftermiddagens workshop", "kind": "single_choice", "options": "B\nC"})
    client.post(f"/manage/e/dag/questions/{wid}/archive", data={})
    assert "workshop" not in client.get("/e/dag/register").get_data(as_text=True).lower()
    rows = list(csv.reader(io.StringIO(
        client.get("/manage/e/dag/registrations.csv").data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][-2:] == ["Kost", "Eftermiddagens workshop (fjernet)"]
    assert rows[1][-1] == "A"  # the answer given survives the edit and the removal


def test_list_filters_and_exports(client, app, organizer):
    qid = add_question(app, organizer, "Rolle", "single_choice", options=["Leder", "Medarbejder"])
    register(app, "a@example.com", name="Anna Aarhus", **{f"q_{qid}": "Leder"})
    register(app, "b@example.com", name="Bo Firma", organization="Tryghedsteknik ApS",
             organization_kind="company", **{f"q_{qid}": "Medarbejder"})
    register(app, "c@example.com", name="Cille Odense", organization="odense kommune")
    page = client.get("/manage/e/dag/registrations?kind=municipality").get_data(as_text=True)
    assert "Anna Aarhus" in page and "Cille Odense" in page and "Bo Firma" not in page
    page = client.get(f"/manage/e/dag/registrations?question={qid}&answer=leder"
                      ).get_data(as_text=True)
    assert "Anna Aarhus" in page and "Bo Firma" not in page
    page = client.get("/manage/e/dag/registrations?q=firma").get_data(as_text=True)
    assert "Bo Firma" in page and "Anna Aarhus" not in page

    book = load_workbook(io.BytesIO(client.get("/manage/e/dag/registrations.xlsx").data))
    sheet = list(book.active.values)
    assert sheet[0][:3] == ("Navn", "E-mail", "Organisation") and sheet[0][-1] == "Rolle"
    by_name = {row[0]: row for row in sheet[1:]}
    assert by_name["Bo Firma"][-1] == "Medarbejder"
    assert by_name["Cille Odense"][2] == "Odense Kommune"  # matched to the reference row


def test_export_neutralises_spreadsheet_formulas(client, app, organizer):
    register(app, "x@example.com", name="=HYPERLINK(\"http://evil\")")
    text = client.get("/manage/e/dag/registrations.csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text


def test_approval_flow(client, app, organizer, mail_dir):
    with app.app_context():
        from eventhub.events.models import Event

        db.session.get(Event, organizer).requires_approval = True
        db.session.commit()
    register(app, "a@example.com")
    assert registrations_of(app, organizer)[0][1] == "pending"
    reg_id = registrations_of(app, organizer)[0][3]
    client.post(f"/manage/e/dag/registrations/{reg_id}/approve", data={})
    assert registrations_of(app, organizer)[0][1] == "confirmed"
    subjects = [m["Subject"] for m in delivered_mails(app, mail_dir)]
    assert subjects == ["Vi har modtaget din tilmelding til Del og Genbrug",
                        "Du er tilmeldt Del og Genbrug"]


def test_raising_capacity_promotes_the_waiting_list(client, app, organizer):
    for i in range(5):
        register(app, f"p{i}@example.com")
    assert [s for _e, s, _w, _i in registrations_of(app, organizer)].count("waitlisted") == 2
    from tests.support.factories import EVENT_FORM

    client.post("/manage/e/dag/edit", data={**EVENT_FORM, "slug": "dag", "capacity": "4",
                                            "registration_closes_at": ""})
    statuses = [s for _e, s, _w, _i in registrations_of(app, organizer)]
    assert statuses == ["confirmed"] * 4 + ["waitlisted"]


def test_staff_adds_edits_cancels_and_resends(client, app, organizer, mail_dir):
    response = client.post("/manage/e/dag/registrations/new", data={
        **registration_form(email="oplaeg@example.com", name="Oda Oplæg"),
        "badge_role": "speaker"})
    assert response.status_code == 302
    reg_id = registrations_of(app, organizer)[0][3]
    client.post(f"/manage/e/dag/registrations/{reg_id}", data={
        **registration_form(email="oda@example.com", name="Oda Oplæg"), "badge_role": "speaker"})
    client.post(f"/manage/e/dag/registrations/{reg_id}/resend", data={})
    with app.app_context():
        reg = db.session.get(Registration, reg_id)
        assert (reg.email, reg.badge_role, reg.source) == ("oda@example.com", "speaker", "staff")
    assert [m["To"] for m in delivered_mails(app, mail_dir)][-1] == "oda@example.com"
    client.post(f"/manage/e/dag/registrations/{reg_id}/cancel", data={})
    assert registrations_of(app, organizer)[0][1] == "cancelled"


CSV_TEXT = """navn;e-mail;organisation;organisationstype;stilling
Anna And;anna@example.com;Aarhus Kommune;kommune;Konsulent
Uden Mail;;Odense Kommune;kommune;
Forkert Mail;ikke-en-mail;Odense Kommune;kommune;
Anna Igen;ANNA@example.com;Aarhus Kommune;;
Bo Ukendt;bo@example.com;Firma ApS;rumfart;
Cille Firma;cille@example.com;Firma ApS;virksomhed;Direktør
"""


def test_import_dry_run_names_bad_lines_then_imports_good_rows(client, app, organizer):
    dry = client.post("/manage/e/dag/registrations/import", data={"csv_text": CSV_TEXT})
    page = dry.get_data(as_text=True)
    assert "2 rækker er klar til import. 4 rækker har fejl" in page
    for line, reason in [(3, "mangler e-mail"), (4, "ugyldig e-mail"),
                         (5, "står også på linje 2"), (6, "ukendt organisationstype")]:
        assert re.search(f"<td>{line}</td><td>[^<]*{reason}", page), (line, reason)
    assert registrations_of(app, organizer) == []  # a dry run saves nothing

    done = client.post("/manage/e/dag/registrations/import",
                       data={"csv_text": CSV_TEXT, "confirm": "1"}, follow_redirects=True)
    assert "2 deltagere er importeret." in done.get_data(as_text=True)
    assert [e for e, *_ in registrations_of(app, organizer)] == ["anna@example.com",
                                                                 "cille@example.com"]
    again = client.post("/manage/e/dag/registrations/import", data={"csv_text": CSV_TEXT})
    assert "anna@example.com er allerede tilmeldt" in again.get_data(as_text=True)


def test_import_that_fails_on_one_row_stores_no_row(client, app, organizer, monkeypatch):
    from eventhub.errors import ValidationError
    from eventhub.registration import imports

    real_register = imports.register

    def register_but_refuse_bo(event, data, **kwargs):
        if data.email == "bo@example.com":
            raise ValidationError("Bo kan ikke tilmeldes.")
        return real_register(event, data, **kwargs)

    monkeypatch.setattr(imports, "register", register_but_refuse_bo)
    text = "navn;e-mail\nAnna And;anna@example.com\nBo Bunde;bo@example.com\n"
    response = client.post("/manage/e/dag/registrations/import",
                           data={"csv_text": text, "confirm": "1"})
    page = response.get_data(as_text=True)
    assert "Importen blev ikke gennemført: 1 linje har fejl." in page
    assert "Bo kan ikke tilmeldes." in page
    assert registrations_of(app, organizer) == []  # the good row went with the bad one


def test_import_file_upload_and_bad_header(client, app, organizer):
    upload = (io.BytesIO("navn,email\nÅse Øster,aase@example.com\n".encode("cp1252")), "x.csv")
    page = client.post("/manage/e/dag/registrations/import", data={"file": upload},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "1 række er klar til import" in page
    bad = client.post("/manage/e/dag/registrations/import", data={"csv_text": "a;b\n1;2\n"})
    assert "Første linje skal have kolonnerne navn og e-mail" in bad.get_data(as_text=True)


def test_organizer_pages_are_closed_to_others(client, app, organizer):
    client.post("/logout", data={})
    assert client.get("/manage/e/dag/registrations").status_code == 302  # sign in first
    make_user(app, "p@example.com", password=PASSWORD)
    login(client, "p@example.com")
    for path in ("/manage/e/dag/registrations", "/manage/e/dag/registrations.csv",
                 "/manage/e/dag/questions", "/manage/e/dag/checkin", "/manage/e/dag/badges.pdf"):
        assert client.get(path).status_code == 403, path


def test_check_in_by_staff(client, app, organizer):
    staff = make_user(app, "check@example.com", password=PASSWORD)
    with app.app_context():
        db.session.add(EventRole(event_id=organizer, user_id=staff, role=CHECKIN))
        db.session.commit()
    register(app, "a@example.com", name="Anna Aarhus")
    with app.app_context():
        code = db.session.scalar(select(Registration.ticket_code))
    client.post("/logout", data={})
    login(client, "check@example.com")
    assert client.get("/manage/e/dag/registrations").status_code == 403  # not an organizer

    found = client.post("/manage/e/dag/checkin", data={"code": f"  http://localhost/t/{code} "})
    assert found.headers["Location"] == f"/t/{code}"
    screen = client.get(f"/t/{code}").get_data(as_text=True)
    assert "Anna Aarhus" in screen and "Check ind" in screen and "0 af 1 checket ind" in screen

    first = client.post(f"/t/{code}/checkin", data={}, follow_redirects=True)
    assert "Anna Aarhus er checket ind kl." in first.get_data(as_text=True)
    second = client.post(f"/t/{code}/checkin", data={}, follow_redirects=True).get_data(
        as_text=True)
    assert "Allerede checket ind kl." in second and "af check" in second
    assert client.get("/manage/e/dag/checkin/count").json["checked_in"] == 1
    client.post(f"/t/{code}/undo", data={})
    assert client.get("/manage/e/dag/checkin/count").json == {
        "checked_in": 0, "expected": 1, "text": "0 af 1 checket ind"}

    unknown = client.post("/manage/e/dag/checkin", data={"code": "forkert"})
    assert unknown.status_code == 422
    assert "Billetten findes ikke" in unknown.get_data(as_text=True)


def test_participant_sees_the_ticket_not_the_check_in(client, app, organizer):
    register(app, "a@example.com")
    with app.app_context():
        code = db.session.scalar(select(Registration.ticket_code))
    anon = app.test_client()
    page = anon.get(f"/t/{code}").get_data(as_text=True)
    assert "Billetkode" in page and "Check ind" not in page
    assert anon.post(f"/t/{code}/checkin").status_code in (400, 403)


def test_check_in_finds_people_by_name(client, app, organizer):
    register(app, "a@example.com", name="Anna Aarhus")
    register(app, "b@example.com", name="Bo Bornholm")
    page = client.post("/manage/e/dag/checkin", data={"code": "anna"}).get_data(as_text=True)
    assert "Anna Aarhus" in page and "Bo Bornholm" not in page
    with app.app_context():
        code = db.session.scalar(select(Registration.ticket_code).where(
            Registration.email == "a@example.com"))
    assert f"/t/{code}" in page


def test_back_links_never_leave_the_site(client, app, organizer):
    register(app, "a@example.com")
    reg_id = registrations_of(app, organizer)[0][3]
    response = client.post(f"/manage/e/dag/registrations/{reg_id}/resend",
                           data={"back": "https://evil.example/phish"})
    assert response.headers["Location"] == "/manage/e/dag/registrations"
