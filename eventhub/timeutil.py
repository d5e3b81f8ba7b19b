"""Europe/Copenhagen on the outside, UTC inside."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Europe/Copenhagen")


def to_local(value: datetime | None) -> datetime | None:
    """A UTC datetime as Copenhagen wall-clock time."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ)


def from_local(value: datetime | None) -> datetime | None:
    """A naive Copenhagen wall-clock time (as typed in a form) as aware UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(UTC)
