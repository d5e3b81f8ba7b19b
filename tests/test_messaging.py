"""The event's communication, delivered to a real SMTP server on loopback and read back
with the ``email`` package: sender and headers, scheduled mails exactly once, change
notices with updated calendar entries, the organizers' own texts, certificates."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from eventhub import scheduler
from eventhub.extensions import db
from eventhub.mail import OutboxMail, deliver_due
from eventhub.messaging.models import ChangeRecord, MailSend, MailText
from eventhub.programme.models import AgendaEntry, Room, Session
from eventhub.registration.models import Registration
from tests.support.client import login
from tests.support.factories import (
    make_event,
    make_registration,
    make_session,
    make_user,
    set_password_for,
)
from tests.support.pdf import pdf_qr_codes, pdf_text
from tests.support.smtp import SmtpServer

START = datetime(2027, 3, 10, 8, 0, tzinfo=UTC)  # 09:00 in Copenhagen
REMINDER_AT = datetime(2027, 3, 8, 8, 0, tzinfo=UTC)  # two days before, 09:00
CONTACT = "mette.kjaer@kommune.example.dk"


@pytest.fixture
def smtp(app):
    server = SmtpServer().start()
    app.config.update(server.config())
    yield server
    server.stop()


@pytest.fixture
def world(app):
    organizer = make_user(app, "arr@example.com")
    set_password_for(app, "arr@example.com")
    event_id = make_event(app, "faelles", organizer_id=organizer, starts_at=START,
                          ends_at=START + timedelta(hours=7), venue="Dokk1, Aarhus",
                          contact_name="Mette Kjær", contact_email=CONTACT,
                          title="Fælles dag", capacity=3)
    people = {name: make_registration(app, event_id, f"{name.lower()}@example.dk", name)
              for name in ("Anna", "Bo", "Carl")}
    people["Dorte"] = make_registration(app, event_id, "dorte@example.dk", "Dorte",
                                        status="waitlisted")
    people["Erik"] = make_registration(app, event_id, "erik@example.dk", "Erik",
                                       status="cancelled")
    with app.app_context():
        rooms = [Room(event_id=event_id, name=n) for n in ("Sal A", "Sal B")]
        db.session.add_all(rooms)
        db.session.commit()
        room_ids = [r.id for r in rooms]
    talk = make_session(app, event_id, "Skærmbesøg i praksis", START + timedelta(hours=1.5),
                        START + timedelta(hours=2.5), room_id=room_ids[0])
    workshop = make_session(app, event_id, "Værksted om sensorer", START + timedelta(hours=3),
                            START + timedelta(hours=4), room_id=room_ids[1])
    with app.app_context():
        db.session.add_all([
            AgendaEntry(registration_id=people["Anna"][0], session_id=talk),
            AgendaEntry(registration_id=people["Anna"][0], session_id=workshop),
            AgendaEntry(registration_id=people["Bo"][0], session_id=workshop)])
        db.session.commit()
    return dict(event=event_id, people=people, talk=talk, workshop=workshop, rooms=room_ids)


def run_jobs(app, now):
    with app.app_context():
        return scheduler.run_due(now)


def deliver(app):
    with app.app_context():
        deliver_due(limit=5000)


def by_recipient(server):
    out = {}
    for msg in server.messages():
        out.setdefault(msg["To"], []).append(msg)
    return out


def zbar(png: bytes, tmp_path) -> str:
    path = tmp_path / "qr.png"
    path.write_bytes(png)
    done = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True,
                          text=True, check=True)
    return done.stdout.strip()


# --- sender, headers, reminders ------------------------------------------------------

def test_the_reminder_reaches_each_confirmed_person_once_from_the_event(app, smtp, world,
                                                                       tmp_path):
    assert run_jobs(app, REMINDER_AT - timedelta(minutes=1))["mail-rules"] == 0
    assert run_jobs(app, REMINDER_AT)["mail-rules"] == 3
    assert run_jobs(app, REMINDER_AT + timedelta(hours=1))["mail-rules"] == 0  # once
    deliver(app)
    mails = by_recipient(smtp)
    assert sorted(mails) == ["anna@example.dk", "bo@example.dk", "carl@example.dk"]
    msg = mails["anna@example.dk"][0]
    assert len(mails["anna@example.dk"]) == 1
    assert msg["From"].addresses[0].display_name == "Fælles dag"
    assert msg["From"].addresses[0].addr_spec == "noreply@eventhub.local"
    assert msg["Reply-To"] == CONTACT
    assert msg["Message-ID"] and msg["Date"]
    assert msg["Subject"] == "Snart: Fælles dag"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Hej Anna" in text and "Dokk1, Aarhus" in text and "Hej Anna" in html
    # RFC 8058: https and mailto, one-click
    unsubscribe = msg["List-Unsubscribe"]
    assert "<http://localhost/u/" in unsubscribe and "<mailto:unsubscribe@eventhub.local" \
        in unsubscribe
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    qr = next(p for p in msg.iter_attachments() if p.get_filename() == "billet-qr.png")
    with app.app_context():
        code = db.session.get(Registration, world["people"]["Anna"][0]).ticket_code
    assert zbar(qr.get_content(), tmp_path) == f"http://localhost/t/{code}"


def test_transactional_mail_has_the_event_sender_but_no_unsubscribe(app, smtp, client):
    organizer = make_user(app, "arr2@example.com")
    make_event(app, "kvittering", organizer_id=organizer, contact_email=CONTACT,
               contact_name="Mette", capacity=10, title="Kvitteringsdag",
               registration_closes_at=START - timedelta(days=1))
    response = client.post("/e/kvittering/register", data={
        "name": "Mette Holm", "email": "mette.holm@example.dk", "organization": "Aarhus Kommune",
        "job_title": "Konsulent", "consent": "y"})
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:500]
    deliver(app)
    (msg,) = smtp.messages()
    assert msg["Reply-To"] == CONTACT
    assert msg["From"].addresses[0].display_name == "Kvitteringsdag"
    assert msg["List-Unsubscribe"] is None and msg["List-Unsubscribe-Post"] is None


def test_one_click_unsubscribe_needs_no_session_and_a_forged_link_is_refused(app, smtp,
                                                                            world, client):
    run_jobs(app, REMINDER_AT)
    deliver(app)
    msg = by_recipient(smtp)["bo@example.dk"][0]
    url = msg["List-Unsubscribe"].split(">")[0].lstrip("<").removeprefix("http://localhost")
    forged = client.post(url[:-3] + "abc", data={"List-Unsubscribe": "One-Click"},
                         csrf=False)
    assert forged.status_code == 404
    assert "Linket er ikke gyldigt" in forged.get_data(as_text=True)
    done = client.post(url, data={"List-Unsubscribe": "One-Click"}, csrf=False)
    assert done.status_code == 200
    # the morning-of mail no longer goes to Bo
    smtp.clear()
    run_jobs(app, START - timedelta(hours=1))
    deliver(app)
    assert sorted(by_recipient(smtp)) == ["anna@example.dk", "carl@example.dk"]


def test_two_schedulers_at_once_send_each_reminder_once(app, world):
    import threading

    results = []

    def one():
        results.append(run_jobs(app, REMINDER_AT)["mail-rules"])

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run_jobs(app, REMINDER_AT)  # a job refused by a busy database catches up
    with app.app_context():
        sends = db.session.scalars(select(MailSend.registration_id)).all()
        outbox = db.session.scalars(select(OutboxMail.to_addr).where(
            OutboxMail.kind == "reminder")).all()
    assert sorted(sends) == sorted(set(sends)) and len(sends) == 3
    assert sorted(outbox) == ["anna@example.dk", "bo@example.dk", "carl@example.dk"]


def test_a_reminder_after_the_event_starts_is_refused_in_danish(app, client, world):
    login(client, "arr@example.com")
    page = client.post("/manage/e/faelles/mail/rules/reminder",
                       data={"reminder-enabled": "y", "reminder-days_before": "0"})
    assert page.status_code == 422
    assert "mellem 1 og 60" in page.get_data(as_text=True)
    ok = client.post("/manage/e/faelles/mail/rules/reminder",
                     data={"reminder-enabled": "y", "reminder-days_before": "5"})
    assert ok.status_code == 302
    overview = client.get("/manage/e/faelles/mail").get_data(as_text=True)
    assert "3 personer" in overview
    preview = client.get(f"/manage/e/faelles/mail/preview/reminder?registration="
                         f"{world['people']['Bo'][0]}").get_data(as_text=True)
    assert "Hej Bo" in preview and "billet-qr.png" in preview


def test_the_thank_you_carries_the_certificate_for_those_checked_in(app, smtp, world,
                                                                    tmp_path):
    with app.app_context():
        db.session.get(Registration, world["people"]["Anna"][0]).checked_in_at = \
            START + timedelta(minutes=5)
        db.session.commit()
    run_jobs(app, START + timedelta(hours=10))
    deliver(app)
    mails = by_recipient(smtp)
    anna = mails["anna@example.dk"][-1]
    assert anna["Subject"].startswith("Tak for i dag")
    pdf = next(p for p in anna.iter_attachments() if p.get_filename() == "deltagerbevis.pdf")
    text = pdf_text(pdf.get_content(), tmp_path)
    assert "Anna" in text and "Fælles dag" in text and "Skærmbesøg i praksis" in text
    (code_url,) = pdf_qr_codes(pdf.get_content(), tmp_path)
    assert code_url.startswith("http://localhost/c/")
    carl = mails["carl@example.dk"][-1]
    assert not [p for p in carl.iter_attachments() if p.get_filename().endswith(".pdf")]
    assert "deltagerbevis" not in carl.get_body(("plain",)).get_content().lower()


# --- certificates -----------------------------------------------------------------------

def test_certificate_only_after_check_in_and_verifiable_by_code(app, client, world, tmp_path):
    anna_id, token = world["people"]["Anna"]
    before = client.get(f"/r/{token}/certificate.pdf")
    assert before.status_code == 404
    assert "når du er blevet checket ind" in before.get_data(as_text=True)
    with app.app_context():
        db.session.get(Registration, anna_id).checked_in_at = START
        db.session.commit()
    pdf = client.get(f"/r/{token}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    (url,) = pdf_qr_codes(pdf.data, tmp_path)
    page = client.get(url.removeprefix("http://localhost"))
    assert page.status_code == 200
    assert "Anna deltog i Fælles dag" in page.get_data(as_text=True)
    forged = client.get(url.removeprefix("http://localhost")[:-2] + "zz")
    assert forged.status_code == 404
    assert "Vi kender ikke dette deltagerbevis" in forged.get_data(as_text=True)


# --- change notices -----------------------------------------------------------------------

def _session_form(session: Session, **changes) -> dict:
    local = {"starts_at": session.starts_at + timedelta(hours=1),
             "ends_at": session.ends_at + timedelta(hours=1)}
    form = {"title": session.title, "kind": session.kind,
            "starts_at": local["starts_at"].strftime("%Y-%m-%dT%H:%M"),
            "ends_at": local["ends_at"].strftime("%Y-%m-%dT%H:%M"),
            "room_id": str(session.room_id or ""), "track_id": "", "description": "",
            "signup_capacity": "", "external_speakers": ""}
    form.update(changes)
    return form


def test_moves_and_a_cancellation_coalesce_into_one_notice_per_person(app, client, smtp,
                                                                     world):
    login(client, "arr@example.com")
    with app.app_context():
        talk = db.session.get(Session, world["talk"])
        db.session.expunge(talk)
    # 10:30 → 13:00 local, then the room too, then the workshop is cancelled
    moved = client.post(f"/manage/e/faelles/programme/sessions/{world['talk']}",
                        data=_session_form(talk, starts_at="2027-03-10T13:00",
                                           ends_at="2027-03-10T14:00"))
    assert moved.status_code == 302, moved.get_data(as_text=True)[:800]
    client.post(f"/manage/e/faelles/programme/sessions/{world['talk']}",
                data=_session_form(talk, starts_at="2027-03-10T13:00",
                                   ends_at="2027-03-10T14:00",
                                   room_id=str(world["rooms"][1])))
    client.post(f"/manage/e/faelles/programme/sessions/{world['workshop']}/cancel", data={})
    with app.app_context():
        first = db.session.scalar(select(func.min(ChangeRecord.created_at)))
    assert run_jobs(app, first + timedelta(minutes=5))["change-notices"] == 0  # still waiting
    assert run_jobs(app, first + timedelta(minutes=11))["change-notices"] == 2
    assert run_jobs(app, first + timedelta(minutes=30))["change-notices"] == 0
    deliver(app)
    mails = by_recipient(smtp)
    assert sorted(mails) == ["anna@example.dk", "bo@example.dk"]  # Carl chose neither
    (anna,) = mails["anna@example.dk"]
    text = anna.get_body(("plain",)).get_content()
    assert "«Skærmbesøg i praksis»: nu kl. 13:00–14:00 (før kl. 10:30–11:30)" in text
    assert "nyt lokale: Sal B (før Sal A)" in text
    assert "«Værksted om sensorer» er aflyst" in text
    assert anna["Reply-To"] == CONTACT and anna["List-Unsubscribe"] is None
    files = {p.get_filename(): Calendar.from_ical(p.get_content()) for p in
             anna.iter_attachments() if p.get_filename().endswith(".ics")}
    updated = files["opdateret.ics"].walk("VEVENT")[0]
    cancelled = files["aflyst.ics"]
    with app.app_context():
        talk_now = db.session.get(Session, world["talk"])
        workshop_now = db.session.get(Session, world["workshop"])
        assert str(updated["UID"]) == talk_now.uid and int(updated["SEQUENCE"]) == 2
        assert str(cancelled["METHOD"]) == "CANCEL"
        (gone,) = cancelled.walk("VEVENT")
        assert str(gone["UID"]) == workshop_now.uid and str(gone["STATUS"]) == "CANCELLED"
        assert int(gone["SEQUENCE"]) == 1
    bo = mails["bo@example.dk"][0].get_body(("plain",)).get_content()
    assert "er aflyst" in bo and "Skærmbesøg" not in bo
    # the calendar feed shows both
    feed = client.get("/e/faelles/programme.ics").data
    events = {str(e["SUMMARY"]): e for e in Calendar.from_ical(feed).walk("VEVENT")}
    assert str(events["Værksted om sensorer"]["STATUS"]) == "CANCELLED"
    assert events["Skærmbesøg i praksis"].decoded("DTSTART").hour == 13


def test_a_typo_fix_without_notice_and_the_count_before_saving(app, client, world):
    login(client, "arr@example.com")
    page = client.get(f"/manage/e/faelles/programme/sessions/{world['workshop']}")
    assert "2 personer får besked" in page.get_data(as_text=True)
    with app.app_context():
        workshop = db.session.get(Session, world["workshop"])
        db.session.expunge(workshop)
    client.post(f"/manage/e/faelles/programme/sessions/{world['workshop']}",
                data=_session_form(workshop, starts_at="2027-03-10T12:05",
                                   ends_at="2027-03-10T13:00", quiet="y"))
    with app.app_context():
        assert db.session.scalar(select(func.count(ChangeRecord.id))) == 0
        assert db.session.get(Session, world["workshop"]).starts_at.hour == 11


def test_cancelling_from_the_programme_list_asks_first_and_may_stay_quiet(app, client, world):
    login(client, "arr@example.com")
    base = "/manage/e/faelles/programme"
    listing = client.get(f"{base}/").get_data(as_text=True)
    assert f'href="{base}/sessions/{world["workshop"]}/cancel"' in listing
    page = client.get(f"{base}/sessions/{world['workshop']}/cancel").get_data(as_text=True)
    assert "Aflys «Værksted om sensorer»?" in page
    assert "2 personer har valgt programpunktet og får besked på mail." in page
    assert 'name="quiet"' in page
    client.post(f"{base}/sessions/{world['workshop']}/cancel", data={"quiet": "1"})
    with app.app_context():
        assert db.session.get(Session, world["workshop"]).cancelled
        assert db.session.scalar(select(func.count(ChangeRecord.id))) == 0
    # The list now offers to reinstate it; reinstating with notice records the change.
    page = client.get(f"{base}/sessions/{world['workshop']}/reinstate").get_data(as_text=True)
    assert "Genindsæt «Værksted om sensorer»?" in page
    assert "allerede" not in page
    client.post(f"{base}/sessions/{world['workshop']}/reinstate", data={})
    with app.app_context():
        assert not db.session.get(Session, world["workshop"]).cancelled
        assert db.session.scalar(select(func.count(ChangeRecord.id))) > 0
    again = client.get(f"{base}/sessions/{world['workshop']}/reinstate")
    assert "Programpunktet er ikke aflyst." in again.get_data(as_text=True)
    assert client.get(f"{base}/sessions/{world['workshop']}/delete").status_code == 405


def test_a_new_venue_reaches_everyone_registered(app, smtp, world):
    from eventhub.accounts.models import User
    from eventhub.events.models import Event
    from eventhub.events.services import EventData, update_event

    with app.app_context():
        event = db.session.get(Event, world["event"])
        actor = db.session.scalar(select(User).where(User.email == "arr@example.com"))
        data = EventData(title=event.title, slug=event.slug, description="",
                         venue="Odense Rådhus", starts_at=event.starts_at,
                         ends_at=event.ends_at, capacity=3, registration_opens_at=None,
                         registration_closes_at=None, contact_email=CONTACT,
                         contact_name="Mette Kjær")
        update_event(actor, event, data)
        db.session.commit()
    run_jobs(app, datetime.now(UTC) + timedelta(minutes=11))
    deliver(app)
    mails = by_recipient(smtp)
    assert sorted(mails) == ["anna@example.dk", "bo@example.dk", "carl@example.dk",
                             "dorte@example.dk"]
    text = mails["dorte@example.dk"][0].get_body(("plain",)).get_content()
    assert "nyt sted: Odense Rådhus (før Dokk1, Aarhus)" in text


# --- editable texts ---------------------------------------------------------------------

def test_own_text_checked_saved_used_and_reset(app, client, smtp, world):
    login(client, "arr@example.com")
    url = "/manage/e/faelles/mail/texts/reminder/da"
    assert "{{ min_dag }}" in client.get(url).get_data(as_text=True)
    bad = client.post(url, data={"subject": "Hej {{ navn }}", "body": "Kom {{ fornavn }}",
                                 "action": "save"})
    assert bad.status_code == 422
    assert "Ukendt felt: {{ fornavn }}" in bad.get_data(as_text=True)
    empty = client.post(url, data={"subject": " ", "body": "Hej", "action": "save"})
    assert empty.status_code == 422 and "Skriv et emne" in empty.get_data(as_text=True)
    sneaky = client.post(url, data={"subject": "x", "action": "save",
                                    "body": "{{ navn.__class__.__mro__ }}"})
    assert sneaky.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(MailText.id))) == 0
    preview = client.post(url, data={"subject": "Vi ses, {{ navn }}", "action": "preview",
                                     "body": "Kære {{ navn }}\n\n<b>{{ sted }}</b>"})
    assert "Kære Anna" in preview.get_data(as_text=True)
    saved = client.post(url, data={"subject": "Vi ses, {{ navn }}", "action": "save",
                                   "body": "Kære {{ navn }}\n\n<b>{{ sted }}</b>"})
    assert saved.status_code == 302
    run_jobs(app, REMINDER_AT)
    deliver(app)
    msg = by_recipient(smtp)["carl@example.dk"][0]
    assert msg["Subject"] == "Vi ses, Carl"
    assert "<b>" not in msg.get_body(("html",)).get_content()  # escaped, no markup
    assert "&lt;b&gt;Dokk1, Aarhus" in msg.get_body(("html",)).get_content()
    client.post(url, data={"subject": "x", "body": "y", "action": "reset"})
    with app.app_context():
        assert db.session.scalar(select(func.count(MailText.id))) == 0


def test_contact_address_required_before_publishing_and_checked(app, client):
    organizer = make_user(app, "arr3@example.com")
    set_password_for(app, "arr3@example.com")
    make_event(app, "kladde", organizer_id=organizer, status="draft")
    login(client, "arr3@example.com")
    page = client.get("/manage/e/kladde/edit").get_data(as_text=True)
    assert "Kontaktadresse" in page
    from tests.support.factories import EVENT_FORM

    form = {**EVENT_FORM, "slug": "kladde", "contact_email": "ikke en adresse"}
    form.pop("status")
    bad = client.post("/manage/e/kladde/edit", data=form)
    assert bad.status_code == 422
    assert "Kontaktadressen skal være en e-mailadresse" in bad.get_data(as_text=True)
    assert "ikke en adresse" in bad.get_data(as_text=True)  # kept


# --- messages to registrants: one mailer with the follow-up ---------------------------------

def test_messages_to_segments_and_the_follow_up_share_one_mailer(app, client, smtp, world):
    login(client, "arr@example.com")
    url = "/manage/e/faelles/mail/messages"
    preview = client.post(url, data={"segment": "by_status", "status": "waitlisted",
                                     "subject": "Venteliste", "body": "Hej {navn}",
                                     "action": "preview"}).get_data(as_text=True)
    assert "Beskeden går til 1 modtager." in preview and "Hej Dorte" in preview
    bad = client.post(url, data={"segment": "by_status", "status": "", "subject": "x",
                                 "body": "y", "action": "send"})
    assert bad.status_code == 422 and "Vælg en status." in bad.get_data(as_text=True)
    # a narrowing chosen with "all participants" would be ignored: refused, typed text kept
    ignored = client.post(url, data={"segment": "all", "status": "waitlisted",
                                     "subject": "Kun venteliste", "body": "Hej {navn}",
                                     "action": "send"})
    page = ignored.get_data(as_text=True)
    assert ignored.status_code == 422 and "gælder kun modtagerne" in page
    assert "Kun venteliste" in page
    sent = client.post(url, data={"segment": "by_status", "status": "waitlisted",
                                  "subject": "Venteliste", "body": "Hej {navn}",
                                  "action": "send"})
    assert sent.status_code == 302
    anna, carl = world["people"]["Anna"][0], world["people"]["Carl"][0]
    client.post(url, data={"segment": "hand_picked", "registrations": [str(anna), str(carl)],
                           "subject": "Til jer to", "body": "Hej {navn}", "action": "send"})
    client.post("/manage/e/faelles/followup/mail", data={
        "segment": "all", "subject": "Opfølgning", "body": "Hej {navn}", "action": "send"})
    deliver(app)
    mails = by_recipient(smtp)
    (dorte,) = mails["dorte@example.dk"]
    assert dorte["Subject"] == "Venteliste" and dorte["Reply-To"] == CONTACT
    assert dorte["From"].addresses[0].display_name == "Fælles dag"
    assert dorte["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = dorte.get_body(("plain",)).get_content()
    assert "Hej Dorte" in text and "Mette Kjær" in text and "/u/" in text
    subjects = {m["Subject"]: m for m in mails["anna@example.dk"]}
    assert set(subjects) == {"Til jer to", "Opfølgning"}
    assert "Til jer to" not in {m["Subject"] for m in mails["bo@example.dk"]}
    # the follow-up's replies reach the person who sent it
    assert subjects["Opfølgning"]["Reply-To"] == "arr@example.com"
    assert subjects["Opfølgning"]["List-Unsubscribe"] is not None


def test_workers_side_by_side_share_the_outbox_without_overlap(app, smtp, world, runner):
    run_jobs(app, REMINDER_AT)
    with app.app_context():
        assert deliver_due(shard=(1, 2))[0] + deliver_due(shard=(0, 2))[0] == 3
    assert sorted(by_recipient(smtp)) == ["anna@example.dk", "bo@example.dk",
                                          "carl@example.dk"]
    assert all(len(v) == 1 for v in by_recipient(smtp).values())
    bad = runner.invoke(args=["send-mail", "--shard", "2/2"])
    assert bad.exit_code != 0 and "0 ≤ K < N" in bad.output


def test_a_new_edition_keeps_own_texts_and_rule_settings(app, client, world):
    login(client, "arr@example.com")
    client.post("/manage/e/faelles/mail/texts/thanks/da", data={
        "subject": "Tak, {{ navn }}", "body": "Tak for i år.", "action": "save"})
    client.post("/manage/e/faelles/mail/rules/reminder",
                data={"reminder-days_before": "4"})  # and turned off
    done = client.post("/manage/e/faelles/clone", data={
        "title": "Fælles dag 2028", "slug": "faelles-2028", "starts_on": "2028-03-09",
        "with_staff": "y"})
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    page = client.get("/manage/e/faelles-2028/mail").get_data(as_text=True)
    assert "Slået fra." in page
    text = client.get("/manage/e/faelles-2028/mail/texts/thanks/da").get_data(as_text=True)
    assert "Tak for i år." in text
