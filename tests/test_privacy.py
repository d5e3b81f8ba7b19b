"""My data: a participant sees everything held about them, downloads it as JSON,
corrects it, withdraws consent and deletes their participation (anonymized so that the
event's figures still add up)."""

import json

from sqlalchemy import func, select

from eventhub import privacy_registry as registry
from eventhub.extensions import db
from eventhub.polls.models import QAQuestion, Vote
from eventhub.programme.models import AgendaEntry, Signup, Speaker
from eventhub.registration.models import Answer, Registration
from tests.support.client import login
from tests.support.factories import make_event, make_registration, set_password_for
from tests.support.privacy_data import ANSWER, EMAIL, JOB, NAME, QA_TEXT, fill_person


def test_personal_link_shows_everything_about_that_registration(app, mail_dir):
    person = fill_person(app, mail_dir)
    page = person.client.get(f"/r/{person.token}/my-data")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    text = page.get_data(as_text=True)
    for expected in (NAME, EMAIL, JOB, "Horsens Kommune", ANSWER, "Workshop om skærmbesøg",
                     "Spørgsmål single", QA_TEXT, "Synlig i arrangementets netværksoversigt"):
        assert expected in text, expected

    data = json.loads(person.client.get(f"/r/{person.token}/my-data.json").data)
    assert data["email"] == EMAIL
    assert data["registrations"][0]["name"] == NAME
    assert data["answers"] == [{"event": "Del og Genbrug dag", "question": "Kost",
                                "answer": ANSWER}]
    assert [a["session"] for a in data["agenda"]] == ["Workshop om skærmbesøg"]
    assert [s["session"] for s in data["workshop_signups"]] == ["Workshop om skærmbesøg"]
    assert [s["name"] for s in data["speaker"]] == [NAME]
    assert [v["answer"] for v in data["votes"]] == ["Ja"]  # the anonymous phone's isn't hers
    assert [q["question"] for q in data["questions"]] == [QA_TEXT]
    assert data["mails"] and NAME in data["mails"][0]["body"]
    assert data["consents"]["directory"] == ["Del og Genbrug dag"]
    assert data["account"] == []  # a personal link is not an account


def test_personal_link_sees_only_its_own_event_signed_in_sees_all(app, mail_dir, client):
    person = fill_person(app, mail_dir)
    other = make_event(app, "andet", title="Andet arrangement")
    make_registration(app, other, EMAIL, NAME)
    # Whoever registers with an address proves nothing: the link stays with its event.
    via_link = person.client.get(f"/r/{person.token}/my-data").get_data(as_text=True)
    assert "Andet arrangement" not in via_link
    # Signed in (the mail proved the address), every event shows.
    set_password_for(app, EMAIL)
    login(client, EMAIL)
    mine = client.get("/my-data").get_data(as_text=True)
    assert "Andet arrangement" in mine and "Del og Genbrug dag" in mine
    data = client.get("/my-data.json").json
    assert {r["event"] for r in data["registrations"]} == {"Andet arrangement",
                                                            "Del og Genbrug dag"}
    assert data["account"][0]["email"] == EMAIL


def test_my_data_needs_sign_in_or_a_valid_link(app, client):
    assert client.get("/my-data").status_code == 302
    assert client.get("/my-data.json").status_code == 302
    assert client.post("/my-data/correct", data={"name": "x"}).status_code == 302
    assert client.get("/r/not-a-token/my-data").status_code == 404


def test_correct_name_job_title_and_organization(app, mail_dir):
    person = fill_person(app, mail_dir)
    bad = person.client.post(f"/r/{person.token}/my-data/correct", data={
        "name": "", "job_title": "", "organization": ""})
    assert bad.status_code == 422
    done = person.client.post(f"/r/{person.token}/my-data/correct", data={
        "name": "Birgitte Bøgelund Holm", "job_title": "Projektleder",
        "organization": "Region Midtjylland"}, follow_redirects=True)
    assert "Dine oplysninger er rettet." in done.get_data(as_text=True)
    with app.app_context():
        reg = db.session.get(Registration, person.registration_id)
        assert (reg.name, reg.job_title, reg.organization.name) == (
            "Birgitte Bøgelund Holm", "Projektleder", "Region Midtjylland")
        assert db.session.scalar(select(Speaker.name)) == "Birgitte Bøgelund Holm"


def test_withdraw_directory_consent(app, mail_dir):
    person = fill_person(app, mail_dir)
    person.client.post(f"/r/{person.token}/my-data/consents/directory/withdraw", data={})
    with app.app_context():
        assert db.session.get(Registration, person.registration_id).directory_consent_at is None
    assert person.client.post(f"/r/{person.token}/my-data/consents/nope/withdraw",
                              data={}).status_code == 404


