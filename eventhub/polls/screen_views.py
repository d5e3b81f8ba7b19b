"""The room's screen (no site chrome, for the projector) and the presenter's remote
that moves it; the screen follows the remote over the event's one stream."""

from __future__ import annotations

from flask import jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from eventhub.events import services as events
from eventhub.events.hooks import staff_blueprint
from eventhub.events.models import ORGANIZER
from eventhub.forms import ActionForm
from eventhub.polls import charts, screen, services
from eventhub.polls.live import event_sse_response, join_url, notify_after_commit
from eventhub.polls.models import KIND_LABELS, STATUS_LABELS
from eventhub.polls.tally import snapshot
from eventhub.programme.services import list_sessions
from eventhub.transactions import attempt

bp = staff_blueprint("poll_screen", __name__, "/manage/e/<slug>/polls")


def _event(slug: str):
    return events.get_event_for(slug, current_user, ORGANIZER)


@bp.get("/screen")
def screen_page(slug: str):
    """The room's screen: full screen, big type, the join code and QR, the current poll."""
    event = _event(slug)
    state = screen.screen_of(event)
    return render_template("polls/screen.html", event=event, state=state,
                           join_url=join_url(event), **_shown(event, state))


@bp.get("/screen/body")
def screen_body(slug: str):
    """What the screen shows now, swapped in when the stream says something changed."""
    event = _event(slug)
    state = screen.screen_of(event)
    return render_template("polls/_screen_body.html", event=event, state=state,
                           join_url=join_url(event), **_shown(event, state))


def _shown(event, state) -> dict:
    poll = screen.current_poll(event, state)
    if poll is None:
        return {"poll": None}
    snap = snapshot(poll)
    shown = snap["results_visible"] or poll.kind in ("qa", "wordcloud", "open_text")
    return {"poll": poll, "snap": snap, "revealed": shown,
            "chart": charts.chart_for(snap, poll.question) if shown else None,
            "kind_labels": KIND_LABELS}


@bp.get("/screen/stream")
def screen_stream(slug: str):
    event = _event(slug)
    return event_sse_response(event.id, public=False)


@bp.get("/remote")
def remote(slug: str):
    """The presenter's remote: polls in order, next / previous, open / close, reveal,
    the join QR, and moderation of the current Q&A."""
    event = _event(slug)
    state = screen.screen_of(event)
    current = screen.current_poll(event, state)
    sessions = [s for s in list_sessions(event)
                if any(p.session_id == s.id for p in services.polls_of(event))]
    session_id = _session_arg(request.args.get("session", ""), sessions)
    return render_template(
        "polls/remote.html", event=event, state=state, current=current,
        polls=screen.polls_in_order(event, session_id), sessions=sessions,
        session_id=session_id, pending=services.pending(current) if current else [],
        snap=snapshot(current) if current else None, form=ActionForm(),
        kind_labels=KIND_LABELS, status_labels=STATUS_LABELS)


def _session_arg(raw: str, sessions) -> int | None:
    """The programme session the remote is limited to (None: the whole event)."""
    return next((s.id for s in sessions if str(s.id) == raw), None)


@bp.post("/remote/<command>")
def command(slug: str, command: str):
    """One remote command. The role is checked by the service (``screen.command``): a
    refusal rolls back and answers with its message (JSON for fetch, else a page)."""
    event = events.get_event(slug, current_user)
    raw = request.form.get("poll", "")
    target = int(raw) if raw.isdigit() else None
    raw_session = request.form.get("session", "")
    session_id = int(raw_session) if raw_session.isdigit() else None
    if request.accept_mimetypes.best == "application/json":
        with attempt() as failed:
            state = screen.command(current_user, event, command, target, session_id)
        if failed:
            return jsonify(ok=False, error=failed.message), failed.error.status_code
        notify_after_commit(state.poll_id, event.id)
        return jsonify(ok=True, poll=state.poll_id, qr=state.show_qr)
    state = screen.command(current_user, event, command, target, session_id)
    notify_after_commit(state.poll_id, event.id)
    return redirect(url_for(".remote", slug=slug, session=session_id or None))
