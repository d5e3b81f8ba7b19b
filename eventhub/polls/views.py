"""Participants: join by code, vote from the phone, see results live."""

from __future__ import annotations

import json
import secrets
import threading
from collections import OrderedDict
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager, joinedload

from eventhub.i18n import select_locale
from eventhub.documents import qr_png
from eventhub.errors import DomainError
from eventhub.events import hooks
from eventhub.events.models import Event
from eventhub.extensions import csrf, db, limiter
from eventhub.forms import ActionForm
from eventhub.polls import ballots, charts, services, stream, voters
from eventhub.polls.models import KIND_LABELS, MULTIPLE, OPEN, SINGLE, Poll
from eventhub.polls.tally import etag_of, public_view, snapshot
from eventhub.realtime import broker

bp = Blueprint("polls", __name__)

def public_panel(event, user) -> dict | None:
    polls = services.polls_of(event)
    return {"open": sum(p.status == OPEN for p in polls)} if polls else None




def _vote_limit() -> str:
    return current_app.config["RATELIMIT_VOTE"]


def wants_json() -> bool:
    if request.headers.get("Accept") == "application/json":  # poll.js; skips the parsing
        return True
    return request.accept_mimetypes.best == "application/json" or request.is_json


def join_url(event) -> str:
    return current_app.config["BASE_URL"] + url_for("polls.join", code=event.join_code)


def notify(poll_id: int) -> None:
    """Tell every instance that this poll's results changed (after the commit)."""
    broker().publish(f"poll:{poll_id}", "changed")


def group_commit() -> ballots.GroupCommit:
    """This process's batch writer for quick votes (made on first use)."""
    app = current_app._get_current_object()
    writer = app.extensions.get("eventhub_ballots")
    if writer is None:
        publish = app.extensions["eventhub_broker"].publish
        writer = app.extensions.setdefault("eventhub_ballots", ballots.GroupCommit(
            db.engine, lambda poll_id: publish(f"poll:{poll_id}", "changed")))
    return writer


@bp.route("/j", methods=["GET", "POST"])
def join_form():
    code = (request.values.get("code") or "").strip().upper()
    if code:
        return redirect(url_for(".join", code=code))
    return render_template("polls/join_form.html")


class _Recent:
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


# The join page. Thousands of phones open it within a minute, and all of it but the
# visitor's CSRF field, vote token and own vote is the same for everyone who sees the
# same polls with the same tallies. So the page is rendered with slots for the two
# tokens and kept, keyed by everything it shows (the polls as loaded, each public
# snapshot's ETag, the language, the query string), never by time: an entry is either
# exactly right or never looked up again, on any number of instances. Pages with
# something of the visitor's own (a vote, a panel, a flash message, a signed-in user)
# are rendered the same way but not kept. Charts are kept by snapshot ETag too.
_SLOT = secrets.token_hex(8)
CSRF_SLOT = f"eh-csrf-slot-{_SLOT}"
VOTE_TOKEN_SLOT = f"eh-vote-slot-{_SLOT}"
join_pages = _Recent(64)
charts_by_etag = _Recent(256)


class _SlotForm:
    """Stands in for ``ActionForm`` while the page is rendered: its CSRF field is a slot."""

    csrf_token = Markup(CSRF_SLOT)


def _poll_shape(poll) -> tuple:
    """What the join page shows of a poll besides its snapshot."""
    options = tuple((o.id, o.label) for o in poll.options) \
        if poll.kind in (SINGLE, MULTIPLE) else ()
    return (poll.id, poll.kind, poll.question, poll.status, poll.max_choices,
            poll.allow_change, poll.scale_min, poll.scale_max, options)


# Built once: composing the statement cost more than running it.
_OPEN_POLLS = (select(Poll).join(Event, Poll.event_id == Event.id)
               .where(Event.join_code == bindparam("code"), Poll.status == OPEN)
               .options(contains_eager(Poll.event), joinedload(Poll.options))
               .order_by(Poll.position, Poll.id))


