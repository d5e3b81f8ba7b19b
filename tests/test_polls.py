"""Live polls: voting rules, tallies, moderation, results as JSON, SVG and streams."""

import json
import re

import pytest
from sqlalchemy import func, select

from eventhub.extensions import db
from eventhub.polls.models import Poll, Vote
from tests.support.client import CSRF_RE, Client, login
from tests.support.factories import PASSWORD, make_event, make_registration, make_user
from tests.support.polls import (
    cast,
    counts,
    join_code,
    make_poll,
    option_ids,
    phone,
    read_events,
    tally,
)


@pytest.fixture
def organizer(app, client):
    user_id = make_user(app, "org@example.com", password=PASSWORD)
    make_event(app, "dag", title="Del og Genbrug", organizer_id=user_id)
    login(client, "org@example.com")
    return client


def test_organizer_prepares_and_opens_a_poll(organizer, app):
    bad = organizer.post("/manage/e/dag/polls/new", data={
        "question": "Barrierer?", "kind": "single", "options": "Kun én", "audience": "anyone",
        "session_id": ""})
    assert bad.status_code == 422 and "mindst to svarmuligheder" in bad.get_data(as_text=True)
    organizer.post("/manage/e/dag/polls/new", data={
        "question": "Barrierer?", "kind": "single", "options": "Ejerskab\nTid\nBudget",
        "audience": "anyone", "session_id": ""})
    with app.app_context():
        poll_id = db.session.scalar(select(Poll.id))
    page = phone(app).get(f"/j/{join_code(app)}").get_data(as_text=True)
    assert "Barrierer?" not in page  # a draft is not shown to phones
    organizer.post(f"/manage/e/dag/polls/{poll_id}/open", data={})
    page = phone(app).get(f"/j/{join_code(app)}").get_data(as_text=True)
    assert "Barrierer?" in page and "Ejerskab" in page


def test_one_vote_per_voter_enforced(app, organizer):
    poll_id = make_poll(app)
    a, b, c = option_ids(app, poll_id)
    voter = phone(app)
    assert cast(voter, app, poll_id, a).json == {"ok": True, "message": "Tak for din stemme!"}
    again = cast(voter, app, poll_id, b)
    assert again.status_code == 409
    assert again.json["error"] == "Du har allerede stemt i denne afstemning."
    cast(phone(app), app, poll_id, b)
    assert counts(app, poll_id) == [1, 1, 0]
    with app.app_context():  # and the database itself refuses a second row
        from sqlalchemy.exc import IntegrityError

        key = db.session.scalar(select(Vote.voter_key))
        db.session.add(Vote(poll_id=poll_id, voter_key=key, value=[c]))
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_changing_a_vote_only_when_allowed(app, organizer):
    poll_id = make_poll(app, allow_change=True)
    a, b, _c = option_ids(app, poll_id)
    voter = phone(app)
    cast(voter, app, poll_id, a)
    assert cast(voter, app, poll_id, b).status_code == 200
    assert counts(app, poll_id) == [0, 1, 0]


@pytest.mark.parametrize("status,message", [("closed", "Afstemningen er lukket."),
                                            ("draft", "ikke åbnet endnu")])
def test_closed_or_draft_poll_refuses_votes(app, organizer, status, message):
    poll_id = make_poll(app, status=status)
    response = cast(phone(app), app, poll_id, option_ids(app, poll_id)[0])
    assert response.status_code == 409 and message in response.json["error"]
    assert counts(app, poll_id) == [0, 0, 0]


def test_bad_ballots_leave_the_tally_unchanged(app, organizer):
    poll_id = make_poll(app, kind="multiple", max_choices=2)
    other = make_poll(app)
    a, b, c = option_ids(app, poll_id)
    voter = phone(app)
    for choices, message in [((option_ids(app, other)[0],), "Vælg blandt"),
                             ((a, b, c), "Vælg højst 2"), (("x",), "Vælg blandt"),
                             ((), "Vælg en svarmulighed")]:
        response = cast(voter, app, poll_id, *choices)
        assert response.status_code == 400 and message in response.json["error"]
    assert cast(voter, app, 4242, a).status_code == 404
    assert counts(app, poll_id) == [0, 0, 0]
    assert cast(voter, app, poll_id, a, c).status_code == 200
    assert counts(app, poll_id) == [1, 0, 1]


