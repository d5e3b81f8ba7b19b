"""Europe/Copenhagen on the outside, UTC inside; the years a typed date may name.

Every date a person types (a form field, a column of an import) must lie in the years
``FIRST_YEAR`` … ``LAST_YEAR``. Outside them a date is a typing mistake, and near the ends
of Python's calendar (year 1, year 9999) the conversion to UTC, or a day added to a
reminder, would overflow. The forms and imports check with ``in_range`` and say
``range_message()``; ``from_local`` refuses what they let through by mistake.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from eventhub.errors import ValidationError

LOCAL_TZ = ZoneInfo("Europe/Copenhagen")
FIRST_YEAR = 2000
LAST_YEAR = 2100


def in_range(value: date | datetime) -> bool:
    """Whether a typed date (or wall-clock time) lies in FIRST_YEAR … LAST_YEAR."""
    return FIRST_YEAR <= value.year <= LAST_YEAR


def range_message() -> str:
    """What to tell a person whose date lies outside FIRST_YEAR … LAST_YEAR."""
    return _("Datoen skal ligge mellem år %(first)d og %(last)d.", first=FIRST_YEAR,
             last=LAST_YEAR)


def to_local(value: datetime | None) -> datetime | None:
    """A UTC datetime as Copenhagen wall-clock time."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ)


def from_local(value: datetime | None) -> datetime | None:
    """A naive Copenhagen wall-clock time (as typed in a form) as aware UTC.

    A time in the spring-forward gap (02:30 on the last Sunday of March) is read with the
    winter offset, one in the autumn's repeated hour as its first occurrence (``fold=0``).
    A year outside FIRST_YEAR … LAST_YEAR is a ValidationError, never an OverflowError.
    """
    if value is None:
        return None
    if not in_range(value):
        raise ValidationError(range_message())
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(UTC)