def _open_polls(code: str):
    """(event, its open polls with their options) in one round trip; when no poll is
    open, the event alone (``services.event_by_join_code``: a 404 for an unknown code)."""
    polls = list(db.session.scalars(_OPEN_POLLS, {"code": (code or "").upper()}).unique())
    if not polls or not polls[0].event.is_public:
        return services.event_by_join_code(code), []
    return polls[0].event, polls


@bp.get("/j/<code>")
def join(code: str):
    event, polls = _open_polls(code)
    shown = []
    for poll in polls:
        snap = public_view(snapshot(poll))
        etag = etag_of(snap)
        shown.append({
            "poll": poll, "snap": snap, "etag": etag, "mine": services.my_vote(
                poll, voters.voter_key_or_none(poll, event)),
            "chart": _chart(poll, snap, etag),
            "panels": hooks.render_panels(hooks.POLL, poll, event),
        })
    try:
        voter_id = voters.anonymous_id()
    except DomainError:
        voter_id = None  # a forged cookie is replaced, so the next vote counts
    new_cookie = None
    if voter_id is None:
        new_cookie, voter_id = voters.new_voter()
    key = None
    if not (current_user.is_authenticated or session.get("_flashes")
            or any(item["mine"] or item["panels"] for item in shown)):
        key = (str(get_locale()), request.script_root, request.query_string, event.id,
               event.title, event.join_code,
               tuple((item["etag"], _poll_shape(item["poll"])) for item in shown))
    page = join_pages.get(key) if key is not None else None
    if page is None:
        page = render_template("polls/join.html", event=event, polls=shown,
                               kind_labels=KIND_LABELS, form=_SlotForm(),
                               vote_token=VOTE_TOKEN_SLOT)
        if key is not None:
            join_pages.put(key, page)
    if CSRF_SLOT in page:  # the visitor's own CSRF field (made only when the page has one)
        page = page.replace(CSRF_SLOT, str(ActionForm().csrf_token))
    page = page.replace(VOTE_TOKEN_SLOT, voters.vote_token(voter_id))
    response = current_app.make_response(page)
    if new_cookie:
        response.set_cookie(voters.COOKIE, new_cookie, max_age=180 * 86400,
                            httponly=True, samesite="Lax",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def _chart(poll, snap, etag: str | None = None):
    if snap.get("hidden"):
        return None
    key = (poll.id, etag or etag_of(snap))
    chart = charts_by_etag.get(key)
    if chart is None:
        chart = _render_chart(poll, snap)
        charts_by_etag.put(key, chart if chart is not None else False)
    return chart or None


def _render_chart(poll, snap):
    if "options" in snap:
        return charts.bar_chart(snap, poll.question)
    if "words" in snap:
        return charts.word_cloud(snap, poll.question)
    return None


def _participant_action(code: str, poll_id: int, act) -> Response:
    """Run ``act(poll, voter key, registration id)`` for the voter of this request.

    Returns the message to show; a refusal rolls back and is answered as JSON for
    ``fetch`` and as a flash message after a redirect for plain forms. Every instance
    hears about the change after the commit.
    """
    poll = services.poll_by_code(code, poll_id)
    back = url_for(".join", code=code) + f"#poll-{poll_id}"
    try:
        key, reg_id = voters.voter_for(poll, poll.event)
        message, category = act(poll, key, reg_id)
    except DomainError as exc:
        db.session.rollback()
        if wants_json():
            return jsonify(ok=False, error=exc.message), exc.status_code
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    notify(poll_id)  # the id from the URL: reading poll.id would reload the expired row
    if wants_json():
        return jsonify(ok=True, message=message)
    if message:
        flash(message, category)
    return redirect(back)


_THANKS: dict[str, bytes] = {}


def _thanks() -> Response:
    """The answer to a stored quick vote, in the visitor's language (built once per
    language: at hundreds of votes a second, translating and serializing it each time
    was a noticeable part of the vote's cost)."""
    locale = str(select_locale())  # not Flask-Babel's get_locale: it costs far more here
    body = _THANKS.get(locale)
    if body is None:
        body = _THANKS[locale] = json.dumps(
            {"ok": True, "message": _("Tak for din stemme!")}, ensure_ascii=False).encode()
    return Response(body, mimetype="application/json")


def _cast(poll, key, reg_id):
    services.vote(poll, key, request.form.getlist("choice"), registration_id=reg_id)
    return _("Tak for din stemme!"), "success"


def _same_origin() -> bool:
    """The request comes from a page of this site (``Origin``, else ``Referer``)."""
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    host = urlsplit(source).netloc
    return bool(host) and host in (request.host,
                                   urlsplit(current_app.config["BASE_URL"]).netloc)


@bp.post("/j/<code>/polls/<int:poll_id>/vote")
@csrf.exempt  # the form is checked below; fetch votes carry a token bound to the voter
@limiter.limit(_vote_limit, key_func=voters.rate_limit_key)
def vote(code: str, poll_id: int):
    if not wants_json():
        csrf.protect()  # the session's CSRF token, as for every form
        return _participant_action(code, poll_id, _cast)
    # fetch (poll.js): no session needed. CSRF: the X-Vote-Token header must match the
    # signed voter cookie, and the request must come from this site. A choice ballot is
    # then checked and stored in one statement, committed with the votes arriving
    # meanwhile; anything else (or a refusal) goes the ordinary way for its answer.
    if not _same_origin():
        return jsonify(ok=False, error=_("Stemmen blev afvist, fordi den ikke kom fra "
                                         "afstemningssiden. Åbn siden igen, og stem "
                                         "derfra.")), 403
    try:
        voter_id = voters.fetch_voter()
    except DomainError as exc:
        return jsonify(ok=False, error=exc.message), exc.status_code
    choices = ballots.parse_choices(request.form.getlist("choice"))
    if choices is not None and group_commit().cast(ballots.Ballot(
            code.upper(), poll_id, f"a:{voter_id}", choices)):
        return _thanks()
    return _participant_action(code, poll_id, _cast)


@bp.post("/j/<code>/polls/<int:poll_id>/ask")
@limiter.limit(_vote_limit, key_func=voters.rate_limit_key)
def ask(code: str, poll_id: int):
    def question(poll, key, _reg_id):
        services.ask(poll, key, request.form.get("text", ""))
        return _("Tak! Dit spørgsmål vises, når ordstyreren har godkendt det."), "success"
    return _participant_action(code, poll_id, question)


@bp.post("/j/<code>/polls/<int:poll_id>/questions/<int:question_id>/upvote")
@limiter.limit(_vote_limit, key_func=voters.rate_limit_key)
def upvote(code: str, poll_id: int, question_id: int):
    def up(poll, key, _reg_id):
        if services.upvote(poll, question_id, key):
            return "", "success"
        return _("Du har allerede givet spørgsmålet en stemme."), "info"
    return _participant_action(code, poll_id, up)


@bp.get("/j/<code>/polls/<int:poll_id>.json")
def results_json(code: str, poll_id: int):
    """The current snapshot for clients that cannot keep a stream; honours If-None-Match."""
    event = services.event_by_join_code(code)
    poll = services.get_poll(event, poll_id)
    snap = public_view(snapshot(poll))
    etag = etag_of(snap)
    if request.if_none_match.contains(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    response = Response(json.dumps(snap, ensure_ascii=False), mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/j/<code>/polls/<int:poll_id>/stream")
def results_stream(code: str, poll_id: int):
    event = services.event_by_join_code(code)
    poll = services.get_poll(event, poll_id)
    return sse_response(poll.id, public=True)


def sse_response(poll_id: int, public: bool) -> Response:
    poll_hub = stream.hub()
    db.session.remove()  # a stream must not hold a database connection
    limit = current_app.config.get("SSE_MAX_SECONDS")
    # direct_passthrough: the stream yields ready bytes, so werkzeug need not re-encode
    # and wrap every message on its way out.
    return Response(stream.event_stream(poll_hub, poll_id, public, limit),
                    mimetype="text/event-stream", direct_passthrough=True,
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@bp.get("/j/<code>/qr.png")
def join_qr(code: str):
    event = services.event_by_join_code(code)
    return Response(qr_png(join_url(event), box_size=10), mimetype="image/png",
                    headers={"Cache-Control": "public, max-age=3600"})
