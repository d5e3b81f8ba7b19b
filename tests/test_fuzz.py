"""Property-based input tests (hypothesis): random, oversized and odd Unicode input to
every form and JSON endpoint of registration, programme, polls, accounts, event
management, follow-up and the directory. Whatever arrives, the answer is never a 500.

Each route gets a world of its own (an event with a question, a room, a session, polls,
a solution and a lead, an organizer signed in where the route needs one) and a few dozen
examples. Dates at the edges of the calendar (year 1, year 9999, the ends of the years
the app accepts, the hour that is skipped and the hour that repeats in Copenhagen) go
into every date field of every form and import with the rest of the form valid, so they
reach the conversion to UTC; CSV imports get fields past every size limit.
"""

from __future__ import annotations

import hashlib
import io
import os
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer

from eventhub.accounts import sessions
from eventhub.extensions import db, limiter
from eventhub.uploads import FIELD_MAX_CHARS

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


# Moments at the edges: Python's first and last minutes, the ends of the years the app
# accepts (eventhub/timeutil.py) and just outside them, and Copenhagen's skipped hour
# (last Sunday of March, 02:00-03:00) and repeated hour (last Sunday of October).
EDGE_MOMENTS = [
    datetime(1, 1, 1, 0, 0), datetime(1, 1, 1, 0, 49), datetime(1, 1, 2, 12, 0),
    datetime(9999, 12, 31, 23, 59), datetime(9999, 12, 31, 0, 0), datetime(9998, 1, 1),
    datetime(1999, 12, 31, 23, 59), datetime(2000, 1, 1, 0, 0), datetime(2000, 1, 1, 0, 30),
    datetime(2100, 12, 31, 23, 59), datetime(2101, 1, 1, 0, 0),
    datetime(2026, 3, 29, 2, 0), datetime(2026, 3, 29, 2, 30), datetime(2026, 3, 29, 3, 0),
    datetime(2026, 10, 25, 2, 0), datetime(2026, 10, 25, 2, 30), datetime(2026, 10, 25, 3, 0),
    datetime(2099, 3, 29, 2, 30), datetime(2100, 10, 31, 2, 30),
]
MOMENT = st.one_of(st.sampled_from(EDGE_MOMENTS),
                   st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
                   st.datetimes(min_value=datetime(1999, 1, 1), max_value=datetime(2101, 12, 31)))
# Every way the forms and imports read a time or a day (a four-digit year, as typed).
WRITTEN = [
    lambda m: f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}",
    lambda m: f"{m.year:04d}-{m.month:02d}-{m.day:02d} {m.hour:02d}:{m.minute:02d}",
    lambda m: f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:00",
    lambda m: f"{m.day:02d}-{m.month:02d}-{m.year:04d} {m.hour:02d}:{m.minute:02d}",
    lambda m: f"{m.day:02d}.{m.month:02d}.{m.year:04d} {m.hour:02d}:{m.minute:02d}",
    lambda m: f"{m.year:04d}-{m.month:02d}-{m.day:02d}",
]
DATE_TEXT = st.builds(lambda moment, write: write(moment), MOMENT, st.sampled_from(WRITTEN))
DATE_FIELDS = {"starts_at", "ends_at", "registration_opens_at", "registration_closes_at",
               "directory_open_until", "retention_until", "due_on", "since"}


def form_data(fields: list[str]):
    dates = [f for f in fields if f in DATE_FIELDS]
    if not dates:
        return st.dictionaries(st.sampled_from(fields), VALUES, max_size=len(fields))
    return st.builds(lambda data, days: {**data, **days},
                     st.dictionaries(st.sampled_from(fields), VALUES, max_size=len(fields)),
                     st.dictionaries(st.sampled_from(dates), DATE_TEXT, max_size=len(dates)))


