"""1:1 meetings at the event: setup, the slot picker, requests and answers, calendar
entries, mails and the reminder, staff schedule and figures, "vi følger op", privacy."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from eventhub import scheduler
from eventhub.extensions import db
from eventhub.followup.models import Lead
from eventhub.meetings.models import Meeting, MeetingHold, MeetingReminder
from eventhub.programme.models import AgendaEntry
from tests.support.client import login
from tests.support.mail import body_of, delivered_mails
from tests.support.meetings import DAY, meeting_world, person, slot_at


@pytest.fixture
def world(app):
    return meeting_world(app)


def as_(client, world, who):
    assert client.get(f"/r/{world['tokens'][who]}").status_code == 200
    return client


@pytest.fixture
def anna(app, world):
    from tests.support.client import Client
    return as_(Client(app, app.response_class), world, "anna")


@pytest.fixture
def bo(app, world):
    from tests.support.client import Client
    return as_(Client(app, app.response_class), world, "bo")


def _book(client, world, who="bo", slot=(11, 30), **extra):
    return client.post(f"/e/moeder/meetings/new/{world[who]}",
                       data={"slot": slot_at(*slot), "message": "Kan vi tale om skærmbesøg?",
                             **extra})


def _meeting(app):
    with app.app_context():
        return db.session.scalars(select(Meeting).order_by(Meeting.id.desc())).first()


def _feed(client, slug="moeder") -> Calendar:
    page = client.get(f"/e/{slug}/my-day").get_data(as_text=True)
    path = re.search(r'value="http://localhost(/e/[^"]+\.ics)"', page).group(1)
    return Calendar.from_ical(client.get(path).data)


def _attached_meeting(mail):
    """(METHOD, VEVENT) of the calendar file a meeting mail carries, or None."""
    files = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    if not files:
        return None
    (part,) = files
    cal = Calendar.from_ical(part.get_content())
    (entry,) = cal.walk("VEVENT")
    return str(cal["METHOD"]), entry


def _meetings_in(cal: Calendar):
    return [c for c in cal.walk("VEVENT") if str(c["uid"]).startswith("meeting-")]


# --- the picker -----------------------------------------------------------------------------

def test_the_picker_offers_common_free_slots_without_my_sessions_or_busy_marks(
        app, world, anna, bo):
    page = anna.get(f"/e/moeder/meetings/new/{world['bo']}").get_data(as_text=True)
    assert page.count('name="slot"') == 9  # 6 + 3 slots of 15 minutes
    # Anna stars the 12:30 session (11:30-12:00 UTC): its two slots are not offered.
    with app.app_context():
        db.session.add(AgendaEntry(registration_id=world["anna"], session_id=world["session"]))
        db.session.commit()
    # Bo marks 13:30 (12:30 UTC) as unavailable.
    assert bo.post("/e/moeder/meetings/unavailable",
                   data={"slot": slot_at(12, 30), "busy": "1"}).status_code == 302
    page = anna.get(f"/e/moeder/meetings/new/{world['bo']}").get_data(as_text=True)
    assert page.count('name="slot"') == 6
    for hidden in (slot_at(11, 30), slot_at(11, 45), slot_at(12, 30)):
        assert f'value="{hidden}"' not in page
    assert "12:30–12:45" not in page and "13:30–13:45" not in page
    assert "13:00–13:15" in page and "15:30–15:45" in page


def test_person_and_solution_pages_offer_a_meeting(app, world, anna):
    page = anna.get(f"/e/moeder/directory/people/{world['bo']}").get_data(as_text=True)
    assert "Book et møde" in page and f"/e/moeder/meetings/new/{world['bo']}" in page
    page = anna.get(f"/e/moeder/directory/solutions/{world['solution']}").get_data(as_text=True)
    assert "Book et møde med Svendborg Kommune" in page
    assert f"/e/moeder/meetings/new/{world['bo']}?solution={world['solution']}" in page


# --- request, answer, calendar --------------------------------------------------------------

def test_request_accept_from_the_mail_link_move_and_cancel_keep_one_calendar_entry(
        app, world, anna, bo, mail_dir, client):
    response = _book(anna, world, slot=(12, 0))
    assert response.status_code == 302
    mails = delivered_mails(app, mail_dir)
    request_mail = [m for m in mails if m["To"] == "bo@svendborg.dk"][-1]
    assert "Anna Andersen vil gerne mødes med dig" in request_mail["Subject"]
    assert "anna@aarhus.dk" not in body_of(request_mail)  # no address leaks
    link = re.search(r"http://localhost(/e/moeder/meetings/link/\S+)", body_of(request_mail))
    # B opens the mail link in a browser that knows nobody, and says yes.
    page = client.get(link.group(1)).get_data(as_text=True)
    assert "Møde med Anna Andersen" in page and "Bord 1" in page
    assert client.post(link.group(1) + "/accept", data={"message": ""}).status_code == 302
    answer = [m for m in delivered_mails(app, mail_dir) if m["To"] == "anna@aarhus.dk"][-1]
    assert "er aftalt" in answer["Subject"] and "Bord 1" in body_of(answer)
    assert _attached_meeting(request_mail) is None  # only an agreed meeting is a date
    method, attached = _attached_meeting(answer)
    assert method == "PUBLISH" and attached["status"] == "CONFIRMED"
    assert "Bord 1" in str(attached["location"])

    for who in (anna, bo):
        day = who.get("/e/moeder/my-day").get_data(as_text=True)
        assert "Mine møder" in day and "13:00–13:15" in day and "Bord 1" in day
    first = _meetings_in(_feed(anna))
    assert len(first) == 1 and first[0]["status"] == "CONFIRMED"
    uid, sequence = str(first[0]["uid"]), int(first[0]["sequence"])

    # B moves it: the same entry, a higher SEQUENCE, in both feeds.
    meeting = _meeting(app)
    assert bo.post(f"/e/moeder/meetings/{meeting.id}/move",
                   data={"slot": slot_at(14, 0)}).status_code == 302
    for who in (anna, bo):
        moved = _meetings_in(_feed(who))
        assert len(moved) == 1 and str(moved[0]["uid"]) == uid
        assert int(moved[0]["sequence"]) > sequence
        assert moved[0].decoded("dtstart").strftime("%H:%M") == "15:00"
    moved_mail = [m for m in delivered_mails(app, mail_dir) if m["To"] == "anna@aarhus.dk"][-1]
    assert "flyttet" in moved_mail["Subject"]
    method, attached = _attached_meeting(moved_mail)
    assert str(attached["uid"]) == uid and int(attached["sequence"]) > sequence
    assert attached.decoded("dtstart").strftime("%H:%M") == "15:00"

    # A cancels: the feed keeps the entry as cancelled, my day drops it.
    assert anna.post(f"/e/moeder/meetings/{meeting.id}/cancel", data={}).status_code == 302
    gone = _meetings_in(_feed(bo))
    assert len(gone) == 1 and gone[0]["status"] == "CANCELLED" and str(gone[0]["uid"]) == uid
    assert "Mine møder" not in bo.get("/e/moeder/my-day").get_data(as_text=True)
    cancel_mail = [m for m in delivered_mails(app, mail_dir) if m["To"] == "bo@svendborg.dk"][-1]
    method, attached = _attached_meeting(cancel_mail)
    assert method == "CANCEL" and attached["status"] == "CANCELLED"
    assert str(attached["uid"]) == uid
    with app.app_context():  # the slots are free again
        assert db.session.scalar(select(func.count()).select_from(MeetingHold).where(
            MeetingHold.meeting_id == meeting.id)) == 0


def test_a_request_holds_the_slot_and_is_not_in_the_calendar_until_accepted(
        app, world, anna, bo):
    assert _book(anna, world, slot=(12, 0)).status_code == 302
    assert "Afventer svar" in anna.get("/e/moeder/my-day").get_data(as_text=True)
    assert _meetings_in(_feed(anna)) == []
    # The slot is held for Bo as well: nobody else can take it.
    page = bo.get("/e/moeder/meetings").get_data(as_text=True)
    assert "Venter på dit svar" in page and "Møde med Anna Andersen" in page


def test_decline_with_a_message_and_a_counter_proposal(app, world, anna, bo, mail_dir):
    _book(anna, world, slot=(12, 0))
    meeting = _meeting(app)
    # Bo proposes 15:15 instead; now Anna must answer.
    assert bo.post(f"/e/moeder/meetings/{meeting.id}/move",
                   data={"slot": slot_at(14, 15), "message": "Jeg er på scenen kl. 13"}
                   ).status_code == 302
    mail = [m for m in delivered_mails(app, mail_dir) if m["To"] == "anna@aarhus.dk"][-1]
    assert "foreslår et andet tidspunkt" in mail["Subject"]
    page = bo.post(f"/e/moeder/meetings/{meeting.id}/accept", data={})
    assert page.status_code == 403 and "den anden persons tur" in page.get_data(as_text=True)
    assert anna.post(f"/e/moeder/meetings/{meeting.id}/decline",
                     data={"message": "Så finder vi en anden dag"}).status_code == 302
    mail = [m for m in delivered_mails(app, mail_dir) if m["To"] == "bo@svendborg.dk"][-1]
    assert "kan ikke mødes" in mail["Subject"] and "anden dag" in body_of(mail)
    assert _meeting(app).status == "declined"


# --- bad input --------------------------------------------------------------------------------

def test_a_slot_outside_the_periods_is_refused_and_nothing_is_saved(app, world, anna):
    outside = str(int((DAY + timedelta(hours=9, minutes=7)).timestamp()))
    page = anna.post(f"/e/moeder/meetings/new/{world['bo']}",
                     data={"slot": outside, "message": "Hej Bo"})
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "ligger ikke i arrangementets mødeperioder" in text and "Hej Bo" in text
    garbage = anna.post(f"/e/moeder/meetings/new/{world['bo']}", data={"slot": "x" * 40})
    assert garbage.status_code == 400
    assert _meeting(app) is None


def test_oneself_and_people_without_consent_cannot_be_booked(app, world, anna, client):
    page = anna.get(f"/e/moeder/meetings/new/{world['anna']}")
    assert page.status_code == 400 and "med dig selv" in page.get_data(as_text=True)
    page = anna.post(f"/e/moeder/meetings/new/{world['carl']}", data={"slot": slot_at(12, 0)})
    assert page.status_code == 404 and "findes ikke i netværket" in page.get_data(as_text=True)
    # Carl himself (not in the directory) cannot book either.
    carl = as_(client, world, "carl")
    page = carl.post(f"/e/moeder/meetings/new/{world['bo']}", data={"slot": slot_at(12, 0)})
    assert page.status_code == 403 and "netværksoversigten" in page.get_data(as_text=True)
    # His picker shows him the way into the directory instead of slots.
    page = carl.get(f"/e/moeder/meetings/new/{world['bo']}")
    text = page.get_data(as_text=True)
    assert page.status_code == 403 and 'name="slot"' not in text
    assert "Du er ikke med i netværksoversigten" in text and "/e/moeder/directory/me" in text
    assert _meeting(app) is None


def test_the_cap_on_open_requests(app, world, anna):
    with app.app_context():
        others = [person(world["event"], f"p{i}@vejle.dk", f"Person {i}", "Vejle Kommune").id
                  for i in range(6)]
        db.session.commit()
    for i, other in enumerate(others[:5]):
        assert anna.post(f"/e/moeder/meetings/new/{other}",
                         data={"slot": slot_at(12, 0 + 15 * (i % 3)) if i < 3
                               else slot_at(14, 15 * (i - 3))}).status_code == 302
    page = anna.post(f"/e/moeder/meetings/new/{others[5]}", data={"slot": slot_at(14, 30)})
    assert page.status_code == 400 and "højeste antal" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Meeting)) == 5


def test_accepting_a_withdrawn_request_says_so(app, world, anna, client, mail_dir):
    _book(anna, world, slot=(12, 0))
    mail = [m for m in delivered_mails(app, mail_dir) if m["To"] == "bo@svendborg.dk"][-1]
    link = re.search(r"http://localhost(/e/moeder/meetings/link/\S+)", body_of(mail)).group(1)
    meeting = _meeting(app)
    assert anna.post(f"/e/moeder/meetings/{meeting.id}/cancel", data={}).status_code == 302
    page = client.post(link + "/accept", data={})
    assert page.status_code == 409
    assert "Anna Andersen har trukket forespørgslen tilbage" in page.get_data(as_text=True)
    assert _meeting(app).status == "withdrawn"


def test_a_taken_slot_is_refused_kindly(app, world, anna, client):
    with app.app_context():
        dan = person(world["event"], "dan@vejle.dk", "Dan Dalsgaard", "Vejle Kommune")
        db.session.commit()
        dan_token = dan.manage_token
    assert _book(anna, world, slot=(12, 0)).status_code == 302
    client.get(f"/r/{dan_token}")
    page = client.post(f"/e/moeder/meetings/new/{world['bo']}", data={"slot": slot_at(12, 0)})
    assert page.status_code == 409 and "lige blevet optaget" in page.get_data(as_text=True)


def test_the_database_refuses_a_second_meeting_for_a_person_or_table_in_a_slot(app, world):
    with app.app_context():
        start = DAY.replace(hour=12)
        db.session.add(MeetingHold(event_id=world["event"], registration_id=world["anna"],
                                   starts_at=start))
        db.session.commit()
        db.session.add(MeetingHold(event_id=world["event"], registration_id=world["anna"],
                                   starts_at=start))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        from eventhub.meetings.models import MeetingPlace
        place = db.session.scalars(select(MeetingPlace)).first()
        db.session.add(MeetingHold(event_id=world["event"], place_id=place.id, lane=0,
                                   starts_at=start))
        db.session.commit()
        db.session.add(MeetingHold(event_id=world["event"], place_id=place.id, lane=0,
                                   starts_at=start))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


# --- reminder, staff, follow-up, privacy -------------------------------------------------------

def test_the_reminder_comes_once_ten_minutes_before_with_the_table(app, world, anna, bo,
                                                                  mail_dir):
    _book(anna, world, slot=(12, 0))
    meeting = _meeting(app)
    bo.post(f"/e/moeder/meetings/{meeting.id}/accept", data={})
    delivered_mails(app, mail_dir)
    with app.app_context():
        assert scheduler.run_due(DAY.replace(hour=11, minute=45))["meeting-reminders"] == 0
        assert scheduler.run_due(DAY.replace(hour=11, minute=51))["meeting-reminders"] == 2
        assert scheduler.run_due(DAY.replace(hour=11, minute=52))["meeting-reminders"] == 0
        assert db.session.scalar(select(func.count()).select_from(MeetingReminder)) == 2
    reminders = [m for m in delivered_mails(app, mail_dir) if "Om 10 minutter" in m["Subject"]]
    assert sorted(m["To"] for m in reminders) == ["anna@aarhus.dk", "bo@svendborg.dk"]
    assert all("Bord 1" in m["Subject"] for m in reminders)


def test_staff_see_the_schedule_figures_and_pdf(app, world, anna, bo, client, tmp_path):
    _book(anna, world, slot=(12, 0))
    bo.post(f"/e/moeder/meetings/{_meeting(app).id}/accept", data={})
    login(client, "cm@example.com")
    page = client.get("/manage/e/moeder/meetings/").get_data(as_text=True)
    assert "Anna Andersen &amp; Bo Bertelsen" in page
    assert re.search(r'figure">1</span> aftalte', page)
    assert re.search(r'figure">100 %</span> sagt ja til', page)
    figure = re.search(r'figure">([^<]*)</span> møder pr. deltager', page).group(1)
    english = client.get("/manage/e/moeder/meetings/?lang=en").get_data(as_text=True)
    per_attendee = re.search(r'figure">([^<]*)</span> meetings per attendee', english).group(1)
    assert "," in figure and "." in per_attendee  # as each language writes numbers
    client.get("/manage/e/moeder/meetings/?lang=da")
    pdf = client.get("/manage/e/moeder/meetings/schedule.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    from tests.support.pdf import pdf_text
    text = pdf_text(pdf.data, tmp_path)
    assert "Bord 1" in text and "Anna Andersen & Bo Bertelsen" in text
    # A participant may not see it.
    assert anna.get("/manage/e/moeder/meetings/").status_code in (302, 403)


def test_the_organizer_sets_up_meetings_and_bad_input_keeps_what_was_typed(app, world, client):
    login(client, "arr@example.com")
    page = client.post("/manage/e/moeder/meetings/setup", data={
        "enabled": "1", "periods": "12:30-halv to", "slot_minutes": "20", "tables": "5",
        "table_capacity": "1", "max_pending": "3"})
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "Skriv tidsrummene som 12:30-14:00" in text and "12:30-halv to" in text
    page = client.post("/manage/e/moeder/meetings/setup", data={
        "enabled": "1", "periods": "10:00-11:00", "slot_minutes": "45", "tables": "5",
        "table_capacity": "1", "max_pending": "3"})
    assert page.status_code == 422 and "mellem 15 og 30" in page.get_data(as_text=True)
    assert client.post("/manage/e/moeder/meetings/setup", data={
        "enabled": "1", "periods": "10:00-11:00\n13:00-13:40", "slot_minutes": "20",
        "tables": "5", "table_capacity": "2", "max_pending": "3"}).status_code == 302
    with app.app_context():
        from eventhub.events.models import Event
        from eventhub.meetings import services
        event = db.session.get(Event, world["event"])
        assert len(services.slots_of(event)) == 5
        assert len(services.places_of(event)) == 5
    # The community manager may not change the setup.
    client.get("/logout")
    login(client, "cm@example.com")
    assert client.get("/manage/e/moeder/meetings/setup").status_code == 403


def test_vi_foelger_op_makes_a_lead_with_the_meeting_in_its_history(app, world, anna, bo):
    _book(anna, world, slot=(12, 0), solution=str(world["solution"]))
    meeting = _meeting(app)
    bo.post(f"/e/moeder/meetings/{meeting.id}/accept", data={})
    assert bo.post(f"/e/moeder/meetings/{meeting.id}/followup",
                   data={"solution": str(world["solution"]),
                         "message": "Anna låner en tablet i en måned"}).status_code == 302
    with app.app_context():
        lead = db.session.scalars(select(Lead)).one()
        # Bo's municipality runs the solution: the lead is about Anna, who may reuse it.
        assert lead.registration_id == world["anna"] and lead.source == "meeting"
        assert lead.stage == "meeting"
        history = " ".join(e.text for e in lead.entries)
        assert "Møde ved arrangementet" in history and "Bord 1" in history
        assert "låner en tablet" in history


def test_my_data_shows_exports_and_forgets_meetings(app, world, anna, bo, client):
    _book(anna, world, slot=(12, 0))
    bo.post(f"/e/moeder/meetings/{_meeting(app).id}/accept", data={})
    page = client.get(f"/r/{world['tokens']['anna']}/my-data").get_data(as_text=True)
    assert "Møder ved arrangementet" in page and "Bo Bertelsen" in page and "Aftalt" in page
    from eventhub.privacy import services as privacy
    from eventhub.registration.models import Registration
    with app.app_context():
        data = privacy.export(privacy.subject_for_registration(
            db.session.get(Registration, world["anna"])))
        assert data["meetings"][0]["with"] == "Bo Bertelsen"
        assert data["meetings"][0]["message"] == "Kan vi tale om skærmbesøg?"
        privacy.forget([world["anna"]])
        db.session.commit()
    with app.app_context():
        meeting = db.session.scalars(select(Meeting)).one()
        assert meeting.status == "cancelled" and meeting.message == ""
        assert db.session.scalar(select(func.count()).select_from(MeetingHold)) == 0
    # Bo's day no longer holds it; his calendar cancels it.
    assert "Mine møder" not in bo.get("/e/moeder/my-day").get_data(as_text=True)
    assert [str(e["status"]) for e in _meetings_in(_feed(bo))] == ["CANCELLED"]


def test_a_forged_solution_is_left_out_not_an_error(app, world, anna):
    assert _book(anna, world, slot=(12, 0), solution="999999").status_code == 302
    assert _meeting(app).solution_id is None
