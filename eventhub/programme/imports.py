"""Import sessions from CSV with a dry run: every bad line named, nothing half-saved."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _

from eventhub import audit
from eventhub.errors import ValidationError
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.programme import services
from eventhub.programme.models import KIND_LABELS, SESSION_KINDS
from eventhub.timeutil import from_local, in_range, range_message
from eventhub.uploads import CsvError, csv_rows

MAX_BYTES = 1024 * 1024  # an uploaded file; pasted text is capped by the form
# title;start;end;room;track;kind;speakers;description  (speakers: "Name (Org), Name")
HEADERS = {
    "title": {"title", "titel"}, "start": {"start", "starts_at", "fra"},
    "end": {"end", "slut", "ends_at", "til"}, "room": {"room", "lokale"},
    "track": {"track", "spor"}, "kind": {"kind", "type"},
    "speakers": {"speakers", "oplægsholdere", "talere"},
    "description": {"description", "beskrivelse"},
    "signup_capacity": {"signup_capacity", "pladser"},
}
TIME_FORMATS = ("%Y-%m-%d %H:%M", "%d-%m-%Y %H:%M", "%Y-%m-%dT%H:%M", "%d.%m.%Y %H:%M")


@dataclass
class SessionImport:
    good: list[tuple[int, services.SessionData]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    header_problem: str | None = None


def _time(value: str) -> datetime:
    for fmt in TIME_FORMATS:
        try:
            typed = datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
        if not in_range(typed):
            raise ValidationError(_("ugyldigt tidspunkt \"%(value)s\": %(reason)s",
                                    value=value[:40], reason=range_message()))
        return from_local(typed)
    raise ValidationError(_("ugyldigt tidspunkt \"%(value)s\" (skriv fx 2026-12-10 09:30)",
                            value=value[:40]))


def _kind(value: str) -> str:
    value = value.strip().lower()
    if not value:
        return "talk"
    if value in SESSION_KINDS:
        return value
    for kind, label in KIND_LABELS.items():
        if str(label).lower() == value:
            return kind
    raise ValidationError(_("ukendt type \"%(value)s\"", value=value[:40]))


def parse(actor, event: Event, text: str) -> SessionImport:
    """Check every row; nothing is saved.

    A file the CSV reader refuses (a field longer than the import takes) is refused as a
    whole, as ``header_problem``.
    """
    report = SessionImport()
    text = text.lstrip("\ufeff")
    if not text.strip():
        report.header_problem = _("Filen er tom.")
        return report
    try:
        _check_rows(event, csv_rows(text), report)
    except CsvError as exc:
        report.good, report.problems, report.warnings = [], [], []
        report.header_problem = exc.message
    return report


def _check_rows(event: Event, rows, report: SessionImport) -> None:
    _row_no, first = next(rows, (1, []))
    header = [h.strip().lower() for h in first]
    index = {key: header.index(name) for key, names in HEADERS.items()
             for name in names if name in header}
    if not {"title", "start", "end"} <= set(index):
        report.header_problem = _("Første linje skal have kolonnerne titel, start og slut "
                                  "(og gerne lokale, spor, type, oplægsholdere).")
        return
    rooms = {r.name.lower(): r for r in services.rooms(event)}
    tracks = {t.name.lower(): t for t in services.tracks(event)}
    for line_no, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        values = {k: (row[i].strip() if i < len(row) else "") for k, i in index.items()}
        try:
            data = _row(values, rooms, tracks)
            problems = services.validate_session(event, data)
            if problems:
                raise problems[0]
        except ValidationError as exc:
            report.problems.append((line_no, exc.message))
            continue
        for warning in services.session_warnings(event, data, None):
            report.warnings.append((line_no, warning))
        report.good.append((line_no, data))


def _row(values: dict[str, str], rooms, tracks) -> services.SessionData:
    room = values.get("room", "")
    if room and room.lower() not in rooms:
        raise ValidationError(_("ukendt lokale \"%(room)s\"", room=room[:60]))
    track = values.get("track", "")
    if track and track.lower() not in tracks:
        raise ValidationError(_("ukendt spor \"%(track)s\"", track=track[:60]))
    capacity = values.get("signup_capacity", "")
    if capacity and not capacity.isdigit():
        raise ValidationError(_("pladser skal være et helt tal"))
    speakers = []
    for part in filter(None, (p.strip() for p in values.get("speakers", "").split(","))):
        name, _sep, org = part.partition("(")
        speakers.append(services.SpeakerData(name.strip(), org.rstrip(")").strip()))
    return services.SessionData(
        title=values["title"], kind=_kind(values.get("kind", "")),
        starts_at=_time(values["start"]), ends_at=_time(values["end"]),
        room_id=rooms[room.lower()].id if room else None,
        track_id=tracks[track.lower()].id if track else None,
        description=values.get("description", ""),
        signup_capacity=int(capacity) if capacity else None, speakers=speakers,
    )


def run_import(actor, event: Event, text: str) -> int:
    """Save every good row in one transaction (warnings were shown in the dry run)."""
    report = parse(actor, event, text)
    if report.header_problem:
        raise ValidationError(report.header_problem)
    for _line, data in report.good:
        services.save_session(actor, event, data, confirmed=True)
    db.session.flush()
    audit.record(actor, event, "programme.import", f"{len(report.good)}")
    return len(report.good)