def build(app) -> dict:
    """An event with a question, room, track, session, polls and a registration."""
    from eventhub.accounts.models import User
    from eventhub.directory.models import Solution
    from eventhub.events.models import ORGANIZER, PUBLISHED, Event, EventRole, Organization
    from eventhub.followup.models import Lead
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
        org_row = Organization(name="Fuzz Kommune", name_key="fuzz kommune")
        db.session.add(org_row)
        db.session.flush()
        reg = Registration(event_id=event.id, email="p@example.com", name="P",
                           organization_id=org_row.id)
        solution = Solution(name="Skærmbesøg", summary="Videobesøg")
        db.session.add_all([question, room, track, reg, solution])
        db.session.flush()
        lead = Lead(event_id=event.id, solution_id=solution.id, registration_id=reg.id,
                    organization_id=org_row.id)
        db.session.add(lead)
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
                "reg": reg.id, "ticket": reg.ticket_code, "solution": solution.id,
                "org": org_row.id, "lead": lead.id,
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
LEAD_FIELDS = ["solution", "registration", "organization", "owner", "due_on", "note"]
EXPERIENCE_FIELDS = ["status", "since", "scale", "effect_clinical", "lessons", "evidence_url"]
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
    ("POST", "/manage/e/dag/followup/leads/new", LEAD_FIELDS, True, {}),
    ("POST", "/manage/e/dag/followup/leads/{lead}/assign", ["owner", "due_on"], True, {}),
    ("POST", "/e/dag/directory/solutions/{solution}/experience?org={org}", EXPERIENCE_FIELDS,
     True, {}),
]


def never_a_500(app, world: dict, signed_in: bool, strategy, send, fixed=()) -> None:
    """Run ``send(client, csrf_token, example)`` for each of the ``fixed`` examples, then
    for examples hypothesis draws from ``strategy``."""
    client, token = client_for(app, world, signed_in)
    limiter.enabled = False
    try:
        for example in fixed:
            response = send(client, token, example)
            response.close()
            assert response.status_code < 500, (response.status_code, repr(example)[:500])
    finally:
        limiter.enabled = True

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=strategy)
    def check(data):
        response = send(client, token, data)
        response.close()
        assert response.status_code < 500, (response.status_code, repr(data)[:500])

    try:
        check()
    finally:
        limiter.enabled = True


def post_form(url: str, headers: dict | None = None):
    def send(client, token, data):
        return client.post(url, data={**data, "csrf_token": token},
                           headers={"Referer": "http://localhost/", **(headers or {})})
    return send


@pytest.mark.parametrize("method,url,fields,signed_in,headers", ROUTES,
                         ids=[f"{m} {u}" for m, u, *_ in ROUTES])
def test_odd_input_never_gives_a_500(app, method, url, fields, signed_in, headers):
    world = build(app)
    url = url.format(**world)
    fields = [f.format(**world) for f in fields]
    if method == "GET":
        def send(client, token, data):
            return client.get(url, query_string=data, headers=headers)
    else:
        send = post_form(url, headers)
    never_a_500(app, world, signed_in, form_data(fields), send)


# Dates at the edges of the calendar, into forms that are otherwise valid ------------------

# (url, the rest of a valid form, its date fields)
DATE_FORMS = [
    ("/manage/events/new", {"title": "Nyt arrangement", "status": "draft"},
     ["starts_at", "ends_at", "registration_opens_at", "registration_closes_at",
      "directory_open_until", "retention_until"]),
    ("/manage/e/dag/edit", {"title": "Dag", "slug": "dag", "status": "published",
                            "capacity": "5"},
     ["starts_at", "ends_at", "registration_opens_at", "registration_closes_at",
      "directory_open_until", "retention_until"]),
    ("/manage/e/dag/programme/sessions/new", {"title": "Oplæg", "kind": "talk", "room_id": "",
                                              "track_id": "", "confirm_warnings": "y"},
     ["starts_at", "ends_at"]),
    ("/manage/e/dag/followup/leads/new", {"solution": "{solution}", "registration": "",
                                          "organization": "{org}", "owner": ""}, ["due_on"]),
    ("/manage/e/dag/followup/leads/{lead}/assign", {"owner": ""}, ["due_on"]),
    ("/e/dag/directory/solutions/{solution}/experience?org={org}", {"status": "implemented"},
     ["since"]),
]


VALID_DATES = {"starts_at": "2027-03-10T09:00", "ends_at": "2027-03-10T16:00",
               "registration_opens_at": "2027-01-04T09:00",
               "registration_closes_at": "2027-03-09T12:00",
               "directory_open_until": "2027-04-30", "retention_until": "2028-03-10",
               "due_on": "2027-04-01", "since": "2024-01-01"}


def typed(field: str, moment: datetime) -> str:
    """The moment as the field's browser input sends it."""
    return (WRITTEN[-1] if len(VALID_DATES[field]) == 10 else WRITTEN[0])(moment)


