"""The quick vote's wiring for ``fetch`` votes (poll.js): this process's batch writer,
the same-site check and the ready-made answer. The writing itself is ``ballots``."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Response, current_app, request
from flask_babel import gettext as _

from eventhub.extensions import db
from eventhub.i18n import select_locale
from eventhub.polls import ballots


def group_commit() -> ballots.GroupCommit:
    """This process's batch writer for quick votes (made on first use)."""
    app = current_app._get_current_object()
    writer = app.extensions.get("eventhub_ballots")
    if writer is None:
        publish = app.extensions["eventhub_broker"].publish
        writer = app.extensions.setdefault("eventhub_ballots", ballots.GroupCommit(
            db.engine, lambda poll_id: publish(f"poll:{poll_id}", "changed")))
    return writer


def cast(code: str, poll_id: int, voter_id: str, raw: list[str]) -> bool:
    """Store an anonymous choice ballot the quick way; True once it is committed, False
    when the ordinary vote must judge it (see ``ballots``)."""
    choices = ballots.parse_choices(raw)
    return bool(choices) and group_commit().cast(ballots.Ballot(
        code.upper(), poll_id, f"a:{voter_id}", choices))


def same_origin() -> bool:
    """The request comes from a page of this site (``Origin``, else ``Referer``)."""
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    host = urlsplit(source).netloc
    return bool(host) and host in (request.host,
                                   urlsplit(current_app.config["BASE_URL"]).netloc)


_THANKS: dict[str, bytes] = {}


def thanks() -> Response:
    """The answer to a stored quick vote, in the visitor's language (built once per
    language: at hundreds of votes a second, translating and serializing it each time
    was a noticeable part of the vote's cost)."""
    locale = str(select_locale())  # not Flask-Babel's get_locale: it costs far more here
    body = _THANKS.get(locale)
    if body is None:
        body = _THANKS[locale] = json.dumps(
            {"ok": True, "message": _("Tak for din stemme!")}, ensure_ascii=False).encode()
    return Response(body, mimetype="application/json")
