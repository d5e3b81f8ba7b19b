"""Where someone lands after signing in by a link on mail, when the link names no page:
a domain above may claim the person (registration: a participant's own home); everyone
else, the staff among them, gets their account page."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, url_for

from eventhub import contributions

LANDINGS = "accounts.landings"


def add_landing(app: Flask, fn: Callable[[object], str | None]) -> None:
    """``fn(user)``: the URL this user should land on, or None to leave it to others."""
    contributions.add(app, LANDINGS, fn)


def landing_url(user) -> str:
    """The first page a domain claims for this user, else the account page."""
    for fn in contributions.of(LANDINGS):
        url = fn(user)
        if url:
            return url
    return url_for("accounts.account")
