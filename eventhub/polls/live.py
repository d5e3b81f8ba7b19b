"""What the poll pages share: telling result streams that a poll changed, the join URL,
and the Server-Sent Events response (see ``stream``)."""

from __future__ import annotations

from functools import partial

from flask import Response, current_app, url_for

from eventhub.extensions import db
from eventhub.polls import stream
from eventhub.realtime import broker
from eventhub.transactions import after_commit


def notify(poll_id: int | None, event_id: int | None = None) -> None:
    """Tell every instance that this poll's results changed (call it once the change is
    committed; inside a request, ``notify_after_commit`` does the waiting). With
    ``event_id``: the event's open polls or its room screen changed too (a poll opened
    or closed, the remote moved the screen), so every page of the event looks again."""
    if poll_id is not None:
        broker().publish(f"poll:{poll_id}", "changed")
    if event_id is not None:
        broker().publish(f"event:{event_id}", "changed")


def notify_after_commit(poll_id: int | None, event_id: int | None = None) -> None:
    """``notify`` once the request's work is stored; nothing when it is rolled back."""
    after_commit(partial(notify, poll_id, event_id))


def join_url(event) -> str:
    """The full address phones open to join the event's polls (printed, and in the QR)."""
    return current_app.config["BASE_URL"] + url_for("polls.join", code=event.join_code)


def event_sse_response(event_id: int, public: bool) -> Response:
    """The one stream of a page: every open poll of the event (see ``stream``)."""
    poll_hub = stream.hub()
    db.session.remove()
    limit = current_app.config.get("SSE_MAX_SECONDS")
    return Response(stream.page_stream(poll_hub, event_id, public, limit),
                    mimetype="text/event-stream", direct_passthrough=True,
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def sse_response(poll_id: int, public: bool) -> Response:
    """The poll's result stream: the public view for phones, everything for staff."""
    poll_hub = stream.hub()
    db.session.remove()  # a stream must not hold a database connection
    limit = current_app.config.get("SSE_MAX_SECONDS")
    # direct_passthrough: the stream yields ready bytes, so werkzeug need not re-encode
    # and wrap every message on its way out.
    return Response(stream.event_stream(poll_hub, poll_id, public, limit),
                    mimetype="text/event-stream", direct_passthrough=True,
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
