"""Import participants from CSV: a dry run that names every bad line, then all good
rows in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from eventhub import audit
from eventhub.accounts.services import check_email
from eventhub.db import lock_row
from eventhub.errors import ValidationError
from eventhub.events.models import (
    COMPANY,
    KNOWLEDGE,
    MUNICIPALITY,
    ORGANIZER,
    OTHER,
    REGION,
    Event,
)
from eventhub.events.services import require_role
from eventhub.extensions import db
from eventhub.registration import questions as q
from eventhub.registration.models import CANCELLED, Question, Registration
from eventhub.registration.services import RegistrationData, register
from eventhub.uploads import CsvError, csv_rows

MAX_ROWS = 5000
MAX_BYTES = 2 * 1024 * 1024
COLUMNS = {
    "name": {"name", "navn", "fulde navn", "full name"},
    "email": {"email", "e-mail", "mail", "e-mailadresse", "email address"},
    "organization": {"organization", "organisation", "organisation/kommune", "kommune",
                     "arbejdsplads", "organisation name"},
    "organization_kind": {"organization_kind", "organization kind", "organisationstype",
                          "type", "kind"},
    "job_title": {"job_title", "job title", "stilling", "titel", "title"},
}
KINDS = {
    MUNICIPALITY: {"municipality", "kommune"},
    REGION: {"region"},
    COMPANY: {"company", "virksomhed", "firma"},
    KNOWLEDGE: {"knowledge", "videninstitution", "knowledge institution", "universitet"},
    OTHER: {"other", "andet", "anden"},
}


@dataclass
class ImportReport:
    good: list[tuple[int, RegistrationData]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    header_problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.header_problem is None


def _kind(value: str) -> str | None:
    value = value.strip().lower()
    if not value:
        return None
    for kind, names in KINDS.items():
        if value in names:
            return kind
    raise ValidationError(_("ukendt organisationstype \"%(kind)s\"", kind=value))


def _column_index(header: list[str]) -> dict[str, int]:
    """Where each known column is: the first header cell that names it."""
    index: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for i, h in enumerate(header):
            if h in names:
                index[key] = i
                break
    return index


@dataclass
class _RowChecker:
    """Checks data rows one by one, remembering the addresses already seen."""

    active: list[Question]
    index: dict[str, int]
    question_cols: dict[int, Question]
    registered: set[str]
    labels: dict[str, str]
    seen: dict[str, int] = field(default_factory=dict)

    def check(self, line_no: int, row: list[str], report: ImportReport) -> None:
        """File the row under ``report.good`` or, with its reason, ``report.problems``."""
        values = {key: (row[i].strip() if i < len(row) else "") for key, i in self.index.items()}

        def cell(key: str) -> str:
            return values.get(key, "")

        reason = _row_problem(cell, self.registered, self.seen, line_no)
        if reason:
            report.problems.append((line_no, reason))
            return
        email = check_email(cell("email"))
        self.seen[email] = line_no
        answers = {qn.id: (row[i] if i < len(row) else "")
                   for i, qn in self.question_cols.items()}
        _cleaned, answer_problems = q.clean_answers(self.active, answers)
        if answer_problems:
            label = self.labels.get(answer_problems[0].field, "")
            report.problems.append((line_no, f"{label}: {answer_problems[0].message}"))
            return
        report.good.append((line_no, RegistrationData(
            name=cell("name"), email=email, organization=cell("organization") or _("Ukendt"),
            organization_kind=_kind(cell("organization_kind")), job_title=cell("job_title"),
            answers=answers,
        )))


def _row_checker(event: Event, header: list[str], index: dict[str, int]) -> _RowChecker:
    active = q.active_questions(event)
    questions = {qn.label.strip().lower(): qn for qn in active}
    registered = set(db.session.scalars(select(Registration.email).where(
        Registration.event_id == event.id, Registration.status != CANCELLED)))
    return _RowChecker(
        active=active, index=index, registered=registered,
        question_cols={i: questions[h] for i, h in enumerate(header) if h in questions},
        labels={q.field_name(qn): qn.label for qn in active})


def parse(event: Event, text: str) -> ImportReport:
    """Check every row without saving anything.

    A file the CSV reader refuses (a field longer than the import takes) is refused as a
    whole, as ``header_problem``: nothing of it can be imported.
    """
    report = ImportReport()
    text = text.lstrip("\ufeff")
    if not text.strip():
        report.header_problem = _("Filen er tom.")
        return report
    try:
        _check_rows(event, csv_rows(text), report)
    except CsvError as exc:
        report.good, report.problems, report.header_problem = [], [], exc.message
    return report


def _check_rows(event: Event, rows, report: ImportReport) -> None:
    _row_no, first = next(rows, (1, []))
    header = [h.strip().lower() for h in first]
    index = _column_index(header)
    if "email" not in index or "name" not in index:
        report.header_problem = _(
            "Første linje skal have kolonnerne navn og e-mail (fx: navn;e-mail;organisation;"
            "organisationstype;stilling).")
        return
    checker = _row_checker(event, header, index)
    for line_no, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if line_no > MAX_ROWS + 1:
            report.problems.append((line_no, _("for mange rækker (højst %(n)d)", n=MAX_ROWS)))
            break
        checker.check(line_no, row, report)


def _row_problem(cell, registered: set[str], seen: dict[str, int], line_no: int) -> str | None:
    if not cell("email"):
        return _("mangler e-mail")
    try:
        email = check_email(cell("email"))
    except ValidationError:
        return _("ugyldig e-mail \"%(email)s\"", email=cell("email")[:100])
    if not cell("name"):
        return _("mangler navn")
    if email in registered:
        return _("%(email)s er allerede tilmeldt", email=email)
    if email in seen:
        return _("%(email)s står også på linje %(line)d", email=email, line=seen[email])
    try:
        _kind(cell("organization_kind"))
    except ValidationError as exc:
        return exc.message
    if len(cell("name")) > 200 or len(cell("organization")) > 200:
        return _("navn eller organisation er for langt (højst 200 tegn)")
    return None


def run_import(actor, event: Event, text: str, *, notify: bool = True) -> tuple[int, list]:
    """Import every good row in one transaction (the caller commits once).

    A row that still fails (e.g. an answer to a required question missing) is reported
    with its line number, and nothing at all is imported.
    """
    require_role(actor, event, ORGANIZER)
    report = parse(event, text)
    if not report.ok:
        raise ValidationError(report.header_problem)
    # Held for the whole import (each row would take it anyway). On SQLite this write also
    # opens the transaction: a SAVEPOINT opened outside one is released as a commit.
    lock_row(db.session, Event, event.id)
    failed: list[tuple[int, str]] = []
    for line_no, data in report.good:
        try:
            with db.session.begin_nested():
                register(event, data, source="import", actor=actor, notify=notify)
        except ValidationError as exc:
            problems = getattr(exc, "problems", [exc])
            failed.append((line_no, "; ".join(p.message for p in problems)))
    if failed:
        raise ImportFailed(failed)
    audit.record(actor, event, "registrations.import", f"{len(report.good)}")
    return len(report.good), report.problems


class ImportFailed(ValidationError):
    def __init__(self, failed: list[tuple[int, str]]) -> None:
        super().__init__(ngettext("Importen blev ikke gennemført: %(num)d linje har fejl.",
                                  "Importen blev ikke gennemført: %(num)d linjer har fejl.",
                                  len(failed)))
        self.failed = failed