def test_forged_voter_cookie_is_refused(app, organizer):
    poll_id = make_poll(app)
    voter = phone(app)
    voter.set_cookie("eh_voter", "someone-else.forgedsignature", domain="localhost")
    response = cast(voter, app, poll_id, option_ids(app, poll_id)[0])
    assert response.status_code == 403
    assert "kunne ikke genkendes" in response.json["error"]
    assert counts(app, poll_id) == [0, 0, 0]
    no_cookie = Client(app, app.response_class)
    no_cookie.get("/login")  # a session (for CSRF) but never the join page
    assert cast(no_cookie, app, poll_id, option_ids(app, poll_id)[0]).status_code == 403


def test_registered_only_polls(app, organizer):
    from eventhub.events.models import Event

    poll_id = make_poll(app, audience="registered")
    voter = phone(app)
    refused = cast(voter, app, poll_id, option_ids(app, poll_id)[0])
    assert refused.status_code == 403 and "Kun tilmeldte" in refused.json["error"]
    with app.app_context():
        event_id = db.session.scalar(select(Event.id))
    _rid, token = make_registration(app, event_id, "p@example.com")
    voter.get(f"/r/{token}")
    assert cast(voter, app, poll_id, option_ids(app, poll_id)[0]).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Vote.voter_key)).startswith("r:")


def test_scale_and_word_cloud(app, organizer):
    scale = make_poll(app, kind="scale", scale_min=1, scale_max=5)
    for n in (4, 5, 3):
        cast(phone(app), app, scale, n)
    assert cast(phone(app), app, scale, 9).status_code == 400
    snap = tally(app, scale)
    assert [o["count"] for o in snap["options"]] == [0, 0, 1, 1, 1] and snap["average"] == 4.0

    cloud = make_poll(app, kind="wordcloud", banned_words=["dum"])
    for text in ("Netværk", "  netværk   TID ", "ledelse"):
        assert cast(phone(app), app, cloud, text).status_code == 200
    for text, message in (("en to tre fire", "ét til tre ord"), ("", "Skriv dit svar"),
                          ("x" * 10_000, "for langt"), ("DUM", "kan ikke bruges")):
        response = cast(phone(app), app, cloud, text)
        assert response.status_code == 400 and message in response.json["error"]
    words = {w["word"]: w["count"] for w in tally(app, cloud)["words"]}
    # An answer of up to three words stays one entry, normalized for case and spacing.
    assert words == {"netværk": 1, "netværk tid": 1, "ledelse": 1}


def test_open_text_is_shown_only_after_approval(app, organizer):
    poll_id = make_poll(app, kind="open_text", results_visible=True)
    cast(phone(app), app, poll_id, "Vi mangler tid til at afprøve")
    assert tally(app, poll_id)["texts"] == [] and tally(app, poll_id)["pending"] == 1
    screen = organizer.get(f"/manage/e/dag/polls/{poll_id}/present").get_data(as_text=True)
    assert "Vi mangler tid" not in screen  # the projector never shows unapproved text
    page = organizer.get(f"/manage/e/dag/polls/{poll_id}/moderate").get_data(as_text=True)
    assert "Venter på godkendelse" in page and "Vi mangler tid" in page
    with app.app_context():
        vote_id = db.session.scalar(select(Vote.id))
    organizer.post(f"/manage/e/dag/polls/{poll_id}/moderate/{vote_id}/approve", data={})
    assert [t["text"] for t in tally(app, poll_id)["texts"]] == ["Vi mangler tid til at afprøve"]


