"""Badge scanning by the people of a solution: exhibitors the organizer names, and the
presenters of the solution in the programme. A scan of a consenting participant's
badge becomes a follow-up lead for the solution; anyone else is refused and nothing is
stored. The badge's scan code is its own per-person token, never the ticket code."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from eventhub.accounts.services import check_email, get_or_create_user
from eventhub.directory.models import APPROVED, Presentation, Solution
from eventhub.errors import Conflict, Forbidden, NotFound, ValidationError
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.followup import services as followup
from eventhub.followup.models import FROM_SCAN, NEW, Lead, LeadEntry
from eventhub.mail import queue_built_mail
from eventhub.meetings.models import Exhibitor, Scan
from eventhub.meetings.services import require_organizer
from eventhub.programme.models import Session, Speaker
from eventhub.registration.models import CANCELLED, Registration, normal_scan_code

MAX_NOTES = 2000
MAX_TAGS = 10
MAX_TAG = 40


def scan_url(reg: Registration) -> str:
    """What a badge's scan QR encodes: /s/<scan token>."""
    return current_app.config["BASE_URL"].rstrip("/") + "/s/" + (reg.scan_token or "")


# --- who may scan -------------------------------------------------------------------------

def scanner_solutions(user, event: Event) -> list[Solution]:
    """The solutions ``user`` may scan badges for at ``event``."""
    if not getattr(user, "is_authenticated", False):
        return []
    ids = set(db.session.scalars(select(Exhibitor.solution_id).where(
        Exhibitor.event_id == event.id, Exhibitor.user_id == user.id)))
    ids |= set(db.session.scalars(
        select(Presentation.solution_id)
        .join(Session, Session.id == Presentation.session_id)
        .join(Presentation.presenters)
        .join(Registration, Registration.id == Speaker.registration_id)
        .where(Session.event_id == event.id, Registration.user_id == user.id,
               Registration.status != CANCELLED)))
    if not ids:
        return []
    return list(db.session.scalars(select(Solution).where(
        Solution.id.in_(ids), Solution.status == APPROVED).order_by(Solution.name)))


def _require_scanner(user, event: Event, solution_id: int | None) -> Solution:
    solutions = scanner_solutions(user, event)
    if not solutions:
        raise Forbidden(_("Kun udstillere og oplægsholdere med en løsning kan scanne "
                          "badges ved dette arrangement."))
    for sol in solutions:
        if solution_id is None and len(solutions) == 1 or sol.id == solution_id:
            return sol
    raise ValidationError(_("Vælg den løsning, du scanner for."), "solution")


def exhibitors_of(event: Event) -> list[Exhibitor]:
    return list(db.session.scalars(select(Exhibitor).where(Exhibitor.event_id == event.id)
                                   .order_by(Exhibitor.id)))


def add_exhibitor(actor, event: Event, email: str, name: str, solution_id: int | None
                  ) -> Exhibitor:
    """The organizer names an exhibitor for a solution: they sign in by mail and scan."""
    require_organizer(actor, event)
    email = check_email(email)
    solution = db.session.get(Solution, solution_id) if solution_id else None
    if solution is None or solution.status != APPROVED:
        raise ValidationError(_("Vælg en løsning fra kataloget."), "solution")
    user = get_or_create_user(email, (name or "").strip()[:200])
    if name and not user.name:
        user.name = name.strip()[:200]
    row = Exhibitor(event_id=event.id, user_id=user.id, solution_id=solution.id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("Personen er allerede udstiller for den løsning."), "email") from None
    return row


def remove_exhibitor(actor, event: Event, exhibitor_id: int) -> None:
    require_organizer(actor, event)
    db.session.execute(delete(Exhibitor).where(Exhibitor.id == exhibitor_id,
                                               Exhibitor.event_id == event.id))


# --- scanning -----------------------------------------------------------------------------

def _token_of(typed: str) -> str:
    typed = (typed or "").strip()
    if "/t/" in typed:
        raise ValidationError(_("Det er en billet, ikke et badge. Scan QR-koden på "
                                "navneskiltet."), "code")
    return typed.rsplit("/s/", 1)[-1].strip("/ ")


def _person(event: Event, typed: str) -> Registration:
    code = normal_scan_code(typed)
    if code is not None:  # the short code printed under the badge's QR
        reg = db.session.scalar(select(Registration).where(
            Registration.event_id == event.id, Registration.scan_code == code))
        if reg is None:
            raise NotFound(_("Koden kendes ikke. Tjek de otte tegn under QR-koden på "
                             "navneskiltet."), "code")
        return _scannable(event, reg)
    token = _token_of(typed)
    reg = db.session.scalar(select(Registration).where(Registration.scan_token == token)) \
        if token else None
    if reg is None:
        ticket = db.session.scalar(select(Registration.id).where(
            Registration.ticket_code == token)) if token else None
        if ticket is not None:
            raise ValidationError(_("Det er en billet, ikke et badge. Scan QR-koden på "
                                    "navneskiltet."), "code")
        raise NotFound(_("Koden kendes ikke. Prøv at scanne QR-koden på navneskiltet "
                         "igen."), "code")
    return _scannable(event, reg)


