"""Rooms and tracks can be changed and deleted (a room in use asks where its sessions
go, and nothing is deleted until that is answered); polls can be deleted (with answers
only after a confirmation, and the activity log says so)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from eventhub.extensions import db
from eventhub.polls.models import Poll, PollOption, Vote
from eventhub.programme.models import Room, Session, Track
from tests.support.client import login
from tests.support.factories import PASSWORD, make_event, make_session, make_user
from tests.support.plain_words import visible_text

START = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def setup(app, client):
    org = make_user(app, "org@example.com", password=PASSWORD)
    event_id = make_event(app, "dag", organizer_id=org)
    with app.app_context():
        big, small = Room(event_id=event_id, name="Store Sal", capacity=200), \
            Room(event_id=event_id, name="Lokale 2", capacity=40)
        track = Track(event_id=event_id, name="Drift", colour="#0b5c54")
        other_event = make_event(app, "andet")
        foreign = Room(event_id=other_event, name="Fremmed")
        db.session.add_all([big, small, track, foreign])
        db.session.commit()
        ids = {"big": big.id, "small": small.id, "track": track.id, "foreign": foreign.id,
               "event": event_id}
    ids["sessions"] = [make_session(app, event_id, f"Punkt {n}", START + timedelta(hours=n),
                                    START + timedelta(hours=n, minutes=45),
                                    room_id=ids["big"], track_id=ids["track"])
                       for n in range(2)]
    login(client, "org@example.com")
    return ids


def _text(response) -> str:
    return " ".join(visible_text(response.get_data(as_text=True))[0])


def _rooms_of_sessions(app, ids):
    with app.app_context():
        return [db.session.get(Session, sid).room_id for sid in ids["sessions"]]


def test_rename_a_room_and_a_track(app, client, setup):
    response = client.post(f"/manage/e/dag/programme/rooms/{setup['big']}",
                           data={"name": "Den Store Sal", "capacity": "180"})
    assert response.status_code == 302
    response = client.post(f"/manage/e/dag/programme/tracks/{setup['track']}",
                           data={"name": "Drift og spredning", "colour": "#b8420f"})
    assert response.status_code == 302
    with app.app_context():
        room = db.session.get(Room, setup["big"])
        assert (room.name, room.capacity) == ("Den Store Sal", 180)
        assert db.session.get(Track, setup["track"]).colour == "#b8420f"
    clash = client.post(f"/manage/e/dag/programme/rooms/{setup['big']}",
                        data={"name": "lokale 2", "capacity": "10"})
    assert clash.status_code == 422
    assert "Der er allerede et lokale med det navn." in _text(clash)
    assert 'value="lokale 2"' in clash.get_data(as_text=True)


def test_deleting_a_room_in_use_asks_where_its_sessions_go(app, client, setup):
    path = f"/manage/e/dag/programme/rooms/{setup['big']}/delete"
    page = _text(client.get(path))
    assert "Punkt 0" in page and "Lokale 2" in page and "Intet lokale" in page

    refused = client.post(path, data={})
    assert refused.status_code == 409
    assert "2 programpunkter bruger det" in _text(refused)
    with app.app_context():
        assert db.session.get(Room, setup["big"]) is not None
    assert _rooms_of_sessions(app, setup) == [setup["big"]] * 2

    foreign = client.post(path, data={"move_to": str(setup["foreign"])})
    assert foreign.status_code == 409 and "Vælg en af mulighederne" in _text(foreign)
    with app.app_context():
        assert db.session.get(Room, setup["big"]) is not None

    moved = client.post(path, data={"move_to": str(setup["small"])})
    assert moved.status_code == 302
    with app.app_context():
        assert db.session.get(Room, setup["big"]) is None
        assert all(db.session.get(Session, sid).sequence == 1 for sid in setup["sessions"])
    assert _rooms_of_sessions(app, setup) == [setup["small"]] * 2
    log = _text(client.get("/manage/e/dag/log"))
    assert f"Lokale #{setup['big']} slettet" in log


def test_deleting_a_room_can_leave_its_sessions_without_one(app, client, setup):
    path = f"/manage/e/dag/programme/rooms/{setup['big']}/delete"
    assert client.post(path, data={"move_to": "none"}).status_code == 302
    assert _rooms_of_sessions(app, setup) == [None, None]


def test_deleting_an_unused_room_or_track_needs_no_choice(app, client, setup):
    assert client.post(f"/manage/e/dag/programme/rooms/{setup['small']}/delete",
                       data={}).status_code == 302
    path = f"/manage/e/dag/programme/tracks/{setup['track']}/delete"
    assert client.post(path, data={}).status_code == 409  # the track is in use
    assert client.post(path, data={"move_to": "none"}).status_code == 302
    with app.app_context():
        assert db.session.get(Room, setup["small"]) is None
        assert db.session.get(Track, setup["track"]) is None
        assert {db.session.get(Session, s).track_id for s in setup["sessions"]} == {None}


def test_a_room_of_another_event_is_not_found(app, client, setup):
    assert client.get(f"/manage/e/dag/programme/rooms/{setup['foreign']}").status_code == 404
    assert client.post(f"/manage/e/dag/programme/rooms/{setup['foreign']}/delete",
                       data={}).status_code == 404


def _poll(app, event_id: int, votes: int) -> int:
    with app.app_context():
        poll = Poll(event_id=event_id, question="Hvad virker?", kind="single", status="open",
                    options=[PollOption(label="Ja", position=1),
                             PollOption(label="Nej", position=2)])
        db.session.add(poll)
        db.session.flush()
        for n in range(votes):
            db.session.add(Vote(poll_id=poll.id, voter_key=f"a:{n}",
                                value=[poll.options[0].id]))
        db.session.commit()
        return poll.id


def test_deleting_a_poll_without_answers(app, client, setup):
    poll = _poll(app, setup["event"], 0)
    assert "Ingen har svaret endnu" in _text(client.get(f"/manage/e/dag/polls/{poll}/delete"))
    assert client.post(f"/manage/e/dag/polls/{poll}/delete", data={}).status_code == 302
    with app.app_context():
        assert db.session.get(Poll, poll) is None


def test_deleting_a_poll_with_votes_needs_a_confirmation_and_is_logged(app, client, setup):
    poll = _poll(app, setup["event"], 2)
    edit = client.get(f"/manage/e/dag/polls/{poll}").get_data(as_text=True)
    assert f"/manage/e/dag/polls/{poll}/delete" in edit
    warning = _text(client.get(f"/manage/e/dag/polls/{poll}/delete"))
    assert "Afstemningen har 2 svar" in warning
    refused = client.post(f"/manage/e/dag/polls/{poll}/delete", data={})
    assert refused.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Vote)) == 2
    done = client.post(f"/manage/e/dag/polls/{poll}/delete", data={"confirm": "y"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(Poll, poll) is None
        assert db.session.scalar(select(func.count()).select_from(Vote)) == 0
    assert f"Afstemning #{poll} med 2 svar" in _text(client.get("/manage/e/dag/log"))


def test_only_organizers_delete(app, client, setup):
    poll = _poll(app, setup["event"], 1)
    client.post("/logout", data={})
    make_user(app, "p@example.com", password=PASSWORD)
    login(client, "p@example.com")
    assert client.post(f"/manage/e/dag/polls/{poll}/delete",
                       data={"confirm": "y"}).status_code == 403
    assert client.post(f"/manage/e/dag/programme/rooms/{setup['big']}/delete",
                       data={"move_to": "none"}).status_code == 403
    with app.app_context():
        assert db.session.get(Poll, poll) is not None
        assert db.session.get(Room, setup["big"]) is not None
