"""Property-based input tests (hypothesis): random, oversized and odd Unicode input to
every form and JSON endpoint of registration, programme, polls, accounts and event
management. Whatever arrives, the answer is never a 500.

Each route gets a world of its own (an event with a question, a room, a session and
polls, an organizer signed in where the route needs one) and a few dozen examples.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer

from eventhub.accounts import sessions
from eventhub.extensions import db, limiter

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))

ODD = [
    "", " ", "\x00", "a\x00b", "\u202eevil", "\ufeff", "😀" * 60, "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "ø\u0338å\u030a",
    "ﷺ" * 300, "\r\n\r\n", "\t", "<script>alert(1)</script>", "'; DROP TABLE users; --",
    "%(name)s {0} %s %d", "../../etc/passwd", "2027-13-45T25:61", "2027-03-10T09:00",
    "-1", "0", "99999999999999999999999", "1e309", "NaN", "null", "[]", "{}",
    "a@b", "x" * 10_000, "æøå@æøå.dk", "mette@example.com", "Aarhus Kommune",
    "single", "multiple", "scale", "wordcloud", "open_text", "qa", "organizer",
    "short_text", "single_choice", "published", "draft",
]
VALUE = st.one_of(st.sampled_from(ODD), st.text(max_size=40),
                  st.text(min_size=300, max_size=3000), st.integers().map(str))
VALUES = st.one_of(VALUE, st.lists(VALUE, max_size=4))


def form_data(fields: list[str]):
    return st.dictionaries(st.sampled_from(fields), VALUES, max_size=len(fields))


def build(app) -> dict:
    """An event with a question, room, track, session, polls and a registration."""
    from eventhub.accounts.models import User
    from eventhub.events.models import ORGANIZER, PUBLISHED, Event, EventRole
    from eventhub.polls.models import Poll, PollOption
    from eventhub.programme.models import Room, Session, Track
    from eventhub.registration.models import Question, Registration

    with app.app_context():
        start = datetime.now(UTC) + timedelta(days=30)
        org = User(email="org@example.com", name="Org")
        db.session.add(org)
        event = Event(slug="dag", title="Dag", starts_at=start,
                      ends_at=start + timedelta(hours=6), status=PUBLISHED, capacity=5)
        db.session.add(event)
        db.session.flush()
        db.session.add(EventRole(event_id=event.id, user_id=org.id, role=ORGANIZER))
        question = Question(event_id=event.id, label="Valg", kind="single_choice",
                            options=["A", "B"])
        room = Room(event_id=event.id, name="Sal 1")
        track = Track(event_id=event.id, name="Spor")
        reg = Registration(event_id=event.id, email="p@example.com", name="P")
        db.session.add_all([question, room, track, reg])
        db.session.flush()
        session = Session(event_id=event.id, title="Oplæg", starts_at=start,
                          ends_at=start + timedelta(hours=1), signup_capacity=3)
        polls = {kind: Poll(event_id=event.id, question=kind, kind=kind, status="open",
                            options=[PollOption(label=o, position=i)
                                     for i, o in enumerate("ABC")] if kind in (
                                "single", "multiple") else [])
                 for kind in ("single", "multiple", "scale", "wordcloud", "open_text", "qa")}
        db.session.add(session)
        db.session.add_all(polls.values())
        sign_in = sessions.start(org)
        db.session.commit()
        return {"q": question.id, "session": session.id, "token": reg.manage_token,
                "code": event.join_code, "user": (org.id, sign_in),
                "reg": reg.id, "ticket": reg.ticket_code,
                **{f"poll_{k}": p.id for k, p in polls.items()}}


def client_for(app, world: dict, signed_in: bool) -> tuple[FlaskClient, str]:
    client = FlaskClient(app, app.response_class, use_cookies=True)
    with client.session_transaction() as sess:
        if signed_in:
            sess["_user_id"], sess["_fresh"] = f"{world['user'][0]}:{world['user'][1]}", True
        raw = hashlib.sha1(os.urandom(64)).hexdigest()
        sess["csrf_token"] = raw
    token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)
    client.get(f"/j/{world['code']}")  # a voter cookie, as a phone gets it
    return client, token


REG_FIELDS = ["name", "email", "organization", "organization_kind", "job_title",
              "directory_consent", "q_{q}", "q_999999", "q_x"]
SESSION_FIELDS = ["title", "kind", "starts_at", "ends_at", "room_id", "track_id",
                  "description", "signup_capacity", "speaker_ids", "external_speakers",
                  "confirm_warnings"]
EVENT_FIELDS = ["title", "slug", "description", "venue", "starts_at", "ends_at", "capacity",
                "registration_opens_at", "registration_closes_at", "status",
                "directory_open_until", "retention_until", "requires_approval",
                "privacy_notice"]
POLL_FIELDS = ["question", "kind", "options", "max_choices", "scale_min", "scale_max",
               "banned_words", "session_id", "audience", "allow_change", "results_visible"]

# (method, url, fields, signed in as the organizer, extra headers)
ROUTES = [
    ("POST", "/e/dag/register", REG_FIELDS, False, {}),
    ("POST", "/e/dag/register/resend", ["email"], False, {}),
    ("POST", "/r/{token}/edit", REG_FIELDS, False, {}),
    ("POST", "/r/{token}/my-data/correct", ["name", "job_title", "organization"], False, {}),
    ("GET", "/organizations/search", ["q"], False, {}),
    ("POST", "/e/dag/programme/{session}/signup", ["back"], False, {}),
    ("POST", "/manage/e/dag/programme/sessions/new", SESSION_FIELDS, True, {}),
    ("POST", "/manage/e/dag/programme/rooms", ["name", "capacity"], True, {}),
    ("POST", "/manage/e/dag/programme/tracks", ["name", "colour"], True, {}),
    ("POST", "/manage/e/dag/programme/import", ["csv_text", "confirm"], True, {}),
    ("GET", "/e/dag/programme", ["track", "room", "view"], False, {}),
    ("POST", "/j", ["code"], False, {}),
    ("POST", "/j/{code}/polls/{poll_single}/vote", ["choice"], False, {}),
    ("POST", "/j/{code}/polls/{poll_multiple}/vote", ["choice"], False,
     {"Accept": "application/json"}),
    ("POST", "/j/{code}/polls/{poll_scale}/vote", ["choice"], False, {}),
    ("POST", "/j/{code}/polls/{poll_wordcloud}/vote", ["choice"], False, {}),
    ("POST", "/j/{code}/polls/{poll_open_text}/vote", ["choice"], False,
     {"Accept": "application/json"}),
    ("POST", "/j/{code}/polls/{poll_qa}/ask", ["text"], False,
     {"Accept": "application/json"}),
    ("POST", "/manage/e/dag/polls/new", POLL_FIELDS, True, {}),
    ("POST", "/login", ["email", "password", "next"], False, {}),
    ("POST", "/login/link", ["email", "next"], False, {}),
    ("POST", "/account", ["password"], True, {}),
    ("POST", "/manage/events/new", EVENT_FIELDS, True, {}),
    ("POST", "/manage/e/dag/edit", EVENT_FIELDS, True, {}),
    ("POST", "/manage/e/dag/staff", ["email", "name", "role"], True, {}),
    ("POST", "/manage/e/dag/questions", ["label", "kind", "options", "required",
                                          "help_text"], True, {}),
    ("POST", "/manage/e/dag/registrations/new", REG_FIELDS + ["badge_role"], True, {}),
    ("POST", "/manage/e/dag/registrations/{reg}", REG_FIELDS + ["badge_role"], True, {}),
    ("POST", "/manage/e/dag/registrations/import", ["csv_text", "confirm"], True, {}),
    ("GET", "/manage/e/dag/registrations", ["q", "status", "organization", "kind",
                                            "question", "answer"], True, {}),
    ("POST", "/manage/e/dag/checkin", ["code"], True, {}),
    ("GET", "/manage/e/dag/log", ["page"], True, {}),
]


@pytest.mark.parametrize("method,url,fields,signed_in,headers", ROUTES,
                         ids=[f"{m} {u}" for m, u, *_ in ROUTES])
def test_odd_input_never_gives_a_500(app, method, url, fields, signed_in, headers):
    world = build(app)
    url = url.format(**world)
    fields = [f.format(**world) for f in fields]
    client, token = client_for(app, world, signed_in)
    limiter.enabled = False

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=form_data(fields))
    def check(data):
        if method == "GET":
            response = client.get(url, query_string=data, headers=headers)
        else:
            response = client.post(url, data={**data, "csrf_token": token},
                                   headers={"Referer": "http://localhost/", **headers})
        response.close()
        assert response.status_code < 500, (response.status_code, data)

    try:
        check()
    finally:
        limiter.enabled = True


def test_nul_bytes_are_a_400(app, client):
    build(app)
    assert client.get("/organizations/search?q=a%00b").status_code == 400
    page = client.post("/e/dag/register", data={"name": "a\x00b", "email": "x@example.com"})
    assert page.status_code == 400
    assert "Forespørgslen kunne ikke forstås" in page.get_data(as_text=True)