def _scannable(event: Event, reg: Registration) -> Registration:
    if reg.event_id != event.id or reg.status == CANCELLED:
        raise NotFound(_("Badget hører ikke til dette arrangement."), "code")
    if reg.scan_consent_at is None:
        raise Forbidden(_("%(name)s har ikke givet samtykke til at blive scannet. Intet er "
                          "gemt.", name=reg.name), "code")
    return reg


def scan(user, event: Event, typed: str, solution_id: int | None = None) -> Scan:
    """Scan a badge for a solution: a scan row and a follow-up lead (or a line in the
    lead that exists for this person and solution); the person gets a mail."""
    solution = _require_scanner(user, event, solution_id)
    reg = _person(event, typed)
    existing = db.session.scalar(select(Scan).where(
        Scan.event_id == event.id, Scan.registration_id == reg.id,
        Scan.solution_id == solution.id))
    if existing is not None:
        return existing
    lead = _lead_for(event, reg, solution, user)
    row = Scan(event_id=event.id, registration_id=reg.id, solution_id=solution.id,
               scanned_by_id=user.id, lead_id=lead.id, tags=[])
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:  # the same badge scanned twice at once: the first one stands
        found = db.session.scalar(select(Scan).where(
            Scan.event_id == event.id, Scan.registration_id == reg.id,
            Scan.solution_id == solution.id))
        if found is None:
            raise Conflict(_("Prøv igen.")) from None
        return found
    queue_built_mail(reg.email, "badge-scanned", kind="scan", event_id=event.id,
                     scan_id=row.id)
    return row


def _lead_for(event: Event, reg: Registration, solution: Solution, user) -> Lead:
    text = _("Badge scannet for %(solution)s af %(who)s.", solution=solution.name,
             who=user.display_name)
    return followup.lead_for_participant(event, reg, solution.id, source=FROM_SCAN,
                                         stage=NEW, text=text, author_id=user.id)


@dataclass
class ScanNotes:
    rating: int | None = None
    notes: str = ""
    tags: list[str] = field(default_factory=list)


def get_scan(user, event: Event, scan_id: int) -> Scan:
    row = db.session.get(Scan, scan_id)
    if row is None or row.event_id != event.id or row.solution_id not in {
            s.id for s in scanner_solutions(user, event)}:
        raise NotFound(_("Scanningen findes ikke."))
    return row


def parse_tags(text: str) -> list[str]:
    tags = [t.strip() for t in (text or "").split(",") if t.strip()]
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in tags):
        raise ValidationError(_("Højst %(n)d mærker på højst %(m)d tegn.", n=MAX_TAGS,
                                m=MAX_TAG), "tags")
    return list(dict.fromkeys(tags))


def save_notes(user, event: Event, row: Scan, data: ScanNotes) -> None:
    """The scanner's rating 0–5, notes and tags; the notes join the lead's history."""
    get_scan(user, event, row.id)
    if data.rating is not None and not 0 <= data.rating <= 5:
        raise ValidationError(_("Vælg en vurdering fra 0 til 5."), "rating")
    notes = (data.notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise ValidationError(_("Højst %(max)d tegn.", max=MAX_NOTES), "notes")
    changed_notes = notes and notes != row.notes
    row.rating, row.notes, row.tags = data.rating, notes, list(data.tags)
    if changed_notes and row.lead is not None:
        row.lead.entries.append(LeadEntry(author_id=user.id, text=notes))
    db.session.flush()


def scans_by(user, event: Event) -> list[Scan]:
    ids = [s.id for s in scanner_solutions(user, event)]
    return list(db.session.scalars(select(Scan).where(
        Scan.event_id == event.id, Scan.solution_id.in_(ids)).order_by(Scan.id.desc())))


def by_withdraw_token(token: str) -> Scan:
    row = db.session.scalar(select(Scan).where(Scan.withdraw_token == token)) \
        if token else None
    if row is None:
        raise NotFound(_("Scanningen findes ikke længere. Den kan allerede være trukket "
                         "tilbage."))
    return row


def withdraw(row: Scan) -> None:
    """The scanned person takes it back: the scan goes, a lead it alone made goes, and
    their badge can no longer be scanned."""
    reg = row.registration
    lead = row.lead
    db.session.delete(row)
    db.session.flush()
    if lead is not None and lead.source == FROM_SCAN and lead.stage == NEW:
        db.session.delete(lead)
    if reg is not None:
        reg.scan_consent_at = None
    db.session.flush()
