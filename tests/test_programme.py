"""Organizers build the programme; participants browse it and plan their day."""

import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from eventhub.extensions import db
from eventhub.programme.models import AgendaEntry, Room, Session, Signup, Track
from tests.support.client import login
from tests.support.factories import PASSWORD, make_event, make_registration, make_session, make_user

START = datetime(2027, 3, 10, 8, 0, tzinfo=UTC)  # 09:00 in Copenhagen


@pytest.fixture
def organizer(app, client):
    user_id = make_user(app, "org@example.com", password=PASSWORD)
    event_id = make_event(app, "dag", title="Del og Genbrug", organizer_id=user_id,
                          venue="Dokk1, Aarhus")
    login(client, "org@example.com")
    return event_id


def add_room_and_track(client):
    client.post("/manage/e/dag/programme/rooms", data={"name": "Store Sal", "capacity": "200"})
    client.post("/manage/e/dag/programme/tracks", data={"name": "Drift", "colour": "#0b5c54"})


def ids(app):
    with app.app_context():
        return (db.session.scalar(select(Room.id)), db.session.scalar(select(Track.id)))


def session_form(room, **overrides):
    data = {"title": "Skærmbesøg i hjemmeplejen", "kind": "case",
            "starts_at": "2027-03-10T10:00", "ends_at": "2027-03-10T10:30",
            "room_id": str(room), "track_id": "", "description": "",
            "signup_capacity": "", "external_speakers": "Mette Holm; Aarhus Kommune"}
    data.update(overrides)
    return data


def count_sessions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Session))


def test_organizer_adds_rooms_tracks_and_sessions(client, app, organizer):
    add_room_and_track(client)
    room_id, track_id = ids(app)
    dup = client.post("/manage/e/dag/programme/rooms", data={"name": "store sal"})
    assert dup.status_code == 422 and "allerede et lokale" in dup.get_data(as_text=True)
    response = client.post("/manage/e/dag/programme/sessions/new",
                           data=session_form(room_id, track_id=str(track_id)))
    assert response.status_code == 302
    page = client.get("/e/dag/programme").get_data(as_text=True)
    assert "Skærmbesøg i hjemmeplejen" in page and "Mette Holm" in page
    assert "10:00" in page  # Copenhagen time


@pytest.mark.parametrize("overrides,message", [
    ({"ends_at": "2027-03-10T09:00"}, "Slut skal ligge efter start."),
    ({"starts_at": "10. marts kl 10"}, "Skriv dato og klokkeslæt"),
    ({"room_id": "99999"}, "Vælg en af mulighederne på listen."),
    ({"title": ""}, "Skriv en titel."),
    ({"kind": "koncert"}, "Vælg en af mulighederne på listen."),
])
def test_session_errors_are_never_saved(client, app, organizer, overrides, message):
    add_room_and_track(client)
    room_id, _ = ids(app)
    response = client.post("/manage/e/dag/programme/sessions/new",
                           data=session_form(room_id, **overrides))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "Mette Holm; Aarhus Kommune" in page  # typed values kept
    assert count_sessions(app) == 0


def test_warnings_need_confirmation(client, app, organizer):
    add_room_and_track(client)
    room_id, _ = ids(app)
    client.post("/manage/e/dag/programme/sessions/new", data=session_form(room_id))
    clash = session_form(room_id, title="Sensorer om natten", starts_at="2027-03-10T10:15",
                         ends_at="2027-03-10T10:45")
    first = client.post("/manage/e/dag/programme/sessions/new", data=clash)
    page = first.get_data(as_text=True)
    assert first.status_code == 422
    assert "Lokalet Store Sal er optaget" in page
    assert "Mette Holm taler også i" in page
    assert count_sessions(app) == 1
    confirmed = client.post("/manage/e/dag/programme/sessions/new",
                            data={**clash, "confirm_warnings": "y"})
    assert confirmed.status_code == 302
    assert count_sessions(app) == 2


def test_session_outside_the_event_warns(client, app, organizer):
    add_room_and_track(client)
    room_id, _ = ids(app)
    early = session_form(room_id, starts_at="2027-03-09T10:00", ends_at="2027-03-09T11:00")
    page = client.post("/manage/e/dag/programme/sessions/new", data=early).get_data(
        as_text=True)
    assert "uden for arrangementets tid" in page
    assert count_sessions(app) == 0