def test_questions_and_answers(app, organizer):
    from eventhub.polls.models import QAQuestion

    poll_id = make_poll(app, kind="qa")
    code = join_code(app)
    asker, fan = phone(app), phone(app)
    asker.post(f"/j/{code}/polls/{poll_id}/ask", data={"text": "Hvad kostede det?"})
    assert tally(app, poll_id)["questions"] == []  # waits for the moderator
    with app.app_context():
        qid = db.session.scalar(select(QAQuestion.id))
    organizer.post(f"/manage/e/dag/polls/{poll_id}/moderate/{qid}/approve", data={})
    fan.post(f"/j/{code}/polls/{poll_id}/questions/{qid}/upvote", data={})
    assert 'aria-label="1 stemme"' in asker.get(f"/j/{code}").get_data(as_text=True)
    for voter in (fan, fan, asker):
        voter.post(f"/j/{code}/polls/{poll_id}/questions/{qid}/upvote", data={})
    assert tally(app, poll_id)["questions"][0]["upvotes"] == 2  # once per voter
    organizer.post(f"/manage/e/dag/polls/{poll_id}/moderate/{qid}/pin", data={})
    organizer.post(f"/manage/e/dag/polls/{poll_id}/moderate/{qid}/answered", data={})
    question = tally(app, poll_id)["questions"][0]
    assert question["pinned"] and question["answered"]
    long = asker.post(f"/j/{code}/polls/{poll_id}/ask", data={"text": "x" * 10_000},
                      follow_redirects=True)
    assert "for langt" in long.get_data(as_text=True)


def test_results_hidden_from_phones_until_shown(app, organizer):
    poll_id = make_poll(app, results_mode="revealed")
    cast(phone(app), app, poll_id, option_ids(app, poll_id)[0])
    url = f"/j/{join_code(app)}/polls/{poll_id}.json"
    hidden = phone(app).get(url).json
    assert hidden["hidden"] and "options" not in hidden and hidden["voters"] == 1
    organizer.post(f"/manage/e/dag/polls/{poll_id}/show", data={})
    assert phone(app).get(url).json["options"][0]["count"] == 1


def test_join_page_is_kept_per_content_with_each_visitors_own_tokens(app, organizer):
    """The join page is rendered once per content (polls, tallies, language) and kept;
    each visitor still gets their own CSRF field, vote token and cookie, and a vote, a
    shown result or a closed poll changes what the next visitor sees."""
    from eventhub.polls import joinpage

    poll_id = make_poll(app, results_mode="revealed")
    a, b, _c = option_ids(app, poll_id)
    url = f"/j/{join_code(app)}"
    vote_token = re.compile(r'data-vote-token="([0-9a-f]+)"')

    def fresh() -> tuple[Client, str]:
        visitor = Client(app, app.response_class)
        return visitor, visitor.get(url).get_data(as_text=True)

    first, page1 = fresh()
    kept = len(joinpage.join_pages.items)
    second, page2 = fresh()
    assert len(joinpage.join_pages.items) == kept  # the second page came from the cache
    assert joinpage.CSRF_SLOT not in page2 and joinpage.VOTE_TOKEN_SLOT not in page2
    assert vote_token.search(page1)[1] != vote_token.search(page2)[1]
    assert CSRF_RE.search(page1)[1] != CSRF_RE.search(page2)[1]
    # each page's token is the one for its own cookie: both votes count
    for visitor, page, choice in ((first, page1, a), (second, page2, b)):
        headers = {"Accept": "application/json", "Origin": "http://localhost",
                   "X-Vote-Token": vote_token.search(page)[1]}
        assert cast(visitor, app, poll_id, choice, headers=headers).json["ok"]
    assert "Du har stemt" in first.get(url).get_data(as_text=True)  # their own vote
    page = fresh()[1]
    assert "Du har stemt" not in page and '<span data-voters-count>2</span>' in page
    assert "Resultatet vises, når oplægsholderen viser det." in page
    organizer.post(f"/manage/e/dag/polls/{poll_id}/show", data={})
    page = fresh()[1]
    assert "Resultatet vises, når oplægsholderen viser det." not in page
    assert "1 (50 %)" in page
    cast(phone(app), app, poll_id, a)
    assert "2 (67 %)" in fresh()[1]
    organizer.post(f"/manage/e/dag/polls/{poll_id}/close", data={})
    assert "Spørgsmål single" not in fresh()[1]


