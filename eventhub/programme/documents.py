"""The printable programme (WeasyPrint)."""

from __future__ import annotations

from itertools import groupby

from flask import render_template

from eventhub.documents import render_pdf
from eventhub.events.models import Event
from eventhub.programme import services
from eventhub.programme.models import KIND_LABELS
from eventhub.timeutil import to_local


def programme_pdf(event: Event) -> bytes:
    """The whole programme by day, cancelled sessions marked, A4 portrait."""
    sessions = services.list_sessions(event)
    days = [(day, list(items)) for day, items in groupby(
        sessions, key=lambda s: to_local(s.starts_at).date())]
    html = render_template("pdf/programme.html", event=event, days=days,
                           kind_labels=KIND_LABELS)
    return render_pdf(html)
