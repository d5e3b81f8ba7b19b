"""Votes sent with fetch (poll.js): CSRF bound to the voter cookie, the one-statement
quick path, and group commit (nothing acknowledged before its commit)."""

import threading
import time

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from eventhub.extensions import db
from eventhub.polls import ballots
from eventhub.polls.models import Vote
from tests.support.client import Client
from tests.support.factories import PASSWORD, make_event, make_user
from tests.support.polls import cast, counts, fetch_headers, join_code, make_poll, option_ids, phone


@pytest.fixture
def event(app):
    make_event(app, "dag", title="Del og Genbrug",
               organizer_id=make_user(app, "org@example.com", password=PASSWORD))


def statements(app):
    """SQL statements the app runs while the block runs (a list, filled as they go)."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", record)
    return seen, lambda: sa_event.remove(engine, "before_cursor_execute", record)


def test_a_choice_vote_is_one_statement(app, event):
    poll_id = make_poll(app)
    voter = phone(app)
    url, option = f"/j/{join_code(app)}/polls/{poll_id}/vote", option_ids(app, poll_id)[1]
    headers = fetch_headers(voter, app)
    seen, stop = statements(app)
    try:
        response = voter.post(url, data={"choice": str(option)}, headers=headers, csrf=False)
    finally:
        stop()
    assert response.json == {"ok": True, "message": "Tak for din stemme!"}
    writes = [s for s in seen if not s.upper().startswith(("SELECT 1", "BEGIN", "COMMIT",
                                                             "RELEASE", "SAVEPOINT"))]
    assert len(writes) == 1  # checked and stored at once, committed (autocommit) with it
    assert "INSERT INTO votes" in writes[0] and "ON CONFLICT (poll_id, voter_key)" in writes[0]
    assert counts(app, poll_id) == [0, 1, 0]


@pytest.mark.parametrize("kind,choices,stored", [
    ("multiple", (0, 2), [[0, 2]]), ("scale", (4,), 4)])
def test_multiple_choice_and_scale_go_the_quick_way_too(app, event, kind, choices, stored):
    poll_id = make_poll(app, kind=kind, options=("A", "B", "C") if kind == "multiple" else (),
                        scale_min=1, scale_max=5)
    ids = option_ids(app, poll_id)
    sent = [ids[c] for c in choices] if kind == "multiple" else list(choices)
    assert cast(phone(app), app, poll_id, *sent).status_code == 200
    with app.app_context():
        value = db.session.scalar(select(Vote.value))
    assert value == ([sorted(sent)] if kind == "multiple" else [stored])[0]


def test_fetch_vote_without_a_matching_token_is_refused(app, event):
    poll_id = make_poll(app)
    option = option_ids(app, poll_id)[0]
    voter, other = phone(app), phone(app)
    headers = fetch_headers(voter, app)
    missing = cast(voter, app, poll_id, option, headers={**headers, "X-Vote-Token": ""})
    assert missing.status_code == 403
    assert missing.json == {"ok": False,
                            "error": "Siden er forældet. Genindlæs siden, og stem igen."}
    forged = cast(voter, app, poll_id, option,
                  headers={**headers, "X-Vote-Token": "0" * 64})
    assert forged.status_code == 403
    stolen = cast(voter, app, poll_id, option, headers=fetch_headers(other, app))
    assert stolen.status_code == 403  # another phone's token does not fit this cookie
    english = voter.post(f"/j/{join_code(app)}/polls/{poll_id}/vote?lang=en",
                         data={"choice": str(option)}, headers={**headers, "X-Vote-Token": ""})
    assert english.json["error"] == "This page is out of date. Reload the page and vote again."
    assert counts(app, poll_id) == [0, 0, 0]
    assert cast(voter, app, poll_id, option).status_code == 200  # the page's own token


def test_fetch_vote_from_another_site_is_refused(app, event):
    poll_id = make_poll(app)
    option = option_ids(app, poll_id)[0]
    voter = phone(app)
    headers = fetch_headers(voter, app)
    for origin in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {},
                   {"Referer": "https://evil.example/j/x"}):
        sent = {k: v for k, v in headers.items() if k != "Origin"} | origin
        response = cast(voter, app, poll_id, option, headers=sent)
        assert response.status_code == 403, origin
        assert "kom fra afstemningssiden" in response.json["error"]
    assert counts(app, poll_id) == [0, 0, 0]
    by_referer = {k: v for k, v in headers.items() if k != "Origin"}
    by_referer["Referer"] = f"http://localhost/j/{join_code(app)}"
    assert cast(voter, app, poll_id, option, headers=by_referer).status_code == 200


def test_forged_or_missing_voter_cookie_on_the_fetch_path(app, event):
    poll_id = make_poll(app)
    option = option_ids(app, poll_id)[0]
    voter = phone(app)
    headers = fetch_headers(voter, app)
    voter.set_cookie("eh_voter", "someone-else.forgedsignature", domain="localhost")
    forged = cast(voter, app, poll_id, option, headers=headers)
    assert forged.status_code == 403 and "kunne ikke genkendes" in forged.json["error"]
    stranger = Client(app, app.response_class)
    missing = cast(stranger, app, poll_id, option, headers=headers)
    assert missing.status_code == 403 and missing.json["error"] == (
        "Genindlæs siden, og stem igen.")
    assert counts(app, poll_id) == [0, 0, 0]


def test_refusals_on_the_fetch_path_are_clear_and_change_nothing(app, event):
    poll_id = make_poll(app)
    closed = make_poll(app, status="closed")
    other = make_poll(app)
    a, b, _c = option_ids(app, poll_id)
    voter = phone(app)
    for target, choices, status, message in [
            (closed, (option_ids(app, closed)[0],), 409, "Afstemningen er lukket."),
            (poll_id, (option_ids(app, other)[0],), 400, "Vælg blandt svarmulighederne."),
            (poll_id, (a, b), 400, "Vælg kun én svarmulighed."),
            (poll_id, ("x",), 400, "Vælg blandt svarmulighederne."),
            (poll_id, (), 400, "Vælg en svarmulighed.")]:
        response = cast(voter, app, target, *choices)
        assert response.status_code == status and response.json == {
            "ok": False, "error": message}, (target, choices)
    assert counts(app, poll_id) == [0, 0, 0] and counts(app, closed) == [0, 0, 0]
    assert cast(voter, app, poll_id, a).status_code == 200
    twice = cast(voter, app, poll_id, b)
    assert twice.status_code == 409 and twice.json["error"] == (
        "Du har allerede stemt i denne afstemning.")
    assert counts(app, poll_id) == [1, 0, 0]
    wrong_code = voter.post(f"/j/NOPE99/polls/{poll_id}/vote", data={"choice": str(a)},
                            headers=fetch_headers(voter, app))
    assert wrong_code.status_code == 404 and counts(app, poll_id) == [1, 0, 0]


def test_the_form_without_script_still_needs_the_session_csrf_token(app, event):
    poll_id = make_poll(app)
    option = option_ids(app, poll_id)[0]
    voter = phone(app)
    refused = voter.post(f"/j/{join_code(app)}/polls/{poll_id}/vote",
                         data={"choice": str(option)}, csrf=False)
    assert refused.status_code == 400 and "Formularen er udløbet" in refused.get_data(
        as_text=True)
    assert counts(app, poll_id) == [0, 0, 0]
    ok = cast(voter, app, poll_id, option, as_json=False)
    assert ok.status_code == 302 and counts(app, poll_id) == [1, 0, 0]


@pytest.mark.parametrize("kind,max_choices", [
    ("single", None), ("multiple", 2), ("multiple", None), ("scale", None)])
def test_the_quick_statement_stores_exactly_the_ballots_the_rules_accept(app, event, kind,
                                                                         max_choices):
    """The rules of a valid ballot are ``ballots.clean``; the quick statement says them in
    SQL and must store a ballot exactly when ``clean`` accepts it."""
    from eventhub.errors import ValidationError
    from eventhub.polls.models import Poll

    poll_id = make_poll(app, kind=kind, max_choices=max_choices, scale_min=1, scale_max=5)
    foreign = option_ids(app, make_poll(app))[0]
    a, b, c = option_ids(app, poll_id) or (1, 2, 3)
    sent = [[a], [a, b], [a, b, c], [a, a], [a, foreign], [foreign], ["x"], [a, "x"], [],
            [" "], [0], [5], [6], [-1], [3, 4], [f" {a} "]]
    code = join_code(app)
    with app.app_context():
        poll = db.session.get(Poll, poll_id)
        for i, raw in enumerate(sent):
            raw = [str(v) for v in raw]
            try:
                ballots.clean(poll, raw)
                accepted = True
            except ValidationError:
                accepted = False
            choices = ballots.parse_choices(raw)
            stored = bool(choices) and bool(ballots.store(db.engine, [ballots.Ballot(
                code, poll_id, f"a:{i}", choices)]))
            assert stored == accepted, raw


def test_an_ordinary_vote_signals_after_its_commit_and_a_refusal_not_at_all(app, event):
    from eventhub.realtime import broker

    poll_id = make_poll(app, kind="wordcloud")
    heard = []
    with app.app_context():
        broker().subscribe(f"poll:{poll_id}", lambda channel, message: heard.append(
            (channel, message, _votes_now(app))))
    voter = phone(app)
    assert cast(voter, app, poll_id, "netværk").json["ok"]
    assert cast(voter, app, poll_id, "tid").status_code == 409
    assert cast(phone(app), app, poll_id, "en to tre fire").status_code == 400
    assert heard == [(f"poll:{poll_id}", "changed", 1)]


# Group commit ----------------------------------------------------------------------------


def test_group_commit_answers_each_ballot_only_after_its_commit(app, event, monkeypatch):
    """Ballots that arrive while a batch is written go together in the next one; every
    answer comes after the commit that holds it; a voter twice in a batch counts once."""
    poll_id = make_poll(app)
    options = option_ids(app, poll_id)
    code = join_code(app)
    committed: list[set] = []
    real_store = ballots.store

    def slow_store(engine, batch):
        time.sleep(0.05)  # a slow disk: later ballots queue meanwhile
        stored = real_store(engine, batch)
        committed.append({(b.voter_key) for b in batch})
        return stored

    monkeypatch.setattr(ballots, "store", slow_store)
    with app.app_context():
        writer = ballots.GroupCommit(db.engine, lambda poll: None)
    answers: dict[str, tuple[bool, int]] = {}

    def vote(key):
        stored = writer.cast(ballots.Ballot(code, poll_id, key, [options[0]]))
        answers[f"{key}#{threading.get_ident()}"] = (stored, len(committed))

    threads = [threading.Thread(target=vote, args=(f"a:{i % 20}",)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert len(answers) == 24
    assert len(committed) < 24  # batched
    for key_thread, (_stored, commits_seen) in answers.items():
        key = key_thread.split("#")[0]
        first_commit = next(i for i, keys in enumerate(committed, start=1) if key in keys)
        assert commits_seen >= first_commit  # answered after the commit that had it
    assert sum(stored for stored, _n in answers.values()) == 20  # 4 voters tried twice
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Vote)) == 20


def test_group_commit_passes_a_database_error_to_every_waiting_request(app, event,
                                                                        monkeypatch):
    poll_id = make_poll(app)
    code = join_code(app)

    def broken(engine, batch):
        raise RuntimeError("database away")

    monkeypatch.setattr(ballots, "store", broken)
    with app.app_context():
        writer = ballots.GroupCommit(db.engine, lambda poll: None)
    errors = []

    def vote(i):
        try:
            writer.cast(ballots.Ballot(code, poll_id, f"a:{i}", [1]))
        except RuntimeError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert errors == ["database away"] * 5
    monkeypatch.undo()
    assert writer.cast(ballots.Ballot(code, poll_id, "a:x", option_ids(app, poll_id)[:1]))


def test_a_quick_vote_signals_the_change_after_the_commit(app, event):
    from eventhub.realtime import broker

    poll_id = make_poll(app)
    heard = []
    with app.app_context():
        broker().subscribe(f"poll:{poll_id}", lambda channel, message: heard.append(
            (channel, message, _votes_now(app))))
    cast(phone(app), app, poll_id, option_ids(app, poll_id)[0])
    assert heard == [(f"poll:{poll_id}", "changed", 1)]


def _votes_now(app) -> int:
    engine = app.extensions["sqlalchemy"].engines[None]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Vote)).scalar_one()
