"""gunicorn config for ``bench_polls.py`` setups ending in ``+lean`` (an experiment).

Loaded with ``gunicorn -c tests/perf/_polls_whatif.py``; changes nothing in the app's
files, only swaps one view inside each worker after it has loaded the app.

``BENCH_WHATIF=lean``: the vote view as one SQL statement instead of seven. The app as
built runs, per vote: SELECT event by join code, SELECT poll, SELECT options (lazy load
in ``clean_vote``), SAVEPOINT, INSERT, RELEASE SAVEPOINT, COMMIT, and SELECT poll again
(``poll.id`` read after the commit expired it), each through the ORM. The lean view does
the same checks in one ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`` and then
COMMIT: the join code names a public event, the poll is that event's and open, its
audience is "anyone", the choice is one of its options; a second vote inserts nothing.
Whenever it inserts nothing (already voted, closed, wrong option, another kind of poll)
it hands the request to the app's own view, which gives the usual answer. It shows how
fast a vote could be; it is not the app as built.
"""

from __future__ import annotations

import os


def _install_lean_vote(app) -> None:
    from flask import jsonify, request
    from flask_babel import gettext as _
    from sqlalchemy import text

    from eventhub.db import utcnow
    from eventhub.extensions import db
    from eventhub.polls import voters
    from eventhub.polls.views import notify, wants_json

    original = app.view_functions["polls.vote"]
    insert = text("""
        INSERT INTO votes (poll_id, voter_key, value, status, created_at, updated_at)
        SELECT p.id, :key, CAST(:value AS json), 'approved', :now, :now
        FROM polls p JOIN events e ON e.id = p.event_id
        WHERE p.id = :poll_id AND e.join_code = :code
          AND e.status IN ('published', 'closed', 'archived')
          AND p.status = 'open' AND p.audience = 'anyone' AND p.kind = 'single'
          AND EXISTS (SELECT 1 FROM poll_options o WHERE o.poll_id = p.id AND o.id = :choice)
        ON CONFLICT (poll_id, voter_key) DO NOTHING
        RETURNING id""")

    def lean_vote(code: str, poll_id: int):
        if not wants_json():
            return original(code=code, poll_id=poll_id)
        choices = request.form.getlist("choice")
        try:
            anon = voters.anonymous_id()
            choice = int(choices[0]) if len(choices) == 1 else None
        except (voters.VoterUnknown, ValueError):
            anon = choice = None
        if anon is None or choice is None:
            return original(code=code, poll_id=poll_id)
        now = utcnow()
        inserted = db.session.execute(insert, {
            "key": f"a:{anon}", "value": f"[{choice}]", "now": now, "poll_id": poll_id,
            "code": (code or "").upper(), "choice": choice}).first()
        if inserted is None:
            db.session.rollback()
            return original(code=code, poll_id=poll_id)
        db.session.commit()
        notify(poll_id)
        return jsonify(ok=True, message=_("Tak for din stemme!"))

    app.view_functions["polls.vote"] = lean_vote


def post_worker_init(worker):
    what = os.environ.get("BENCH_WHATIF")
    if what == "lean":
        _install_lean_vote(worker.wsgi)
    elif what:
        raise SystemExit(f"unknown BENCH_WHATIF {what!r}")
