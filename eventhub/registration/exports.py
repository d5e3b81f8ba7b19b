"""Registration lists as CSV and XLSX, one column per question."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from eventhub.events.models import ORGANIZATION_KIND_LABELS, Event
from eventhub.registration import questions as q
from eventhub.registration.models import BADGE_LABELS, STATUS_LABELS, Registration
from eventhub.timeutil import to_local


def _when(value) -> str:
    local = to_local(value)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


def export_rows(event: Event, registrations: list[Registration]) -> list[list[str]]:
    """A header row and one row per registration; archived questions keep their column."""
    questions = q.all_questions(event)
    removed = _("fjernet")
    header = [
        _("Navn"), _("E-mail"), _("Organisation"), _("Organisationstype"), _("Stilling"),
        _("Status"), _("Rolle"), _("Tilmeldt"), _("Checket ind"), _("Netværksoversigt"),
        _("Billetkode"),
    ] + [question.label + (" (" + removed + ")" if question.archived_at else "")
         for question in questions]
    rows = [header]
    for reg in registrations:
        answers = {a.question_id: a.as_text() for a in reg.answers}
        rows.append([
            reg.name, reg.email, reg.organization.name if reg.organization else "",
            str(ORGANIZATION_KIND_LABELS.get(reg.organization.kind, ""))
            if reg.organization else "", reg.job_title,
            str(STATUS_LABELS[reg.status]), str(BADGE_LABELS.get(reg.badge_role, "")),
            _when(reg.created_at), _when(reg.checked_in_at),
            _("Ja") if reg.directory_consent else _("Nej"), reg.ticket_code,
        ] + [_safe(answers.get(question.id, "")) for question in questions])
    return rows


def _safe(value: str) -> str:
    """Neutralise spreadsheet formulas in free text (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(rows: list[list[str]]) -> bytes:
    """UTF-8 with BOM and semicolons, which Danish Excel opens correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows([[_safe(str(cell)) for cell in row] for row in rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list[str]], title: str) -> bytes:
    """An Excel workbook with a bold, frozen header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = (title or "Tilmeldinger")[:31].translate({ord(c): " " for c in "[]:*?/\\"})
    for row in rows:
        sheet.append([_safe(str(cell)) for cell in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 50)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
