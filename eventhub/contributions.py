"""What domains add to one app in their ``init_app``: panels on other domains' pages,
privacy sections and forgetters, … Kept on the app (``app.extensions``), so two apps
in one process (the tests make many) never share or double them, and nothing is added
by importing a module.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

_KEY = "eventhub.contributions"


def add(app: Flask, kind: str, item: Any) -> None:
    """Add ``item`` to the app's contributions of ``kind``."""
    app.extensions.setdefault(_KEY, {}).setdefault(kind, []).append(item)


def of(kind: str, app: Flask | None = None) -> list[Any]:
    """The contributions of ``kind`` to ``app`` (the current one by default)."""
    app = app or current_app
    return list(app.extensions.get(_KEY, {}).get(kind, ()))
