"""How the activity log words registration's actions: counts in the reader's grammar,
question moves in words."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from eventhub import audit

QUESTION_MOVES = {
    "up": _l("flyttet op"), "down": _l("flyttet ned"),
    "archive": _l("fjernet fra formularen"),
}


def _question(target: str) -> str:
    """"+" → "Nyt spørgsmål"; "#3 up" → "Spørgsmål #3 flyttet op"."""
    if target == "+":
        return _("Nyt spørgsmål")
    number, _sep, move = target.partition(" ")
    text = _("Spørgsmål %(id)s", id=number)
    return f"{text} {QUESTION_MOVES[move]}" if move else text


def _file_of(noun_one: str, noun_many: str):
    def describe(target: str) -> str:
        kind, count = target.split(", ")
        return f"{kind}, " + ngettext(noun_one, noun_many, int(count))
    return describe


def _count_of(noun_one: str, noun_many: str):
    def describe(target: str) -> str:
        return ngettext(noun_one, noun_many, int(target))
    return describe


def _bulk(target: str) -> str:
    """"cancel: 4" → "Afmeldt: 4 tilmeldinger"."""
    from eventhub.registration.bulk import ACTION_LABELS

    action, count = target.split(": ")
    return f"{ACTION_LABELS[action]}: " + ngettext(
        "%(num)d tilmelding", "%(num)d tilmeldinger", int(count))


def register(app: Flask) -> None:
    """Registration's actions in this app's activity log."""
    audit.add_action(app, "questions.edit", _l("Tilmeldingsspørgsmål ændret"), _question)
    audit.add_action(app, "registrations.export", _l("Tilmeldinger eksporteret"), _file_of(
        "%(num)d tilmelding", "%(num)d tilmeldinger"))
    audit.add_action(app, "badges.print", _l("Navneskilte hentet"), _file_of(
        "%(num)d navneskilt", "%(num)d navneskilte"))
    audit.add_action(app, "registrations.import", _l("Tilmeldinger importeret"), _count_of(
        "%(num)d tilmelding", "%(num)d tilmeldinger"))
    audit.add_action(app, "registrations.bulk", _l("Handling på flere tilmeldinger"), _bulk)
