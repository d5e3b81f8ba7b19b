"""Participants: join by code, vote from the phone, see results live."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from eventhub.documents import qr_png
from eventhub.errors import DomainError
from eventhub.extensions import csrf, limiter
from eventhub.polls import joinpage, live, quickvote, services, voters
from eventhub.polls.models import OPEN
from eventhub.polls.tally import RESULT_KEYS, etag_of, public_view, snapshot
from eventhub.transactions import attempt

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


@bp.route("/j", methods=["GET", "POST"])
def join_form():
    code = (request.values.get("code") or "").strip().upper()
    if code:
        return redirect(url_for(".join", code=code))
    return render_template("polls/join_form.html")


@bp.get("/j/<code>")
def join(code: str):
    event, polls = joinpage.open_polls(code)
    try:
        voter_id = voters.anonymous_id()
    except DomainError:
        voter_id = None  # a forged cookie is replaced, so the next vote counts
    new_cookie = None
    if voter_id is None:
        new_cookie, voter_id = voters.new_voter()
    response = current_app.make_response(joinpage.page(event, polls, voter_id))
    if new_cookie:
        response.set_cookie(voters.COOKIE, new_cookie, max_age=180 * 86400,
                            httponly=True, samesite="Lax",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def _participant_action(code: str, poll_id: int, act) -> Response:
    """Run ``act(poll, voter key, registration id)`` for the voter of this request.

    Returns the message to show; a refusal rolls back and is answered as JSON for
    ``fetch`` and as a flash message after a redirect for plain forms. Every instance
    hears about the change after the commit.
    """
    poll = services.poll_by_code(code, poll_id)
    back = url_for(".join", code=code) + f"#poll-{poll_id}"
    with attempt() as failed:
        key, reg_id = voters.voter_for(poll, poll.event)
        message, category = act(poll, key, reg_id)
    if failed:
        if wants_json():
            return jsonify(ok=False, error=failed.message), failed.error.status_code
        flash(failed.message, "error")
        return redirect(back)
    live.notify_after_commit(poll_id)
    if wants_json():
        return jsonify(ok=True, message=message)
    if message:
        flash(message, category)
    return redirect(back)


def _cast(poll, key, reg_id):
    services.vote(poll, key, request.form.getlist("choice"), registration_id=reg_id,
                  nickname=request.form.get("nickname", ""))
    return _("Tak for din stemme!"), "success"


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
    if not quickvote.same_origin():
        return jsonify(ok=False, error=_("Stemmen blev afvist, fordi den ikke kom fra "
                                         "afstemningssiden. Åbn siden igen, og stem "
                                         "derfra.")), 403
    try:
        voter_id = voters.fetch_voter()
    except DomainError as exc:
        return jsonify(ok=False, error=exc.message), exc.status_code
    if quickvote.cast(code, poll_id, voter_id, request.form.getlist("choice")):
        return quickvote.thanks()
    return _participant_action(code, poll_id, _cast)


@bp.post("/j/<code>/polls/<int:poll_id>/ask")
@limiter.limit(_vote_limit, key_func=voters.rate_limit_key)
def ask(code: str, poll_id: int):
    def question(poll, key, _reg_id):
        services.ask(poll, key, request.form.get("text", ""), request.form.get("author", ""))
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
    if snap.get("after_vote") and services.my_vote(
            poll, voters.voter_key_or_none(poll, event)) is None:
        snap = {k: v for k, v in snap.items() if k not in RESULT_KEYS} | {"hidden": True}
    etag = etag_of(snap)
    if request.if_none_match.contains(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    response = Response(json.dumps(snap, ensure_ascii=False), mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/j/<code>/stream")
def event_stream(code: str):
    """The join page's one stream: every open poll of the event, and which are open."""
    event = joinpage.event_for_join(code)
    return live.event_sse_response(event.id, public=True)


@bp.get("/j/<code>/polls/<int:poll_id>/stream")
def results_stream(code: str, poll_id: int):
    event = services.event_by_join_code(code)
    poll = services.get_poll(event, poll_id)
    return live.sse_response(poll.id, public=True)


@bp.get("/j/<code>/qr.png")
def join_qr(code: str):
    event = services.event_by_join_code(code)
    return Response(qr_png(live.join_url(event), box_size=10), mimetype="image/png",
                    headers={"Cache-Control": "public, max-age=3600"})
