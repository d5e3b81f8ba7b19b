"""The POST of a page that writes to many people (the follow-up mail, a message to
registrants): preview, or send and go back with a count; a problem the mailer finds goes
beside its field and the form keeps what was typed."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, request
from flask_login import current_user

from eventhub.followup import mailing
from eventhub.transactions import attempt


def send_or_preview(event, form, data: mailing.MailData, sent_text: Callable[[int], str],
                    back: str):
    """Returns (a redirect after sending or None, the preview or None, the status)."""
    preview = None
    with attempt() as failed:
        if request.form.get("action") == "send":
            sent = mailing.send(current_user, event, data)
            flash(sent_text(sent.recipients), "success")
            return redirect(back), None, 200
        preview = mailing.preview(current_user, event, data)
    if failed:
        target = form[failed.error.field] if failed.error.field in form else form.segment
        target.errors = list(target.errors) + [failed.message]
        return None, None, 422
    return None, preview, 200
