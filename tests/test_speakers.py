"""Speakers are people: name, job title, organization, bio, photo, a registration when
they have one; a page each, linked from the programme; a TALER badge for every speaker,
registered or not, with the job title; badges and tickets in the event's language, not
the printing person's. Event texts in English, Danish where there is none."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from eventhub.extensions import db
from eventhub.programme.models import EventSpeaker, Speaker
from tests.support.client import login
from tests.support.factories import (
    PASSWORD,
    make_event,
    make_registration,
    make_session,
    make_user,
)
from tests.support.pdf import pdf_qr_codes, pdf_text
from tests.support.plain_words import visible_text

START = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
BASE = "/manage/e/dag/programme/speakers"


@pytest.fixture
def setup(app, client):
    org = make_user(app, "org@example.com", password=PASSWORD)
    event_id = make_event(app, "dag", organizer_id=org, title="Del & Genbrug 2027")
    reg_id, _token = make_registration(app, event_id, "mette@aarhus.example.dk", "Mette Holm")
    guest_id, _token = make_registration(app, event_id, "bo@example.dk", "Bo Ek")
    with app.app_context():
        from eventhub.registration.models import Registration

        db.session.get(Registration, reg_id).job_title = "Udviklingskonsulent"
        db.session.commit()
    session_id = make_session(app, event_id, "Skærmbesøg i hjemmeplejen", START,
                              START + timedelta(minutes=45))
    login(client, "org@example.com")
    return {"event": event_id, "reg": reg_id, "guest": guest_id, "session": session_id}


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (900, 900), (184, 66, 15)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _text(response) -> str:
    return " ".join(visible_text(response.get_data(as_text=True))[0])


def _add_outside_speaker(client) -> None:
    response = client.post(f"{BASE}/new", data={
        "registration_id": "", "name": "Karina Ebbesen", "job_title": "Direktør",
        "organization": "Skærmbesøg A/S", "bio": "Har bygget skærmbesøg i 40 kommuner.",
        "photo": (io.BytesIO(_photo()), "karina.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 302, _text(response)


def _person(app, name: str) -> EventSpeaker:
    with app.app_context():
        person = db.session.scalar(select(EventSpeaker).where(EventSpeaker.name == name))
        db.session.expunge(person)
        return person


def _on_session(client, setup, *person_ids, registration_ids=()) -> None:
    response = client.post(f"/manage/e/dag/programme/sessions/{setup['session']}", data={
        "title": "Skærmbesøg i hjemmeplejen", "kind": "talk",
        "starts_at": "2027-03-10T10:00", "ends_at": "2027-03-10T10:45",
        "person_ids": [str(p) for p in person_ids],
        "speaker_ids": [str(r) for r in registration_ids], "confirm_warnings": "y"})
    assert response.status_code == 302, _text(response)


def test_a_speaker_from_outside_with_a_page_of_their_own(app, client, setup):
    _add_outside_speaker(client)
    karina = _person(app, "Karina Ebbesen")
    assert karina.job_title == "Direktør" and karina.photo_image_id
    _on_session(client, setup, karina.id)

    session = app.test_client().get(f"/e/dag/programme/{setup['session']}")
    html = session.get_data(as_text=True)
    assert f'href="/e/dag/speakers/{karina.id}"' in html
    assert "Karina Ebbesen , Direktør, Skærmbesøg A/S" in _text(session)
    page = app.test_client().get(f"/e/dag/speakers/{karina.id}")
    text = _text(page)
    assert "Direktør, Skærmbesøg A/S" in text and "Har bygget skærmbesøg" in text
    assert "Skærmbesøg i hjemmeplejen" in text
    assert 'alt="Foto af Karina Ebbesen"' in page.get_data(as_text=True)
    assert "Karina Ebbesen" in _text(app.test_client().get("/e/dag/speakers"))


def test_a_registered_participant_as_speaker_and_renaming_follows(app, client, setup):
    _on_session(client, setup, registration_ids=[setup["reg"]])
    mette = _person(app, "Mette Holm")
    assert (mette.registration_id, mette.job_title) == (setup["reg"], "Udviklingskonsulent")
    response = client.post(f"{BASE}/{mette.id}", data={
        "registration_id": str(setup["reg"]), "name": "Mette Holm Berg",
        "job_title": "Chefkonsulent", "organization": "Aarhus Kommune"})
    assert response.status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(Speaker).where(Speaker.event_speaker_id == mette.id))
        assert (entry.name, entry.organization) == ("Mette Holm Berg", "Aarhus Kommune")
    twice = client.post(f"{BASE}/new", data={"registration_id": str(setup["reg"])})
    assert twice.status_code == 422 and "allerede oplægsholder" in _text(twice)


def test_speaker_form_refuses_bad_input_and_saves_nothing(app, client, setup):
    response = client.post(f"{BASE}/new", data={
        "registration_id": "", "name": "", "job_title": "Direktør", "bio": "Hej",
        "photo": (io.BytesIO(b"%PDF-1.4 not a photo"), "foto.png")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    text = _text(response)
    assert "ikke et billede, men en PDF-fil" in text
    assert 'value="Direktør"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(EventSpeaker.id)) is None


def test_removing_a_speaker_takes_them_off_the_sessions(app, client, setup):
    _add_outside_speaker(client)
    karina = _person(app, "Karina Ebbesen")
    _on_session(client, setup, karina.id)
    assert client.post(f"{BASE}/{karina.id}/delete", data={}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Speaker.id)) is None
        assert db.session.get(EventSpeaker, karina.id) is None


def _badges(client, lang: str = "da") -> bytes:
    client.get(f"/manage/e/dag?lang={lang}")
    response = client.get("/manage/e/dag/badges.pdf")
    assert response.mimetype == "application/pdf"
    return response.get_data()


def test_every_speaker_gets_a_taler_badge_with_job_title_in_the_events_language(
        app, client, setup, tmp_path):
    _add_outside_speaker(client)
    karina = _person(app, "Karina Ebbesen")
    _on_session(client, setup, karina.id, registration_ids=[setup["reg"]])

    for lang in ("da", "en"):  # printed from the Danish and from the English interface
        pdf = _badges(client, lang)
        text = pdf_text(pdf, tmp_path)
        assert text.count("TALER") == 2 and text.count("DELTAGER") == 1, text
        assert "SPEAKER" not in text and "PARTICIPANT" not in text
        assert "Karina Ebbesen Direktør Skærmbesøg A/S" in text  # no registration needed
        assert "Mette Holm Udviklingskonsulent" in text
        with app.app_context():
            from eventhub.registration.models import Registration
            codes = {db.session.get(Registration, r).scan_token
                     for r in (setup["reg"], setup["guest"])}
        decoded = pdf_qr_codes(pdf, tmp_path)  # the scan link, never the ticket
        assert sorted(decoded) == sorted(f"http://localhost/s/{c}" for c in codes)

    with app.app_context():  # an English event prints English badges, from Danish too
        from eventhub.events.models import Event
        db.session.get(Event, setup["event"]).language = "en"
        db.session.commit()
    text = pdf_text(_badges(client, "da"), tmp_path)
    assert text.count("SPEAKER") == 2 and "PARTICIPANT" in text and "TALER" not in text


def test_the_ticket_follows_the_events_language(app, client, setup, tmp_path):
    with app.app_context():
        from eventhub.registration.models import Registration
        token = db.session.get(Registration, setup["reg"]).manage_token
    person = app.test_client()
    person.get("/?lang=en")
    text = pdf_text(person.get(f"/r/{token}/ticket.pdf").get_data(), tmp_path).upper()
    assert "BILLET" in text and "TICKET" not in text  # a Danish event, asked in English
    with app.app_context():
        from eventhub.events.models import Event
        db.session.get(Event, setup["event"]).language = "en"
        db.session.commit()
    person.get("/?lang=da")
    text = pdf_text(person.get(f"/r/{token}/ticket.pdf").get_data(), tmp_path).upper()
    assert "TICKET" in text and "BILLET" not in text


def test_english_texts_with_danish_where_there_are_none(app, client, setup):
    from eventhub.programme.models import Session
    from eventhub.registration.models import Question

    with app.app_context():
        from eventhub.events.models import Event
        event = db.session.get(Event, setup["event"])
        event.title_en, event.description_en = "Share & Reuse 2027", "A day about reuse."
        db.session.get(Session, setup["session"]).title_en = "Video visits in home care"
        db.session.add_all([
            Question(event_id=event.id, label="Kostønsker", label_en="Dietary needs"),
            Question(event_id=event.id, label="Deltager du i frokosten?")])
        db.session.commit()
    visitor = app.test_client()
    danish = _text(visitor.get("/e/dag"))
    assert "Del & Genbrug 2027" in danish and "Share & Reuse" not in danish
    english = _text(visitor.get("/e/dag?lang=en"))
    assert "Share & Reuse 2027" in english and "A day about reuse." in english
    assert "Video visits in home care" in _text(visitor.get("/e/dag/programme"))
    form = _text(visitor.get("/e/dag/register"))
    assert "Dietary needs" in form and "Deltager du i frokosten?" in form  # Danish fallback


def test_the_event_form_sets_language_and_english_texts(app, client, setup):
    from tests.support.factories import EVENT_FORM, get_event

    response = client.post("/manage/e/dag/edit", data={
        **EVENT_FORM, "slug": "dag", "language": "en", "title_en": "Share & Reuse",
        "description_en": "In English."})
    assert response.status_code == 302
    event = get_event(app, "dag")
    assert (event.language, event.title_en, event.description_en) == \
        ("en", "Share & Reuse", "In English.")
    bad = client.post("/manage/e/dag/edit", data={**EVENT_FORM, "slug": "dag",
                                                  "language": "fr"})
    assert bad.status_code == 422