def test_json_results_with_etag(app, organizer):
    poll_id = make_poll(app, results_visible=True)
    viewer = phone(app)
    url = f"/j/{join_code(app)}/polls/{poll_id}.json"
    first = viewer.get(url)
    etag = first.headers["ETag"]
    assert viewer.get(url, headers={"If-None-Match": etag}).status_code == 304
    cast(phone(app), app, poll_id, option_ids(app, poll_id)[1])
    changed = viewer.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json["options"][1]["count"] == 1


def test_stream_sends_retry_then_full_snapshots(app, organizer):
    poll_id = make_poll(app, results_visible=True)
    viewer = phone(app)
    response = viewer.get(f"/j/{join_code(app)}/polls/{poll_id}/stream", buffered=False)
    assert response.mimetype == "text/event-stream"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert response.headers["Cache-Control"] == "no-cache"
    first_chunk = next(iter(response.response))
    assert (first_chunk.decode() if isinstance(first_chunk, bytes) else first_chunk
            ).startswith("retry: ")
    [initial] = read_events(response, 1)
    assert initial["voters"] == 0
    a, b, _c = option_ids(app, poll_id)
    cast(phone(app), app, poll_id, a)
    cast(phone(app), app, poll_id, a)
    cast(phone(app), app, poll_id, b)
    snaps = []
    while not snaps or snaps[-1]["voters"] < 3:
        snaps += read_events(response, 1)
    assert [o["count"] for o in snaps[-1]["options"]] == [2, 1, 0]
    assert len(snaps) <= 3  # coalesced: never more snapshots than votes
    response.close()


def test_phones_get_snapshots_at_their_pace_and_the_projector_faster(app, organizer):
    """While votes pour in, the projector's stream gets a snapshot every ``interval`` and
    the phones' streams at most every ``public_interval``; both end on the final tally."""
    import threading
    import time

    from eventhub.polls.stream import PollHub, event_stream

    poll_id = make_poll(app, results_visible=True)
    a = option_ids(app, poll_id)[0]
    hub = PollHub(app, interval=0.05, public_interval=0.3)
    got: dict[bool, list[tuple[float, int]]] = {True: [], False: []}

    def read(public: bool) -> None:
        for chunk in event_stream(hub, poll_id, public, max_seconds=2.0):
            if chunk.startswith(b"id: "):
                data = json.loads(chunk.split(b"data: ", 1)[1])
                got[public].append((time.monotonic(), data["voters"]))

    readers = [threading.Thread(target=read, args=(p,)) for p in (True, False)]
    for reader in readers:
        reader.start()
    phones = [phone(app) for _ in range(24)]
    started = time.monotonic()
    for voter in phones:  # 24 votes over about a second
        assert cast(voter, app, poll_id, a).status_code == 200
        time.sleep(0.04)
    last_vote = time.monotonic()
    time.sleep(0.8)
    hub._heartbeat()  # wakes the streams once more, so they see their time is up
    for reader in readers:
        reader.join(5)
    public, full = got[True], got[False]
    assert public[-1][1] == full[-1][1] == 24  # both end on the final tally
    final_at = next(t for t, voters in public if voters == 24)
    assert final_at - last_vote < 0.3 + 0.05 + 0.3  # its pace, a tick, and slack
    during = [t for t, _ in public if t >= started]
    assert len(during) <= (last_vote - started) / 0.3 + 2  # the phones' pace
    assert len([t for t, _ in full if t >= started]) > len(during)  # the projector's


