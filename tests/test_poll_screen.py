"""One stream per page, results visibility for phones, the room's screen and its
remote, word-cloud phrases, Q&A counts, ranking, quiz and a poll's export."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventhub.db import utcnow
from eventhub.extensions import db
from eventhub.polls.models import Poll, QAQuestion, Screen, Vote
from tests.support.client import Client, login
from tests.support.factories import PASSWORD, make_event, make_user
from tests.support.polls import (
    cast,
    join_code,
    make_poll,
    option_ids,
    phone,
    read_until,
    staff_of,
    tally,
)
from tests.test_directory import as_, world  # noqa: F401 - the directory's world fixture


@pytest.fixture
def organizer(app, client):
    user_id = make_user(app, "org@example.com", password=PASSWORD)
    make_event(app, "dag", title="Del og Genbrug", organizer_id=user_id)
    login(client, "org@example.com")
    return client


def votes_of(app, poll_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Vote).where(
            Vote.poll_id == poll_id))


# One stream per page ----------------------------------------------------------------------


def test_one_stream_carries_every_open_poll_and_announces_opening_and_closing(app, organizer):
    polls = [make_poll(app, results_mode="always") for _ in range(5)]
    draft = make_poll(app, status="draft")
    viewer = phone(app)
    page = viewer.get(f"/j/{join_code(app)}").get_data(as_text=True)
    # the page names one stream, not one per poll
    assert page.count("data-stream-url=") == 1 and "/stream" in page
    response = viewer.get(f"/j/{join_code(app)}/stream", buffered=False)
    assert response.mimetype == "text/event-stream"

    def snapshots_of_all(messages):
        return {d["poll"] for k, d in messages if k == "snapshot"} >= set(polls)

    first = read_until(response, snapshots_of_all)
    assert first[0] == ("state", {"polls": polls})  # the open polls, in order, first
    a = option_ids(app, polls[2])[0]
    cast(phone(app), app, polls[2], a)
    got = read_until(response, lambda m: any(
        k == "snapshot" and d["poll"] == polls[2] and d["voters"] == 1 for k, d in m))
    last = [d for k, d in got if k == "snapshot" and d["poll"] == polls[2]][-1]
    assert last["options"][0]["count"] == 1  # the same full snapshot as a poll's stream

    organizer.post(f"/manage/e/dag/polls/{draft}/open", data={})
    opened = read_until(response, lambda m: any(k == "state" for k, _d in m))
    assert [d for k, d in opened if k == "state"][-1] == {"polls": polls + [draft]}
    organizer.post(f"/manage/e/dag/polls/{polls[0]}/close", data={})
    closed = read_until(response, lambda m: any(k == "state" for k, _d in m))
    assert [d for k, d in closed if k == "state"][-1] == {"polls": polls[1:] + [draft]}
    response.close()


def test_the_stream_of_an_unknown_code_or_a_draft_is_a_404(app, organizer, client):
    assert Client(app, app.response_class).get("/j/NOPE99/stream").status_code == 404
    make_event(app, "kladde", status="draft")
    with app.app_context():
        from eventhub.events.models import Event

        code = db.session.scalar(select(Event.join_code).where(Event.slug == "kladde"))
    assert Client(app, app.response_class).get(f"/j/{code}/stream").status_code == 404


# Results visibility -----------------------------------------------------------------------


def test_after_voting_is_the_default_and_phones_see_results_once_they_answered(app, organizer):
    organizer.post("/manage/e/dag/polls/new", data={
        "question": "Hvad bremser?", "kind": "single", "options": "Tid\nPenge",
        "scale_min": 1, "scale_max": 5})
    with app.app_context():
        poll = db.session.scalar(select(Poll))
        assert poll.results_mode == "voted"
        poll.status = "open"
        db.session.commit()
        poll_id = poll.id
    cast(phone(app), app, poll_id, option_ids(app, poll_id)[0])
    visitor = phone(app)
    url = f"/j/{join_code(app)}"
    page = visitor.get(url).get_data(as_text=True)
    assert "Resultatet vises, når du har svaret." in page and "1 (100 %)" not in page
    assert visitor.get(f"{url}/polls/{poll_id}.json").json["hidden"]
    cast(visitor, app, poll_id, option_ids(app, poll_id)[1])
    page = visitor.get(url).get_data(as_text=True)
    assert "Resultatet vises, når du har svaret." not in page
    assert '<progress class="row-bar" max="100" value="50"' in page  # bars on the phone
    assert visitor.get(f"{url}/polls/{poll_id}.json").json["options"][1]["count"] == 1


@pytest.mark.parametrize("mode, revealed, shown", [
    ("always", False, True), ("revealed", False, False), ("revealed", True, True),
    ("never", True, False)])
def test_each_results_mode(app, organizer, mode, revealed, shown):
    poll_id = make_poll(app, results_mode=mode, results_visible=revealed)
    voter = phone(app)
    cast(voter, app, poll_id, option_ids(app, poll_id)[0])
    snap = voter.get(f"/j/{join_code(app)}/polls/{poll_id}.json").json
    assert ("options" in snap) is shown


def test_empty_word_cloud_and_solutions_once_per_page(app, organizer):
    make_poll(app, kind="wordcloud", results_mode="always")
    page = phone(app).get(f"/j/{join_code(app)}").get_data(as_text=True)
    assert "Ingen svar endnu" in page


# Word cloud phrases ----------------------------------------------------------------------


def test_word_cloud_phrases_and_entries_per_person(app, organizer):
    cloud = make_poll(app, kind="wordcloud", max_entries=3, banned_words=["dum"])
    page = phone(app).get(f"/j/{join_code(app)}").get_data(as_text=True)
    assert page.count(f'id="w-{cloud}-') == 3
    assert cast(phone(app), app, cloud, "Manglende data", "  manglende   DATA ",
                "Tid").status_code == 200
    assert cast(phone(app), app, cloud, "manglende data").status_code == 200
    words = {w["word"]: w["count"] for w in tally(app, cloud)["words"]}
    assert words == {"manglende data": 2, "tid": 1}
    before = votes_of(app, cloud)
    for entries, message in ((["a", "b", "c", "d"], "højst 3 svar"),
                             (["en to tre fire"], "ét til tre ord"),
                             (["dum idé"], "kan ikke bruges")):
        response = cast(phone(app), app, cloud, *entries)
        assert response.status_code == 400 and message in response.json["error"]
    assert votes_of(app, cloud) == before  # nothing stored


def test_organizer_sets_one_to_five_entries(app, organizer):
    response = organizer.post("/manage/e/dag/polls/new", data={
        "question": "Ord", "kind": "wordcloud", "max_entries": 9, "scale_min": 1,
        "scale_max": 5, "results_mode": "voted"})
    assert response.status_code == 422
    assert "1 til 5 svar" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Poll)) == 0


# Q&A counts and names ---------------------------------------------------------------------


def test_qa_counts_are_the_same_everywhere_and_names_where_allowed(app, organizer):
    qa = make_poll(app, kind="qa", qa_names=True)
    code = join_code(app)
    asker = phone(app)
    asker.post(f"/j/{code}/polls/{qa}/ask", data={"text": "Hvem betaler?", "author": "Mette"})
    for text in ("Hvor længe?", "Hvad med data?"):
        phone(app).post(f"/j/{code}/polls/{qa}/ask", data={"text": text})
    with app.app_context():
        questions = db.session.scalars(select(QAQuestion).order_by(QAQuestion.id)).all()
        assert [q.author for q in questions] == ["Mette", None, None]
        first, second = questions[0].id, questions[1].id
    for item in (first, second):
        organizer.post(f"/manage/e/dag/polls/{qa}/moderate/{item}/approve", data={})
    page = phone(app).get(f"/j/{code}").get_data(as_text=True)
    assert "Godkendte spørgsmål: <span data-approved-count>2</span>" in page
    assert "1 venter på godkendelse" in page and "Mette" in page
    assert "Ingen godkendte spørgsmål endnu" not in page
    index = organizer.get("/manage/e/dag/polls/").get_data(as_text=True)
    assert "<td>3</td>" in index  # questions count as answers in the list
    remote = organizer.get("/manage/e/dag/polls/remote")
    assert remote.status_code == 200


def test_qa_without_names_stays_anonymous(app, organizer):
    qa = make_poll(app, kind="qa")
    phone(app).post(f"/j/{join_code(app)}/polls/{qa}/ask",
                    data={"text": "Spørgsmål?", "author": "Mette"})
    with app.app_context():
        assert db.session.scalar(select(QAQuestion.author)) is None


# Ranking --------------------------------------------------------------------------------


def test_ranking_points_and_average_rank(app, organizer):
    poll_id = make_poll(app, kind="ranking", options=("A", "B", "C"), results_mode="always")
    a, b, c = option_ids(app, poll_id)
    for order in ((a, b, c), (a, c, b), (b, a, c)):
        assert cast(phone(app), app, poll_id, *order).status_code == 200
    ranking = tally(app, poll_id)["ranking"]
    assert [(r["label"], r["points"], r["average"]) for r in ranking] == [
        ("A", 8, 1.33), ("B", 6, 2.0), ("C", 4, 2.67)]
    page = phone(app).get(f"/j/{join_code(app)}").get_data(as_text=True)
    assert page.count("data-move=\"up\"") == 3 and "8 p" in page
    # the average place as the reader writes numbers: 1,3 in Danish, 1.3 in English
    assert "<td>1,3</td>" in page and "<td>2,0</td>" in page and "1.33" not in page
    english = phone(app).get(f"/j/{join_code(app)}?lang=en").get_data(as_text=True)
    assert "<td>1.3</td>" in english and "<td>2.7</td>" in english


def test_a_broken_ranking_is_refused_and_nothing_stored(app, organizer):
    poll_id = make_poll(app, kind="ranking", options=("A", "B", "C"))
    a, b, c = option_ids(app, poll_id)
    for order, message in (((a, b), "Placér alle 3"), ((a, a, b), "kun stå én gang"),
                           ((a, b, 99999), "kun punkterne"), (("x",), "kun punkterne")):
        response = cast(phone(app), app, poll_id, *order)
        assert response.status_code == 400 and message in response.json["error"]
    assert votes_of(app, poll_id) == 0


# Quiz ------------------------------------------------------------------------------------


def test_quiz_points_for_right_and_fast_and_a_leaderboard_of_nicknames(app, organizer):
    organizer.post("/manage/e/dag/polls/new", data={
        "question": "Hvor mange kommuner?", "kind": "quiz", "options": "5\n*98\n100",
        "time_limit": 30, "scale_min": 1, "scale_max": 5, "results_mode": "voted"})
    with app.app_context():
        poll = db.session.scalar(select(Poll))
        assert [o.correct for o in poll.options] == [False, True, False]
        poll_id = poll.id
    organizer.post(f"/manage/e/dag/polls/{poll_id}/open", data={})
    wrong, right, _x = option_ids(app, poll_id)
    code = join_code(app)
    fast, slow, quiet = phone(app), phone(app), phone(app)
    fast.post(f"/j/{code}/polls/{poll_id}/vote", data={"choice": right, "nickname": "Lynet"},
              headers={"Accept": "application/json", "Origin": "http://localhost",
                       **_token(fast, app)})
    with app.app_context():  # the slow phone answers 20 s in
        p = db.session.get(Poll, poll_id)
        p.opened_at = p.opened_at - timedelta(seconds=20)
        db.session.commit()
    slow.post(f"/j/{code}/polls/{poll_id}/vote", data={"choice": right, "nickname": "Snegl"},
              headers={"Accept": "application/json", "Origin": "http://localhost",
                       **_token(slow, app)})
    cast(quiet, app, poll_id, wrong)  # no nickname: points, but not on the board
    board = tally(app, poll_id)["leaderboard"]
    assert [row["nick"] for row in board] == ["Lynet", "Snegl"]
    assert board[0]["points"] > board[1]["points"] >= 500
    # phones never see the board, nor the right answer before it is revealed
    snap = phone(app).get(f"/j/{code}/polls/{poll_id}.json").json
    assert "leaderboard" not in snap and not snap.get("correct")


def test_a_quiz_answer_after_time_is_refused_and_nothing_stored(app, organizer):
    poll_id = make_poll(app, kind="quiz", options=("Ja", "Nej"), time_limit=10,
                        opened_at=utcnow() - timedelta(seconds=30))
    response = cast(phone(app), app, poll_id, option_ids(app, poll_id)[0])
    assert response.status_code == 409 and "Tiden er gået" in response.json["error"]
    assert votes_of(app, poll_id) == 0


def _token(client, app) -> dict:
    from tests.support.polls import fetch_headers

    return {"X-Vote-Token": fetch_headers(client, app)["X-Vote-Token"]}


# The room's screen and the remote ---------------------------------------------------------


def test_the_room_screen_has_no_site_chrome_and_follows_the_remote(app, organizer):
    first = make_poll(app, results_mode="always")
    qa = make_poll(app, kind="qa")
    page = organizer.get("/manage/e/dag/polls/screen").get_data(as_text=True)
    for chrome in ("Log ud", "Min konto", "site-footer", "Admin"):
        assert chrome not in page
    assert "screen.css" in page and "app.css" not in page and join_code(app) in page
    organizer.post("/manage/e/dag/polls/remote/next", data={})
    body = organizer.get("/manage/e/dag/polls/screen/body").get_data(as_text=True)
    assert f'data-shown="{first}"' in body and "Spørgsmål single" in body
    organizer.post("/manage/e/dag/polls/remote/next", data={})
    with app.app_context():
        db.session.add(QAQuestion(poll_id=qa, voter_key="a:x", text="Godkendt?",
                                  status="approved"))
        db.session.add(QAQuestion(poll_id=qa, voter_key="a:y", text="Venter?"))
        db.session.commit()
    body = organizer.get("/manage/e/dag/polls/screen/body").get_data(as_text=True)
    assert "Godkendt?" in body and "Venter?" not in body
    assert "Fastgør" not in body and "Marker som besvaret" not in body  # no controls
    remote = organizer.get("/manage/e/dag/polls/remote").get_data(as_text=True)
    assert "1 venter" in remote and "Venter?" in remote and "Fastgør" in remote
    organizer.post("/manage/e/dag/polls/remote/qr", data={})
    body = organizer.get("/manage/e/dag/polls/screen/body").get_data(as_text=True)
    assert 'data-shown="join"' in body
    organizer.post("/manage/e/dag/polls/remote/previous", data={})
    organizer.post("/manage/e/dag/polls/remote/close", data={})
    with app.app_context():
        assert db.session.get(Poll, first).status == "closed"


def test_the_screen_stream_says_what_the_screen_shows(app, organizer):
    poll_id = make_poll(app)
    response = organizer.get("/manage/e/dag/polls/screen/stream", buffered=False)
    read_until(response, lambda m: any(k == "state" for k, _d in m))
    organizer.post("/manage/e/dag/polls/remote/show", data={"poll": poll_id})
    got = read_until(response, lambda m: any(
        k == "state" and d["screen"]["poll"] == poll_id for k, d in m))
    assert [d for k, d in got if k == "state"][-1]["screen"]["qr"] is False
    response.close()


def test_remote_commands_from_someone_not_organizer_are_refused(app, organizer):
    from eventhub.errors import Forbidden
    from eventhub.events.models import Event
    from eventhub.polls import screen

    poll_id = make_poll(app)
    staff_of(app, "door@example.com", "checkin")
    door = Client(app, app.response_class)
    login(door, "door@example.com")
    for name in ("next", "open", "close", "reveal", "qr"):
        response = door.post("/manage/e/dag/polls/remote/" + name, data={"poll": poll_id},
                             headers={"Accept": "application/json"})
        assert response.status_code == 403
        assert "ikke adgang" in response.json["error"]
    assert door.post("/manage/e/dag/polls/remote/next", data={}).status_code == 403
    assert door.get("/manage/e/dag/polls/screen").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Screen)) == 0
        assert db.session.get(Poll, poll_id).status == "open"
        event = db.session.scalar(select(Event))
        with pytest.raises(Forbidden):  # the service itself checks, not only the view
            screen.command(None, event, "next")
    response = organizer.post("/manage/e/dag/polls/remote/fly", data={},
                              headers={"Accept": "application/json"})
    assert response.status_code == 400 and "Ukendt kommando" in response.json["error"]
    response = organizer.post("/manage/e/dag/polls/remote/show", data={"poll": "999999"})
    assert response.status_code == 404


# Export -----------------------------------------------------------------------------------


def test_a_polls_results_as_csv_xlsx_and_pdf(app, organizer, tmp_path):
    from io import BytesIO

    import openpyxl

    from tests.support.pdf import pdf_text

    poll_id = make_poll(app, kind="ranking", options=("Genbrug", "Nyt"))
    a, b = option_ids(app, poll_id)
    cast(phone(app), app, poll_id, b, a)
    base = f"/manage/e/dag/polls/{poll_id}/export"
    csv = organizer.get(base + ".csv")
    assert csv.status_code == 200 and "Nyt" in csv.get_data(as_text=True)
    xlsx = organizer.get(base + ".xlsx")
    sheet = openpyxl.load_workbook(BytesIO(xlsx.data)).active
    assert ["Nyt", 2] in [[c for c in row[:2]] for row in sheet.iter_rows(values_only=True)] \
        or any("Nyt" in [str(c) for c in row] for row in sheet.iter_rows(values_only=True))
    pdf = organizer.get(base + ".pdf")
    assert pdf.mimetype == "application/pdf" and "Genbrug" in pdf_text(pdf.data, tmp_path)
    assert organizer.get(base + ".doc").status_code == 404


# Preview of a draft --------------------------------------------------------------------------


def test_organizer_previews_a_drafts_join_page_participants_cannot(app, client):
    user_id = make_user(app, "org@example.com", password=PASSWORD)
    make_event(app, "dag", status="draft", organizer_id=user_id)
    make_poll(app)
    code = join_code(app)
    assert Client(app, app.response_class).get(f"/j/{code}").status_code == 404
    login(client, "org@example.com")
    page = client.get(f"/j/{code}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Forhåndsvisning – ikke offentliggjort" in text and "Spørgsmål single" in text
    assert re.search(r'data-stream-url="/j/\w+/stream"', text)


def test_the_sessions_solutions_show_once_per_join_page(app, client, world):  # noqa: F811
    """Two polls on a session that presents a solution: its block shows once."""
    for n in (1, 2):
        with app.app_context():
            db.session.add(Poll(event_id=world["event"], session_id=world["session"],
                                question=f"Spørgsmål {n}", kind="scale", status="open"))
            db.session.commit()
    as_(client, world, "anna")
    page = client.get(f"/j/{join_code(app)}").get_data(as_text=True)
    assert page.count("Løsningerne fra dette programpunkt") == 1
    assert page.count('id="poll-') >= 2


def test_the_remote_steps_through_one_sessions_polls(app, organizer):
    from datetime import UTC, datetime

    from tests.support.factories import make_session

    with app.app_context():
        from eventhub.events.models import Event

        event_id = db.session.scalar(select(Event.id))
    session_id = make_session(app, event_id, "Keynote", datetime(2027, 3, 10, 9, tzinfo=UTC),
                              datetime(2027, 3, 10, 10, tzinfo=UTC))
    other = make_poll(app)
    first = make_poll(app, session_id=session_id)
    second = make_poll(app, session_id=session_id)
    remote = organizer.get(f"/manage/e/dag/polls/remote?session={session_id}")
    text = remote.get_data(as_text=True)
    assert "Keynote" in text and f'name="session" value="{session_id}"' in text
    for expected in (first, second, second):  # next stops at the session's last poll
        organizer.post("/manage/e/dag/polls/remote/next", data={"session": session_id})
        with app.app_context():
            assert db.session.scalar(select(Screen.poll_id)) == expected
    organizer.post("/manage/e/dag/polls/remote/previous", data={"session": session_id})
    with app.app_context():
        assert db.session.scalar(select(Screen.poll_id)) == first != other
