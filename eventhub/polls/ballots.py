"""Ballots: what a valid ballot is, and the quick vote that checks and stores a choice
ballot in one SQL statement, group-committed.

The rules of a valid ballot are stated once, in ``clean``: the ordinary vote
(``services.vote``) runs every ballot through it and answers each broken rule precisely.
The quick vote's statement says the same rules for choice ballots in SQL (the database
checks them while it stores the ballot, without a read first), and so stores only what
``clean`` accepts; tests/test_polls_fetch.py holds the two together.

The ordinary vote loads the poll, its event and options through the ORM and is committed
with its request: about seven round trips and one WAL flush per vote. Here a ballot from
an anonymous voter on a single-choice, multiple-choice or scale poll is checked by the
database itself, in the same statement that stores it:

- the join code names a public event and the poll is that event's, open, for anyone;
- single choice: one option; multiple: 1 … ``max_choices`` options; every option id
  belongs to this poll; scale: one number within the scale;
- ``ON CONFLICT (poll_id, voter_key) DO NOTHING``: the unique index, not a read before
  the write, keeps it to one vote per voter.

Ballots that arrive while a batch is being written wait and then go together, as one
``INSERT … SELECT … RETURNING`` and one COMMIT (group commit): the request that finds no
batch running writes the queued ballots itself, hands the lead to the next waiting
request, and nobody's answer is sent before the commit that stored their vote. There is
no background thread and no delay: a lone vote is written at once.

This batch writer is the one exception to "one commit per request, in the dispatcher"
(``eventhub.transactions``): it writes the ballots of many requests in one autocommit
statement on a connection of its own, outside any request's session.

A ballot the statement does not store (already voted, poll closed, wrong option, a text
kind, registered participants only, …) gets ``False``; the caller then runs the ordinary
vote, which gives the precise answer and handles changing a vote. The answers of the two
paths therefore cannot drift apart: the quick path only ever stores what the ordinary one
would have stored, and leaves every refusal to it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine

from eventhub.db import UTCDateTime, utcnow
from eventhub.errors import ValidationError
from eventhub.events.models import ARCHIVED, CLOSED, PUBLISHED
from eventhub.polls.models import (
    ANYONE,
    APPROVED,
    MULTIPLE,
    OPEN,
    QUIZ,
    RANKING,
    SCALE,
    SINGLE,
    WORDCLOUD,
    Poll,
)

MAX_TEXT = 500
WORD_RE = re.compile(r"[^\W_][\w\-']*", re.UNICODE)

MAX_BATCH = 200
# Under load the writer waits this long before taking the queue, so a batch holds more
# than the one or two ballots that arrive during one fast round trip (each batch costs
# a connection check, the statement and a "changed" signal). Idle, it does not wait.
BATCH_WINDOW = 0.003
BUSY = 0.05  # "under load": the previous batch was written less than this ago


# What a valid ballot is ------------------------------------------------------------------


def parse_choices(raw: list[str]) -> list[int] | None:
    """The whole numbers a ballot names, distinct and sorted ([] when none); None when
    something sent is not a whole number."""
    try:
        return sorted({int(v) for v in raw if str(v).strip()})
    except ValueError:
        return None


def clean(poll: Poll, raw: list[str]) -> Any:
    """Check what a voter sent against the poll's kind; return the value to store."""
    raw = [str(v) for v in raw if str(v).strip()]
    if poll.kind in (SINGLE, MULTIPLE):
        return _options(poll, parse_choices(raw))
    if poll.kind == SCALE:
        return _scale(poll, parse_choices(raw))
    if poll.kind == RANKING:
        return _ranking(poll, raw)
    if poll.kind == QUIZ:
        return _quiz_choice(poll, raw)
    if poll.kind == WORDCLOUD:
        return _phrases(poll, raw)
    return _text(raw)


def _ranking(poll: Poll, raw: list[str]) -> list[int]:
    """Every item of the poll exactly once, in the voter's order (first = best)."""
    try:
        order = [int(v) for v in raw]
    except ValueError:
        order = None
    ids = [o.id for o in poll.options]
    if order is None or not set(order) <= set(ids):
        raise ValidationError(_("Ranger kun punkterne på listen."))
    if len(set(order)) != len(order):
        raise ValidationError(_("Hvert punkt må kun stå én gang i din rækkefølge."))
    if len(order) != len(ids):
        raise ValidationError(_("Placér alle %(n)d punkter i din rækkefølge.", n=len(ids)))
    return order


def _quiz_choice(poll: Poll, raw: list[str]) -> int:
    """One of the quiz question's answers."""
    chosen = parse_choices(raw)
    if not chosen:
        raise ValidationError(_("Vælg et svar."))
    if len(chosen) != 1 or chosen[0] not in {o.id for o in poll.options}:
        raise ValidationError(_("Vælg ét af svarene."))
    return chosen[0]


def phrase(entry: str) -> str:
    """A word-cloud entry as it is counted: lower case, single spaces."""
    return " ".join(WORD_RE.findall(entry.casefold()))


