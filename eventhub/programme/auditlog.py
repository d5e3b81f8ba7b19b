"""How the activity log words the programme's actions: what was changed, in words."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from eventhub import audit

THINGS = {"room": _l("Lokale"), "track": _l("Spor"), "session": _l("Programpunkt"),
          "speaker": _l("Oplægsholder")}
VERBS = {"add": _l("tilføjet"), "edit": _l("ændret"), "delete": _l("slettet"),
         "cancel": _l("aflyst"), "reinstate": _l("genindsat"), "duplicate": _l("kopieret")}


def _edit(target: str) -> str:
    """"room" → "Lokale tilføjet"; "session #12 cancel" → "Programpunkt #12 aflyst"."""
    words = target.split()
    thing, rest = THINGS[words[0]], words[1:]
    number = rest.pop(0) if rest and rest[0].startswith("#") else ""
    verb = VERBS[rest[0]] if rest else (VERBS["add"] if not number else "")
    return " ".join(str(w) for w in (thing, number, verb) if w)


def _imported(target: str) -> str:
    return ngettext("%(num)d programpunkt", "%(num)d programpunkter", int(target))


def register(app: Flask) -> None:
    """The programme's actions in this app's activity log."""
    audit.add_action(app, "programme.edit", _l("Program ændret"), _edit)
    audit.add_action(app, "programme.import", _l("Program importeret"), _imported)
