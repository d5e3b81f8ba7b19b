"""Mail under test: deliver the outbox to the mail folder and read the messages back."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from eventhub.mail import deliver_due


def delivered_mails(app, mail_dir: Path) -> list[EmailMessage]:
    """Deliver the outbox, then parse every .eml in the folder (oldest first)."""
    with app.app_context():
        deliver_due()
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(p.read_bytes()) for p in sorted(mail_dir.glob("*.eml"))]


def body_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message: EmailMessage, pattern: str = r"http://localhost(/login/link/\S+)") -> str:
    """The path of the first link matching ``pattern`` in a mail's text."""
    body = body_of(message)
    match = re.search(pattern, body)
    assert match, body
    return match.group(1)