def test_a_poll_whose_snapshot_fails_does_not_stop_the_others(app, organizer, monkeypatch):
    import time

    from eventhub.polls import stream as stream_module
    from eventhub.polls.stream import PUBLIC, PollHub

    good, bad = make_poll(app, results_visible=True), make_poll(app, results_visible=True)
    real = stream_module.snapshot

    tries = []

    def snapshot(poll):
        if poll.id == bad:
            tries.append(time.monotonic())
            raise RuntimeError("this poll cannot be counted")
        return real(poll)

    monkeypatch.setattr(stream_module, "snapshot", snapshot)
    hub = PollHub(app, interval=0.05, public_interval=0.1)
    hub.watch(bad)
    hub.watch(good)

    def voters_seen() -> int | None:
        current = hub.channels[good][PUBLIC].current
        return json.loads(current[1].split(b"data: ", 1)[1])["voters"] if current else None

    def wait_for(voters: int) -> None:
        deadline = time.monotonic() + 5
        while voters_seen() != voters and time.monotonic() < deadline:
            time.sleep(0.02)
        assert voters_seen() == voters

    try:
        wait_for(0)
        cast(phone(app), app, good, option_ids(app, good)[0])
        wait_for(1)  # the good poll's phones see the vote although the other one fails
        assert hub.channels[bad][PUBLIC].current is None
        deadline = time.monotonic() + 5
        while len(tries) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(tries) >= 3  # the failing poll is tried again
    finally:
        hub.unwatch(good)
        hub.unwatch(bad)
    assert not hub.channels and not hub.watchers


def test_presenter_view_has_svg_chart_table_code_and_qr(app, organizer):
    poll_id = make_poll(app)
    cast(phone(app), app, poll_id, option_ids(app, poll_id)[0])
    page = organizer.get(f"/manage/e/dag/polls/{poll_id}/present").get_data(as_text=True)
    assert '<svg class="chart"' in page and 'aria-hidden="true"' in page
    assert "<table" in page and "<caption>Resultat" in page  # the screen-reader table
    assert join_code(app) in page and f"/j/{join_code(app)}/qr.png" in page
    assert 'aria-keyshortcuts="o"' in page and "present.js" in page
    assert not re.search(r"<script(?![^>]*src=)", page)  # no inline script
    fragment = organizer.get(f"/manage/e/dag/polls/{poll_id}/results").get_data(as_text=True)
    assert "<svg" in fragment and "<html" not in fragment


def test_reset_needs_confirmation_and_duplicate(app, organizer):
    poll_id = make_poll(app)
    cast(phone(app), app, poll_id, option_ids(app, poll_id)[0])
    organizer.post(f"/manage/e/dag/polls/{poll_id}/reset", data={})
    assert counts(app, poll_id) == [1, 0, 0]
    organizer.post(f"/manage/e/dag/polls/{poll_id}/reset", data={"confirm": "yes"})
    assert counts(app, poll_id) == [0, 0, 0]
    organizer.post(f"/manage/e/dag/polls/{poll_id}/duplicate", data={})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Poll)) == 2


def test_exports(app, organizer, tmp_path):
    import subprocess

    poll_id = make_poll(app)
    cast(phone(app), app, poll_id, option_ids(app, poll_id)[1])
    text = organizer.get("/manage/e/dag/polls/export.csv").data.decode("utf-8-sig")
    assert "Spørgsmål single;Ét valg;Tid;1" in text
    pdf = tmp_path / "polls.pdf"
    pdf.write_bytes(organizer.get("/manage/e/dag/polls/export.pdf").data)
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    assert "Spørgsmål single" in out and "Tid" in out


def test_poll_pages_are_for_organizers(client, app, organizer):
    poll_id = make_poll(app)
    client.post("/logout", data={})
    make_user(app, "p@example.com", password=PASSWORD)
    login(client, "p@example.com")
    for path in ("/manage/e/dag/polls/", f"/manage/e/dag/polls/{poll_id}/present",
                 f"/manage/e/dag/polls/{poll_id}/stream", "/manage/e/dag/polls/export.csv"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/manage/e/dag/polls/{poll_id}/close", data={}).status_code == 403


def test_unknown_join_code_is_a_danish_404(client):
    response = client.get("/j/NOPE99")
    assert response.status_code == 404
    assert "Koden findes ikke" in response.get_data(as_text=True)


def test_voting_is_rate_limited_per_voter(app, organizer):
    app.config["RATELIMIT_VOTE"] = "2 per minute"
    poll_id = make_poll(app, allow_change=True)
    voter = phone(app)
    for _ in range(2):
        cast(voter, app, poll_id, option_ids(app, poll_id)[0])
    assert cast(voter, app, poll_id, option_ids(app, poll_id)[0]).status_code == 429