def _counts(app, person):
    with app.app_context():
        return {
            "votes": db.session.scalar(select(func.count()).select_from(Vote)),
            "questions": db.session.scalar(select(func.count()).select_from(QAQuestion)),
            "signups": db.session.scalar(select(func.count()).select_from(Signup)),
            "registrations": db.session.scalar(select(func.count()).select_from(Registration)),
        }


def test_delete_participation_anonymizes_and_figures_add_up(app, mail_dir):
    person = fill_person(app, mail_dir)
    before = _counts(app, person)
    confirm = person.client.get(f"/r/{person.token}/my-data/delete")
    assert "Det kan ikke fortrydes" in confirm.get_data(as_text=True)
    done = person.client.post(f"/r/{person.token}/my-data/delete", data={})
    assert done.status_code == 302
    assert _counts(app, person) == before  # votes, questions, seats: all still counted
    with app.app_context():
        reg = db.session.get(Registration, person.registration_id)
        assert reg.name == registry.DELETED_NAME
        assert registry.is_placeholder(reg.email) and reg.email != EMAIL
        assert reg.status == "cancelled"  # the event is still to come: the seat goes back
        assert reg.job_title == "" and reg.directory_consent_at is None
        assert db.session.scalar(select(func.count()).select_from(Answer)) == 0
        assert db.session.scalar(select(func.count()).select_from(AgendaEntry)) == 0
        assert db.session.scalar(select(Vote.registration_id).where(
            Vote.registration_id.is_not(None))) is None
        assert not db.session.scalar(select(func.count()).select_from(Vote).where(
            Vote.voter_key == f"r:{reg.id}"))
        assert db.session.scalar(select(QAQuestion.voter_key)).startswith("x:")
        assert db.session.scalar(select(Speaker.name)) == registry.DELETED_NAME
    # The old personal link leads nowhere now.
    assert person.client.get(f"/r/{person.token}").status_code == 404


def test_two_deleted_people_get_distinct_placeholders(app, client):
    event = make_event(app, "dag")
    make_registration(app, event, "a@example.com")
    make_registration(app, event, "b@example.com")
    set_password_for(app, "a@example.com")
    from eventhub.privacy.services import forget

    with app.app_context():
        forget(list(db.session.scalars(select(Registration.id))))
        db.session.commit()
        emails = list(db.session.scalars(select(Registration.email)))
    assert len(set(emails)) == 2 and all(registry.is_placeholder(e) for e in emails)


def test_signed_in_person_cannot_delete_someone_elses_registration(app, client):
    event = make_event(app, "dag")
    theirs, _ = make_registration(app, event, "someone@example.com")
    make_registration(app, event, "me@example.com")
    set_password_for(app, "me@example.com")
    login(client, "me@example.com")
    assert client.get(f"/my-data/registrations/{theirs}/delete").status_code == 404
    assert client.post(f"/my-data/registrations/{theirs}/delete", data={}).status_code == 404
    with app.app_context():
        assert db.session.get(Registration, theirs).email == "someone@example.com"


def test_signed_in_delete_of_a_past_event_keeps_the_status(app, client):
    from datetime import UTC, datetime

    event = make_event(app, "fortid", starts_at=datetime(2024, 1, 1, 9, tzinfo=UTC),
                       ends_at=datetime(2024, 1, 1, 15, tzinfo=UTC))
    reg_id, _ = make_registration(app, event, "me@example.com", "Mig Selv")
    set_password_for(app, "me@example.com")
    login(client, "me@example.com")
    page = client.get("/my-data").get_data(as_text=True)
    assert f"/my-data/registrations/{reg_id}/delete" in page
    client.post(f"/my-data/registrations/{reg_id}/delete", data={})
    with app.app_context():
        reg = db.session.get(Registration, reg_id)
        assert reg.status == "confirmed" and reg.name == registry.DELETED_NAME
    assert "Mig Selv" not in client.get("/my-data").get_data(as_text=True)


def test_every_section_is_json_and_every_contributor_loads(app, mail_dir):
    person = fill_person(app, mail_dir)
    with app.test_request_context():
        from eventhub.privacy import services
        from eventhub.privacy.services import subject_for_registration

        subject = subject_for_registration(db.session.get(Registration, person.registration_id))
        data = services.export(subject)
        keys = [s.key for s in registry.all_sections()]
    json.dumps(data)
    assert len(keys) == len(set(keys)), "section keys must be unique"
    assert {"registrations", "answers", "agenda", "workshop_signups", "votes", "questions",
            "mails"} <= set(keys)