@pytest.mark.parametrize("url,base,dates", DATE_FORMS, ids=[u for u, *_ in DATE_FORMS])
def test_dates_at_the_edges_of_the_calendar_never_give_a_500(app, url, base, dates):
    """Each edge moment in each date field with the rest of the form valid, then dates
    drawn at random for all date fields at once."""
    world = build(app)
    base = {k: v.format(**world) for k, v in base.items()}
    valid = {**base, **{field: VALID_DATES[field] for field in dates}}
    fixed = [{**valid, field: typed(field, moment)}
             for field in dates for moment in EDGE_MOMENTS]
    strategy = st.builds(lambda days: {**base, **days},
                         st.fixed_dictionaries({field: DATE_TEXT for field in dates}))
    never_a_500(app, world, True, strategy, post_form(url.format(**world)), fixed)


# CSV imports: dates at the edges, and fields past every size limit ------------------------

SIZES = [FIELD_MAX_CHARS, FIELD_MAX_CHARS + 1, 131_072, 131_073, 300_000]


@st.composite
def csv_text(draw, header: list[str], row: list[str]) -> str:
    """A CSV text with a header, one to three rows, and maybe one field of a size from
    SIZES (plain, with line breaks, or with quotes in it), in any row or column."""
    rows = [header] + [list(row) for _ in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        body = draw(st.sampled_from(["x", "ø", "😀", "a\nb", 'a"b', ";"]))
        size = draw(st.sampled_from(SIZES))
        rows[draw(st.integers(0, len(rows) - 1))][draw(st.integers(0, len(header) - 1))] = \
            (body * (size // len(body) + 1))[:size]
    delimiter = draw(st.sampled_from([";", ",", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))

    def cell(value: str) -> str:
        if any(c in value for c in (delimiter, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value
    return newline.join(delimiter.join(cell(v) for v in r) for r in rows) + newline


def post_import(url: str):
    """Pasted into the text field or uploaded as a file; checked, or imported at once."""
    def send(client, token, example):
        text, as_file, confirm = example
        data = {"csrf_token": token, "confirm": "1" if confirm else ""}
        if as_file:
            data["file"] = (io.BytesIO(text.encode()), "import.csv")
        else:
            data["csv_text"] = text
        return client.post(url, data=data, headers={"Referer": "http://localhost/"})
    return send


SESSION_ROW = st.builds(lambda start, end: ["Oplæg", start, end, "Sal 1", "talk"],
                        DATE_TEXT, DATE_TEXT).flatmap(
    lambda row: csv_text(["titel", "start", "slut", "lokale", "type"], row))
REGISTRATION_ROWS = csv_text(["navn", "e-mail", "organisation", "stilling", "Valg"],
                             ["Anna Andersen", "anna@example.com", "Aarhus Kommune",
                              "Sygeplejerske", "A"])


def fixed_imports(header: list[str], row: list[str], times: bool) -> list[tuple]:
    """Each edge moment in every way of writing it (as start, then as end), and one field
    of each size in SIZES (last column of the second row); checked and confirmed."""
    texts = []
    if times:
        for moment in EDGE_MOMENTS:
            for write in WRITTEN:
                texts.append(f"titel;start;slut\nA;{write(moment)};2027-03-10 10:00\n")
                texts.append(f"titel;start;slut\nA;2027-03-10 09:00;{write(moment)}\n")
    for size in SIZES:
        texts.append("\n".join(";".join(r) for r in (
            header, row, row[:-1] + ["x" * size], row)) + "\n")
    return [(text, False, confirm) for text in texts for confirm in (False, True)]


@pytest.mark.parametrize("url,rows,fixed", [
    ("/manage/e/dag/programme/import", SESSION_ROW, fixed_imports(
        ["titel", "start", "slut", "beskrivelse"],
        ["Oplæg", "2027-03-10 09:00", "2027-03-10 10:00", "Kort"], times=True)),
    ("/manage/e/dag/registrations/import", REGISTRATION_ROWS, fixed_imports(
        ["navn", "e-mail", "stilling"], ["Anna", "anna@example.com", "Sygeplejerske"],
        times=False)),
], ids=["programme", "registrations"])
def test_csv_imports_with_edge_dates_and_oversized_fields_never_give_a_500(app, url, rows,
                                                                         fixed):
    world = build(app)
    never_a_500(app, world, True, st.tuples(rows, st.booleans(), st.booleans()),
                post_import(url), fixed)


def test_nul_bytes_are_a_400(app, client):
    build(app)
    assert client.get("/organizations/search?q=a%00b").status_code == 400
    page = client.post("/e/dag/register", data={"name": "a\x00b", "email": "x@example.com"})
    assert page.status_code == 400
    assert "Forespørgslen kunne ikke forstås" in page.get_data(as_text=True)