def test_duplicate_and_cancel(client, app, organizer):
    session_id = make_session(app, organizer, "Workshop", START + timedelta(hours=2),
                              START + timedelta(hours=3))
    client.post(f"/manage/e/dag/programme/sessions/{session_id}/duplicate", data={})
    client.post(f"/manage/e/dag/programme/sessions/{session_id}/cancel", data={})
    with app.app_context():
        original, copy = db.session.scalars(select(Session).order_by(Session.id)).all()
        assert copy.title == "Workshop (kopi)" and copy.starts_at == original.ends_at
        assert copy.uid != original.uid
        assert original.status == "cancelled" and original.sequence == 1
    page = client.get("/e/dag/programme").get_data(as_text=True)
    assert "Workshop" in page and "Aflyst" in page  # cancelled stays visible


CSV = """titel;start;slut;lokale;spor;type;oplægsholdere
Velkommen;2027-03-10 09:00;2027-03-10 09:30;Store Sal;Drift;keynote;Anna And (EventHub)
Forkert tid;10-03-2027 kl 10;2027-03-10 10:30;Store Sal;;case;
Ukendt lokale;2027-03-10 10:00;2027-03-10 10:30;Kælderen;;case;
Baglæns;2027-03-10 12:00;2027-03-10 11:00;;;talk;
Workshop;2027-03-10 13:00;2027-03-10 14:00;Store Sal;;Workshop;
"""


def test_import_sessions_with_a_dry_run(client, app, organizer):
    add_room_and_track(client)
    dry = client.post("/manage/e/dag/programme/import", data={"csv_text": CSV})
    page = dry.get_data(as_text=True)
    assert "2 rækker er klar til import. 3 rækker har fejl" in page
    assert "ugyldigt tidspunkt" in page and "ukendt lokale" in page
    assert "Slut skal ligge efter start." in page
    assert count_sessions(app) == 0
    client.post("/manage/e/dag/programme/import", data={"csv_text": CSV, "confirm": "1"})
    with app.app_context():
        titles = list(db.session.scalars(select(Session.title).order_by(Session.starts_at)))
        kinds = list(db.session.scalars(select(Session.kind).order_by(Session.starts_at)))
    assert titles == ["Velkommen", "Workshop"] and kinds == ["keynote", "workshop"]


def test_programme_pdf(client, app, organizer, tmp_path):
    make_session(app, organizer, "Keynote om spredning", START, START + timedelta(hours=1))
    make_session(app, organizer, "Aflyst punkt", START + timedelta(hours=1),
                 START + timedelta(hours=2), status="cancelled")
    response = client.get("/manage/e/dag/programme/programme.pdf")
    assert response.mimetype == "application/pdf"
    path = tmp_path / "p.pdf"
    path.write_bytes(response.data)
    assert shutil.which("pdftotext")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Keynote om spredning" in text and "09:00–10:00" in text and "Aflyst" in text


def test_programme_pages_are_for_organizers(client, app, organizer):
    client.post("/logout", data={})
    make_user(app, "p@example.com", password=PASSWORD)
    login(client, "p@example.com")
    for path in ("/manage/e/dag/programme/", "/manage/e/dag/programme/sessions/new",
                 "/manage/e/dag/programme/import", "/manage/e/dag/programme/programme.pdf"):
        assert client.get(path).status_code == 403, path


# Participants ---------------------------------------------------------------------------


def test_filter_by_track_and_grid(client, app, organizer):
    with app.app_context():
        drift = Track(event_id=organizer, name="Drift")
        nyt = Track(event_id=organizer, name="Nyt")
        db.session.add_all([drift, nyt])
        db.session.commit()
        drift_id, nyt_id = drift.id, nyt.id
    make_session(app, organizer, "Drift-punkt", START, START + timedelta(hours=1),
                 track_id=drift_id)
    make_session(app, organizer, "Nyt punkt", START, START + timedelta(hours=1),
                 track_id=nyt_id)
    page = client.get(f"/e/dag/programme?track={drift_id}").get_data(as_text=True)
    assert "Drift-punkt" in page and "Nyt punkt" not in page
    grid = client.get("/e/dag/programme?view=grid").get_data(as_text=True)
    assert "<table" in grid and "Drift-punkt" in grid and "Nyt punkt" in grid


