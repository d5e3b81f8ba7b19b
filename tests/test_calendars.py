"""Calendar feeds (RFC 5545) parsed back: times, time zones, UIDs, SEQUENCE, cancellation."""

from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from sqlalchemy import select

from eventhub.extensions import db
from eventhub.programme.models import Room, Session
from tests.support.client import login
from tests.support.factories import PASSWORD, make_event, make_registration, make_session, make_user

# Denmark moves to summer time on 28 March 2027 at 02:00.
WINTER = datetime(2027, 3, 27, 9, 0, tzinfo=UTC)  # 10:00 CET
SUMMER = datetime(2027, 3, 29, 8, 0, tzinfo=UTC)  # 10:00 CEST


def feed(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def events_by_uid(cal):
    return {str(ev["UID"]): ev for ev in cal.walk("VEVENT")}


def setup(app):
    organizer = make_user(app, "org@example.com", password=PASSWORD)
    event_id = make_event(app, "tur", title="Tur", organizer_id=organizer,
                          starts_at=WINTER - timedelta(hours=2),
                          ends_at=SUMMER + timedelta(hours=8), venue="Dokk1, Aarhus")
    with app.app_context():
        room = Room(event_id=event_id, name="Store Sal")
        db.session.add(room)
        db.session.commit()
        room_id = room.id
    winter = make_session(app, event_id, "Vinter", WINTER, WINTER + timedelta(hours=1),
                          room_id=room_id)
    summer = make_session(app, event_id, "Sommer", SUMMER, SUMMER + timedelta(hours=1))
    return event_id, winter, summer


def test_programme_feed_times_across_the_summer_time_change(client, app):
    _event_id, winter, _summer = setup(app)
    cal = feed(client, "/e/tur/programme.ics")
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Copenhagen"]
    evs = {str(ev["SUMMARY"]): ev for ev in cal.walk("VEVENT")}
    for name, utc_start, offset in (("Vinter", WINTER, 1), ("Sommer", SUMMER, 2)):
        start = evs[name]["DTSTART"]
        assert start.params["TZID"] == "Europe/Copenhagen"
        assert start.dt.hour == 10  # wall-clock time in Copenhagen on both days
        assert start.dt.utcoffset() == timedelta(hours=offset)
        assert start.dt.astimezone(UTC) == utc_start
    assert str(evs["Vinter"]["LOCATION"]) == "Store Sal, Dokk1, Aarhus"
    assert f"http://localhost/e/tur/programme/{winter}" in str(evs["Vinter"]["DESCRIPTION"])
    assert len(events_by_uid(cal)) == 2  # UIDs are unique
    assert str(cal["VERSION"]) == "2.0" and "PRODID" in cal


def test_uid_is_stable_sequence_rises_cancelled_keeps_uid(client, app):
    _event_id, winter, _summer = setup(app)
    before = events_by_uid(feed(client, "/e/tur/programme.ics"))
    login(client, "org@example.com")
    client.post(f"/manage/e/tur/programme/sessions/{winter}", data={
        "title": "Vinter (flyttet)", "kind": "talk", "starts_at": "2027-03-27T11:00",
        "ends_at": "2027-03-27T12:00", "room_id": "", "track_id": "", "description": "",
        "signup_capacity": "", "external_speakers": ""})
    client.post(f"/manage/e/tur/programme/sessions/{winter}/cancel", data={})
    after = events_by_uid(feed(client, "/e/tur/programme.ics"))
    assert set(after) == set(before)  # same UIDs after the edit and the cancellation
    with app.app_context():
        uid = db.session.scalar(select(Session.uid).where(Session.id == winter))
    assert int(after[uid]["SEQUENCE"]) == int(before[uid]["SEQUENCE"]) + 2
    assert str(after[uid]["STATUS"]) == "CANCELLED"
    assert str(after[uid]["SUMMARY"]) == "Vinter (flyttet)"
    single = feed(client, f"/e/tur/programme/{winter}.ics")
    assert list(events_by_uid(single)) == [uid]


def test_personal_feed_is_secret_and_resettable(client, app):
    event_id, winter, _summer = setup(app)
    _rid, token = make_registration(app, event_id, "p@example.com")
    client.get(f"/r/{token}")
    client.post(f"/e/tur/programme/{winter}/star", data={})
    page = client.get("/e/tur/my-day").get_data(as_text=True)
    path = page.split("http://localhost", 1)[1].split('"', 1)[0]
    assert path.startswith("/e/tur/agenda/") and path.endswith(".ics")

    other = app.test_client()  # a calendar app: no cookies, no sign-in
    cal = feed(other, path)
    assert [str(ev["SUMMARY"]) for ev in cal.walk("VEVENT")] == ["Vinter"]

    client.post("/e/tur/my-day/feed/reset", data={})
    gone = other.get(path)
    assert gone.status_code == 404  # not someone else's agenda, not an error
    assert "nulstillet" in gone.get_data(as_text=True)
    new_path = client.get("/e/tur/my-day").get_data(as_text=True).split(
        "http://localhost", 1)[1].split('"', 1)[0]
    assert new_path != path and other.get(new_path).status_code == 200