def _phrases(poll: Poll, raw: list[str]) -> list[str]:
    """Word cloud: 1 … ``max_entries`` entries of one to three words each; an entry stays
    one phrase ("Manglende data" is one entry, not two); none with a banned word."""
    limit = max(1, min(poll.max_entries or 1, 5))
    if not raw:
        raise ValidationError(_("Skriv dit svar."))
    if len(raw) > limit:
        raise ValidationError(ngettext("Du kan give højst %(num)d svar.",
                                       "Du kan give højst %(num)d svar.", limit))
    entries: list[str] = []
    banned = set(poll.banned_words or [])
    for entry in raw:
        if len(entry) > MAX_TEXT:
            raise ValidationError(_("Svaret er for langt (højst %(n)d tegn).", n=MAX_TEXT))
        words = phrase(entry).split(" ")
        if not entry.strip() or not words[0] or len(words) > 3:
            raise ValidationError(_("Skriv ét til tre ord i hvert svar."))
        if any(len(w) > 40 for w in words):
            raise ValidationError(_("Ordene er for lange."))
        if any(w in banned for w in words) or " ".join(words) in banned:
            raise ValidationError(_("Det ord kan ikke bruges her. Prøv et andet."))
        if " ".join(words) not in entries:
            entries.append(" ".join(words))
    return entries


def _options(poll: Poll, chosen: list[int] | None) -> list[int]:
    """Single choice: one option; multiple: 1 … ``max_choices``; all of this poll."""
    ids = {o.id for o in poll.options}
    if chosen == []:
        raise ValidationError(_("Vælg en svarmulighed."))
    if chosen is None or not ids.issuperset(chosen):
        raise ValidationError(_("Vælg blandt svarmulighederne."))
    if poll.kind == SINGLE and len(chosen) > 1:
        raise ValidationError(_("Vælg kun én svarmulighed."))
    limit = poll.max_choices or len(ids)
    if len(chosen) > limit:
        raise ValidationError(_("Vælg højst %(n)d svarmuligheder.", n=limit))
    return chosen


def _scale(poll: Poll, chosen: list[int] | None) -> int:
    """One number within the scale."""
    if not chosen or len(chosen) != 1 or not poll.scale_min <= chosen[0] <= poll.scale_max:
        raise ValidationError(_("Vælg et tal fra %(a)d til %(b)d.", a=poll.scale_min,
                                b=poll.scale_max))
    return chosen[0]


def _text(raw: list[str]) -> str:
    """An answer in words: not empty, at most ``MAX_TEXT`` characters."""
    answer = " ".join(" ".join(raw).split())
    if not answer:
        raise ValidationError(_("Skriv dit svar."))
    if len(answer) > MAX_TEXT:
        raise ValidationError(_("Svaret er for langt (højst %(n)d tegn).", n=MAX_TEXT))
    return answer


# The quick vote ------------------------------------------------------------------------


@dataclass(eq=False)
class Ballot:
    code: str
    poll_id: int
    voter_key: str
    choices: list[int]  # distinct, sorted
    stored: bool = False
    error: BaseException | None = None
    lead: bool = False
    done: threading.Event = field(default_factory=threading.Event)


_PUBLIC = ", ".join(f"'{s}'" for s in (PUBLISHED, CLOSED, ARCHIVED))
# What the statement checks for a ballot ``b`` (poll_id, code, voter_key; n = how many
# distinct numbers were sent, first = the smallest, list = all as JSON text) joined with
# its poll ``p`` and event ``e``: the rules of ``clean`` (``_options``, ``_scale``) for the
# ballot, those of ``services.vote`` and ``voters.voter_for`` for the poll. OPTIONS_OK
# stands for "every number is an option id of p", which each database says its own way.
_CHECKS = f"""
    e.join_code = b.code AND e.status IN ({_PUBLIC})
    AND p.status = '{OPEN}' AND p.audience = '{ANYONE}'
    AND ((p.kind = '{SINGLE}' AND b.n = 1
          OR p.kind = '{MULTIPLE}' AND b.n <= COALESCE(p.max_choices, b.n)) AND OPTIONS_OK
         OR p.kind = '{SCALE}' AND b.n = 1 AND b.first BETWEEN p.scale_min AND p.scale_max)"""
_VALUE = f"CASE WHEN p.kind = '{SCALE}' THEN CAST(b.first AS VARCHAR) ELSE b.list END"

# PostgreSQL: one fixed text whatever the batch size (each column an array), so nothing
# is compiled per batch and the server keeps the plan prepared.
_PG_OPTIONS_OK = """b.n = (SELECT count(*) FROM poll_options o
                     WHERE o.poll_id = p.id AND o.id = ANY(CAST(b.opts AS int[])))"""
