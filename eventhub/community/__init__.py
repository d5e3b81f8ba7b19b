"""The organizing organization's workspace across its events (/community/), adoption
check-ins months after an event, reuse figures and open data."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Workspace and check-in pages, the check-in job and mail, privacy parts, panels."""
    from eventhub.community import wiring

    wiring.register(app)
