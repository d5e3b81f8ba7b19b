"""What the community domain adds to the app (called from init_app)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    pass