_PG_SQL = f"""
    INSERT INTO votes (poll_id, voter_key, value, status, created_at, updated_at)
    SELECT b.poll_id, b.voter_key, CAST({_VALUE} AS JSON), '{APPROVED}', %(now)s, %(now)s
    FROM unnest(%(poll)s::int[], %(code)s::text[], %(key)s::text[], %(n)s::int[],
                %(first)s::int[], %(list)s::text[], %(opts)s::text[])
         AS b(poll_id, code, voter_key, n, first, list, opts)
    JOIN polls p ON p.id = b.poll_id JOIN events e ON e.id = p.event_id
    WHERE {_CHECKS.replace("OPTIONS_OK", _PG_OPTIONS_OK)}
    ON CONFLICT (poll_id, voter_key) DO NOTHING
    RETURNING poll_id, voter_key"""

_SQLITE_OPTIONS_OK = """b.n = (SELECT count(*) FROM json_each(b.list) j
                         JOIN poll_options o ON o.id = j.value WHERE o.poll_id = p.id)"""


def _sqlite_statement(rows: int):
    """The same for SQLite (development and tests): one VALUES row per ballot."""
    values = ", ".join(f"(:p{i}, :c{i}, :k{i}, :n{i}, :x{i}, :l{i})" for i in range(rows))
    return text(f"""
        WITH b(poll_id, code, voter_key, n, first, list) AS (VALUES {values})
        INSERT INTO votes (poll_id, voter_key, value, status, created_at, updated_at)
        SELECT b.poll_id, b.voter_key, {_VALUE}, '{APPROVED}', :now, :now
        FROM b JOIN polls p ON p.id = b.poll_id JOIN events e ON e.id = p.event_id
        WHERE {_CHECKS.replace("OPTIONS_OK", _SQLITE_OPTIONS_OK)}
        ON CONFLICT (poll_id, voter_key) DO NOTHING
        RETURNING poll_id, voter_key""").bindparams(bindparam("now", type_=UTCDateTime()))


def store(engine: Engine, ballots: list[Ballot]) -> set[tuple[int, str]]:
    """Write ``ballots`` (distinct voters per poll) in one statement and commit; returns
    the (poll id, voter key) of those stored."""
    now = utcnow()
    # One statement is its own transaction: in autocommit it costs no BEGIN and COMMIT
    # round trips, and it has committed when ``execute`` returns.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.exec_driver_sql(_PG_SQL, {
                "now": UTCDateTime().process_bind_param(now, engine.dialect),
                "poll": [b.poll_id for b in ballots], "code": [b.code for b in ballots],
                "key": [b.voter_key for b in ballots],
                "n": [len(b.choices) for b in ballots],
                "first": [b.choices[0] for b in ballots],
                "list": [json.dumps(b.choices) for b in ballots],
                "opts": ["{" + ",".join(map(str, b.choices)) + "}" for b in ballots]})
        else:
            params: dict = {"now": now}
            for i, b in enumerate(ballots):
                params.update({f"p{i}": b.poll_id, f"c{i}": b.code, f"k{i}": b.voter_key,
                               f"n{i}": len(b.choices), f"x{i}": b.choices[0],
                               f"l{i}": json.dumps(b.choices)})
            rows = conn.execute(_sqlite_statement(len(ballots)), params)
        return {(poll_id, key) for poll_id, key in rows}


class GroupCommit:
    """Ballots of one process, written in batches; see the module's docstring."""

    def __init__(self, engine: Engine, changed: Callable[[int], None],
                 window: float = BATCH_WINDOW) -> None:
        self.engine = engine
        self.changed = changed  # called with a poll id after a commit that stored votes
        self.window = window
        self._lock = threading.Lock()
        self._queue: list[Ballot] = []
        self._leading = False
        self._last_write = -BUSY

    def cast(self, ballot: Ballot) -> bool:
        """True once the ballot is committed; False when it was not stored."""
        with self._lock:
            self._queue.append(ballot)
            lead = not self._leading
            self._leading = True
        if not lead:
            ballot.done.wait()
            lead = ballot.lead  # woken to write the next batch, ours among it
        if lead:
            self._write_batch()
        if ballot.error is not None:
            raise ballot.error
        return ballot.stored

    def _write_batch(self) -> None:
        if self.window and time.monotonic() - self._last_write < BUSY:
            time.sleep(self.window)  # cooperative under gevent: requests keep arriving
        with self._lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        self._last_write = time.monotonic()
        try:
            self._write(batch)
        finally:
            with self._lock:
                successor = self._queue[0] if self._queue else None
                self._leading = successor is not None
            if successor is not None:
                successor.lead = True
                successor.done.set()

    def _write(self, batch: list[Ballot]) -> None:
        seen: set[tuple[int, str]] = set()
        first: list[Ballot] = []
        for b in batch:  # the same voter twice in one batch: the later one is not stored
            if (b.poll_id, b.voter_key) not in seen:
                seen.add((b.poll_id, b.voter_key))
                first.append(b)
        try:
            stored = store(self.engine, first)
        except BaseException as exc:  # every waiting request answers with the error
            for b in batch:
                b.error = exc
        else:
            for b in first:
                b.stored = (b.poll_id, b.voter_key) in stored
            for poll_id in sorted({b.poll_id for b in first if b.stored}):
                try:
                    self.changed(poll_id)
                except Exception:  # the votes are committed; streams catch up on the next
                    pass
        for b in batch:
            if not b.lead:
                b.done.set()
