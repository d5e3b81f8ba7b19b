"""How the activity log words the follow-up's actions: stages, segments and kinds of
organization by their labels, counts in the reader's grammar."""

from __future__ import annotations

import re

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from eventhub import audit
from eventhub.followup.mailing import INTERESTED, ORG_KIND, ORG_KIND_LABELS, SEGMENTS
from eventhub.followup.models import STAGES

MOVE_RE = re.compile(r"^lead #(\d+): (\w*) → (\w+)$")
MAIL_RE = re.compile(r"^(\w+) ?(\S*): (\d+)$")


def _move(target: str) -> str:
    """"lead #3: meeting → adopted_adaptation" → "Lead #3: Møde → Genbrugt (tilpasning)"."""
    lead, before, after = MOVE_RE.match(target).groups()
    return _("Lead #%(id)s: %(before)s → %(after)s", id=lead,
             before=STAGES[before] if before else "–", after=STAGES[after])


def _mail(target: str) -> str:
    """"org_kind municipality: 4" → "Alle deltagere fra en type organisation (Kommune):
    4 modtagere"."""
    segment, value, count = MAIL_RE.match(target).groups()
    segment_text = str(SEGMENTS[segment])
    if segment == ORG_KIND and value:
        segment_text += f" ({ORG_KIND_LABELS[value]})"
    elif segment == INTERESTED and value:
        segment_text += " " + _("(løsning #%(id)s)", id=value)
    return segment_text + ": " + ngettext("%(num)d modtager", "%(num)d modtagere", int(count))


def _imported(target: str) -> str:
    count = int(target.split()[0])
    return ngettext("%(num)d nyt lead", "%(num)d nye leads", count)


def _survey(target: str) -> str:
    return ngettext("%(num)d afstemning åbnet", "%(num)d afstemninger åbnet", int(target))


def _lead(target: str) -> str:
    return _("Lead #%(id)s", id=target.removeprefix("lead #"))


def _export(target: str) -> str:
    kind, count = target.split(", ")
    return f"{kind}, " + ngettext("%(num)d lead", "%(num)d leads", int(count))


def register(app: Flask) -> None:
    """The follow-up's actions in this app's activity log."""
    for action, label, describe in (
        ("followup.lead", _l("Lead oprettet"), _lead),
        ("followup.move", _l("Lead flyttet"), _move),
        ("followup.import", _l("Leads hentet fra interesser"), _imported),
        ("followup.export", _l("Leads eksporteret"), _export),
        ("followup.introduce", _l("Introduktion sendt"), None),
        ("followup.mail", _l("Opfølgningsmail sendt"), _mail),
        ("followup.survey", _l("Evaluering åbnet"), _survey),
        ("followup.report", _l("Rapport hentet"), None),
    ):
        audit.add_action(app, action, label, describe)
