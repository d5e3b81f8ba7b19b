"""The join page (``/j/<code>``), rendered once per content and kept.

Thousands of phones open it within a minute, and all of it but the visitor's CSRF
field, vote token and own vote is the same for everyone who sees the same polls with
the same tallies. So the page is rendered with slots for the two tokens and kept, keyed
by everything it shows (the polls as loaded, each public snapshot's ETag, the language,
the query string), never by time: an entry is either exactly right or never looked up
again, on any number of instances. Pages with something of the visitor's own (a vote, a
panel, a flash message, a signed-in user) are rendered the same way but not kept.
Charts are kept by snapshot ETag too.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict

from flask import render_template, request, session
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager, joinedload

from eventhub.errors import NotFound
from eventhub.events import hooks
from eventhub.events.models import Event
from eventhub.events.services import is_staff
from eventhub.extensions import db
from eventhub.forms import ActionForm
from eventhub.polls import charts, services, voters
from eventhub.polls.models import KIND_LABELS, OPEN, OPTION_KINDS, Poll
from eventhub.polls.tally import RESULT_KEYS, etag_of, public_view, snapshot


class Recent:
    """A small least-recently-used map for this process (safe under threads and gevent)."""

    def __init__(self, size: int) -> None:
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


_SLOT = secrets.token_hex(8)
CSRF_SLOT = f"eh-csrf-slot-{_SLOT}"
VOTE_TOKEN_SLOT = f"eh-vote-slot-{_SLOT}"
join_pages = Recent(64)
charts_by_etag = Recent(256)


class _SlotForm:
    """Stands in for ``ActionForm`` while the page is rendered: its CSRF field is a slot."""

    csrf_token = Markup(CSRF_SLOT)


# Built once: composing the statement cost more than running it.
_OPEN_POLLS = (select(Poll).join(Event, Poll.event_id == Event.id)
               .where(Event.join_code == bindparam("code"), Poll.status == OPEN)
               .options(contains_eager(Poll.event), joinedload(Poll.options))
               .order_by(Poll.position, Poll.id))


def event_for_join(code: str) -> Event:
    """The event of a join code: a public one, or a draft for its staff to preview
    (under the preview banner); a 404 for anyone else."""
    try:
        return services.event_by_join_code(code)
    except NotFound:
        event = db.session.scalar(select(Event).where(Event.join_code == (code or "").upper()))
        if event is None or not is_staff(current_user, event):
            raise
        return event


def open_polls(code: str) -> tuple[Event, list[Poll]]:
    """(event, its open polls with their options) in one round trip; when no poll is
    open, the event alone (a 404 for an unknown code or someone else's draft)."""
    polls = list(db.session.scalars(_OPEN_POLLS, {"code": (code or "").upper()}).unique())
    if not polls:
        return event_for_join(code), []
    if not polls[0].event.is_public:
        return event_for_join(code), polls
    return polls[0].event, polls


def page(event: Event, polls: list[Poll], voter_id: str) -> str:
    """The join page for this visitor: kept or rendered, with their own tokens filled in."""
    shown = [_shown(poll, event) for poll in polls]
    key = _cache_key(event, shown)
    html = join_pages.get(key) if key is not None else None
    if html is None:
        html = render_template("polls/join.html", event=event, polls=shown,
                               kind_labels=KIND_LABELS, form=_SlotForm(),
                               vote_token=VOTE_TOKEN_SLOT, panels=_panels_once(shown))
        if key is not None:
            join_pages.put(key, html)
    if CSRF_SLOT in html:  # the visitor's own CSRF field (made only when the page has one)
        html = html.replace(CSRF_SLOT, str(ActionForm().csrf_token))
    return html.replace(VOTE_TOKEN_SLOT, voters.vote_token(voter_id))


def _shown(poll: Poll, event: Event) -> dict:
    """What the page shows of one poll: its public snapshot, chart, the visitor's vote."""
    snap = public_view(snapshot(poll))
    etag = etag_of(snap)
    mine = services.my_vote(poll, voters.voter_key_or_none(poll, event))
    if snap.get("after_vote") and mine is None:  # results once this phone has answered
        snap = {k: v for k, v in snap.items() if k not in RESULT_KEYS} | {"hidden": True}
    return {"poll": poll, "snap": snap, "etag": etag, "mine": mine,
            "chart": _chart(poll, snap, etag),
            "panels": hooks.render_panels(hooks.POLL, poll, event)}


def _panels_once(shown: list[dict]) -> list[tuple[str, dict]]:
    """The polls' panels (such as the session's solutions), each once per page: two
    polls of one session show its solutions once (panels alike but for the poll they
    were made for, and their own form, are one)."""
    panels: list[tuple[str, dict]] = []
    seen: list[tuple[str, dict]] = []
    for item in shown:
        for template, context in item["panels"]:
            key = (template, {k: v for k, v in context.items() if k not in ("poll", "form")})
            if key not in seen:
                seen.append(key)
                panels.append((template, context))
    return panels


def _cache_key(event: Event, shown: list[dict]) -> tuple | None:
    """Everything the page shows, or None when it holds something of the visitor's own."""
    if current_user.is_authenticated or session.get("_flashes") or any(
            item["mine"] or item["panels"] for item in shown):
        return None
    return (str(get_locale()), request.script_root, request.query_string, event.id,
            event.title, event.join_code,
            tuple((item["etag"], _poll_shape(item["poll"])) for item in shown))


def _poll_shape(poll: Poll) -> tuple:
    """What the join page shows of a poll besides its snapshot."""
    options = tuple((o.id, o.label) for o in poll.options) \
        if poll.kind in OPTION_KINDS else ()
    return (poll.id, poll.kind, poll.question, poll.status, poll.max_choices,
            poll.allow_change, poll.scale_min, poll.scale_max, options, poll.max_entries,
            poll.qa_names, poll.time_limit, poll.opened_at, poll.results_mode)


def _chart(poll: Poll, snap: dict, etag: str):
    if snap.get("hidden"):
        return None
    key = (poll.id, etag)
    chart = charts_by_etag.get(key)
    if chart is None:
        chart = charts.chart_for(snap, poll.question)
        charts_by_etag.put(key, chart if chart is not None else False)
    return chart or None