def test_now_and_next_are_marked(client, app):
    now = datetime.now(UTC)
    event_id = make_event(app, "nu", starts_at=now - timedelta(hours=2),
                          ends_at=now + timedelta(hours=6))
    make_session(app, event_id, "Det der sker nu", now - timedelta(minutes=10),
                 now + timedelta(minutes=20))
    make_session(app, event_id, "Det der kommer", now + timedelta(minutes=30),
                 now + timedelta(minutes=60))
    page = client.get("/e/nu/programme").get_data(as_text=True)
    now_at = page.index('<span class="badge badge-now">Nu</span>')
    next_at = page.index('<span class="badge badge-next">Næste</span>')
    assert page.index("Det der sker nu") > now_at and page.index("Det der kommer") > next_at


def test_starring_needs_the_personal_link_then_builds_my_day(client, app):
    event_id = make_event(app, "dag")
    a = make_session(app, event_id, "Keynote", START, START + timedelta(hours=1))
    b = make_session(app, event_id, "Case samtidig", START + timedelta(minutes=30),
                     START + timedelta(minutes=90))
    anonymous = client.post(f"/e/dag/programme/{a}/star", data={})
    assert "/login" in anonymous.headers["Location"]
    assert "personlige link" in client.get("/e/dag/my-day").get_data(as_text=True)

    _reg_id, token = make_registration(app, event_id, "p@example.com")
    client.get(f"/r/{token}")  # this browser now acts for the registration
    client.post(f"/e/dag/programme/{a}/star", data={})
    client.post(f"/e/dag/programme/{b}/star", data={})
    page = client.get("/e/dag/my-day").get_data(as_text=True)
    assert "Keynote" in page and "Case samtidig" in page
    assert "ligger samtidig" in page  # the overlap warning
    assert "webcal://localhost/e/dag/agenda/" in page
    client.post(f"/e/dag/programme/{b}/unstar", data={})
    assert "ligger samtidig" not in client.get("/e/dag/my-day").get_data(as_text=True)


def test_workshop_sign_up_with_waiting_list(app):
    event_id = make_event(app, "dag")
    workshop = make_session(app, event_id, "Workshop", START + timedelta(days=30),
                            START + timedelta(days=30, hours=1), kind="workshop",
                            signup_capacity=1)
    from tests.support.client import Client

    first, second = (Client(app, app.response_class) for _ in range(2))
    for i, client in enumerate((first, second)):
        _rid, token = make_registration(app, event_id, f"p{i}@example.com", f"Person {i}")
        client.get(f"/r/{token}")
    ok = first.post(f"/e/dag/programme/{workshop}/signup", data={}, follow_redirects=True)
    assert "Du er tilmeldt Workshop." in ok.get_data(as_text=True)
    full = second.post(f"/e/dag/programme/{workshop}/signup", data={}, follow_redirects=True)
    assert "nummer 1 på ventelisten" in full.get_data(as_text=True)
    first.post(f"/e/dag/programme/{workshop}/withdraw", data={})
    with app.app_context():
        statuses = db.session.execute(select(Signup.status)).scalars().all()
        assert statuses == ["signed_up"]  # the waiting person moved up
        assert db.session.scalar(select(func.count()).select_from(AgendaEntry)) == 2


def test_sign_up_after_the_session_started_is_refused(client, app):
    now = datetime.now(UTC)
    event_id = make_event(app, "dag", starts_at=now - timedelta(hours=1),
                          ends_at=now + timedelta(hours=5))
    workshop = make_session(app, event_id, "I gang", now - timedelta(minutes=5),
                            now + timedelta(minutes=55), kind="workshop", signup_capacity=10)
    _rid, token = make_registration(app, event_id, "p@example.com")
    client.get(f"/r/{token}")
    page = client.post(f"/e/dag/programme/{workshop}/signup", data={},
                       follow_redirects=True).get_data(as_text=True)
    assert "begyndt, så tilmeldingen er lukket" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signup)) == 0


def test_unknown_session_is_a_danish_404(client, app):
    make_event(app, "dag")
    assert client.get("/e/dag/programme/4242").status_code == 404
    assert client.get("/e/dag/programme/4242.ics").status_code == 404
