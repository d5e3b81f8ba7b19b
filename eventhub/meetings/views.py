"""Participants' meeting pages (my meetings, the slot picker, one meeting opened from
the app or a mail link) and the badge scanner with its withdraw link."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from eventhub.directory import services as directory
from eventhub.directory.models import RUNNING, Experience, Solution
from eventhub.errors import Forbidden, NotFound, ValidationError
from eventhub.events import services as events
from eventhub.extensions import db, limiter
from eventhub.forms import ActionForm
from eventhub.meetings import scans, services, staff
from eventhub.meetings.models import ACCEPTED, REQUESTED, STATUS_LABELS
from eventhub.registration.models import Registration
from eventhub.registration.participants import current_registration
from eventhub.transactions import attempt, take_turns

bp = Blueprint("meetings", __name__, url_prefix="/e/<slug>")
public_bp = Blueprint("meetings_public", __name__)


def _limit() -> str:
    return current_app.config.get("RATELIMIT_MEETINGS", "30 per hour;100 per day")


def _check_csrf() -> None:
    if not ActionForm().validate_on_submit():
        raise ValidationError(_("Formularen er udløbet. Genindlæs siden, og prøv igen."))


# --- panels on other domains' pages ------------------------------------------------------

def person_panel(who: Registration, reg: Registration | None) -> dict | None:
    """"Book et møde" on a person's directory page."""
    if reg is None or reg.id == who.id or not services.is_open(who.event):
        return None
    return {"event": who.event, "who": who}


def solution_panel(subject, reg: Registration | None) -> dict | None:
    """"Book et møde med Vejle Kommune, som bruger den" on a solution's page."""
    event, sol = subject
    if reg is None or event is None or not services.is_open(event):
        return None
    orgs = set(db.session.scalars(select(Experience.organization_id).where(
        Experience.solution_id == sol.id, Experience.status.in_(RUNNING))))
    if sol.provider_id:
        orgs.add(sol.provider_id)
    people = [p for p in db.session.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.organization_id.in_(orgs),
        Registration.id != reg.id).order_by(Registration.name).limit(20))
        if directory.is_listed(p, event)] if orgs else []
    if not people:
        return None
    return {"event": event, "solution": sol, "people": people}


def event_panel(event, user) -> dict | None:
    reg = current_registration(event)
    if not services.is_open(event) and not scans.scanner_solutions(user, event):
        return None
    return {"reg": reg, "open": services.is_open(event),
            "scanner": bool(scans.scanner_solutions(user, event))}


def participant_links(reg: Registration, user) -> dict | None:
    return {} if services.is_open(reg.event) else None


# --- my meetings ----------------------------------------------------------------------------

class SignInFirst(Exception):
    """A visitor without a registration at the event: the sign-in page comes first."""


@bp.errorhandler(SignInFirst)
def _sign_in_first(_exc: SignInFirst):
    flash(_("Åbn dit personlige link fra tilmeldingsmailen, eller log ind med den e-mail, "
            "du tilmeldte dig med – så kan du booke møder."), "info")
    target = request.path if request.method == "GET" else url_for(
        ".index", slug=request.view_args.get("slug"))
    return redirect(url_for("accounts.login", next=target))


def _reg(event) -> Registration:
    reg = current_registration(event)
    if reg is None:
        raise SignInFirst()
    return reg


@bp.get("/meetings")
def index(slug: str):
    event = events.get_event(slug, current_user)
    reg = current_registration(event)
    if reg is None:
        return render_template("meetings/anonymous.html", event=event)
    meetings = services.meetings_of(reg)
    slots = services.slots_of(event)
    return render_template(
        "meetings/index.html", event=event, reg=reg, open=services.is_open(event),
        listed=directory.is_listed(reg, event),
        to_answer=[m for m in meetings if m.status == REQUESTED and m.awaiting_id == reg.id],
        waiting=[m for m in meetings if m.status == REQUESTED and m.awaiting_id != reg.id],
        agreed=[m for m in meetings if m.status == ACCEPTED], slots=slots,
        held={m.starts_at for m in meetings}, unavailable=services.unavailable_of(reg),
        place_name=services.place_name, slot_value=services.slot_value,
        form=ActionForm())


@bp.post("/meetings/unavailable")
def unavailable(slug: str):
    event = events.get_event(slug, current_user)
    reg = _reg(event)
    _check_csrf()
    with attempt() as failed:
        services.set_unavailable(reg, services.parse_slot(request.form.get("slot")),
                                 request.form.get("busy") == "1")
    if failed:
        flash(failed.message, "error")
    return redirect(url_for(".index", slug=slug) + "#slots")


# --- booking --------------------------------------------------------------------------------

def _picker(event, reg, who, status: int = 200, message: str = "", chosen: str = ""):
    solution_id = request.values.get("solution", type=int)
    solution = db.session.get(Solution, solution_id) if solution_id else None
    return render_template(
        "meetings/new.html", event=event, reg=reg, who=who, solution=solution,
        slots=services.free_slots(event, reg, who), slot_value=services.slot_value,
        message=message, chosen=chosen, form=ActionForm()), status


@bp.get("/meetings/new/<int:registration_id>")
def new(slug: str, registration_id: int):
    event = events.get_event(slug, current_user)
    reg = _reg(event)
    try:
        who = services.bookable(event, reg, registration_id)
    except Forbidden:
        if directory.is_listed(reg, event):
            raise
        # Not in the directory yet: the page shows the way there rather than an error.
        return render_template(
            "meetings/new.html", event=event, reg=reg, listed=False, solution=None,
            who=directory.listed_person(event, registration_id)), 403
    return _picker(event, reg, who)


@bp.post("/meetings/new/<int:registration_id>")
@limiter.limit(_limit)
@take_turns("meetings", at_once=4)  # a rush of bookings leaves connections for pages
def book(slug: str, registration_id: int):
    event = events.get_event(slug, current_user)
    reg = _reg(event)
    who = services.bookable(event, reg, registration_id)
    message = request.form.get("message", "")
    chosen = request.form.get("slot", "")
    if not ActionForm().validate_on_submit():
        flash(_("Formularen er udløbet. Prøv igen."), "error")
        return _picker(event, reg, who, 400, message, chosen)
    with attempt() as failed:
        meeting = services.request_meeting(
            reg, who, services.parse_slot(chosen), message,
            request.form.get("solution", type=int))
    if failed:
        flash(failed.message, "error")
        return _picker(event, reg, who, failed.error.status_code, message, chosen)
    flash(_("Din forespørgsel er sendt til %(name)s. Tidspunktet er holdt for jer begge, "
            "til der kommer svar.", name=who.name), "success")
    return redirect(url_for(".meeting", slug=slug, meeting_id=meeting.id))


# --- one meeting ------------------------------------------------------------------------------

def _meeting_page(event, meeting, reg, token: str | None, status: int = 200):
    proposing = meeting.is_open and (meeting.status == ACCEPTED or meeting.awaiting_id == reg.id)
    return render_template(
        "meetings/meeting.html", event=event, meeting=meeting, reg=reg, token=token,
        other=meeting.other(reg.id), labels=STATUS_LABELS, place=services.place_name(meeting),
        slots=services.free_slots(event, meeting.requester, meeting.invitee)
        if proposing else [], slot_value=services.slot_value,
        solutions=staff.solutions_for(meeting) if meeting.accepted_at else [],
        form=ActionForm()), status


@bp.get("/meetings/<int:meeting_id>")
def meeting(slug: str, meeting_id: int):
    event = events.get_event(slug, current_user)
    reg = _reg(event)
    return _meeting_page(event, services.get_meeting(event, meeting_id, reg), reg, None)


@bp.get("/meetings/link/<token>")
def by_link(slug: str, token: str):
    found, reg = services.by_token(token)
    event = found.event
    if event.slug != slug:
        raise NotFound(_("Mødet findes ikke."))
    return _meeting_page(event, found, reg, token)


def _act(event, found, reg, action: str) -> str:
    text = request.form.get("message", "")
    if action in ("accept", "decline"):
        services.answer(found, reg, action == "accept", text)
        return _("Du har sagt ja til mødet.") if action == "accept" else \
            _("Du har sagt nej tak. %(name)s får besked.", name=found.other(reg.id).name)
    if action == "move":
        services.move(found, reg, services.parse_slot(request.form.get("slot")), text)
        return _("Det nye tidspunkt er sendt til %(name)s.", name=found.other(reg.id).name)
    if action == "cancel":
        services.cancel(found, reg, text)
        return _("Mødet er aflyst. %(name)s får besked.", name=found.other(reg.id).name)
    if action == "followup":
        staff.follow_up(found, reg, request.form.get("solution", type=int), text)
        return _("Tak. Community manageren følger op på løsningen.")
    raise NotFound(_("Siden findes ikke."))


def _do(event, found, reg, action: str, token: str | None):
    _check_csrf()
    with attempt() as failed:
        done = _act(event, found, reg, action)
    if failed:
        flash(failed.message, "error")
        db.session.refresh(found)
        return _meeting_page(event, found, reg, token, failed.error.status_code)
    flash(done, "success")
    if token:
        return redirect(url_for(".by_link", slug=event.slug, token=token))
    return redirect(url_for(".meeting", slug=event.slug, meeting_id=found.id))


@bp.post("/meetings/<int:meeting_id>/<action>")
@limiter.limit(_limit)
def act(slug: str, meeting_id: int, action: str):
    event = events.get_event(slug, current_user)
    reg = _reg(event)
    return _do(event, services.get_meeting(event, meeting_id, reg), reg, action, None)


@bp.post("/meetings/link/<token>/<action>")
@limiter.limit(_limit)
def act_by_link(slug: str, token: str, action: str):
    found, reg = services.by_token(token)
    if found.event.slug != slug:
        raise NotFound(_("Mødet findes ikke."))
    return _do(found.event, found, reg, action, token)


# --- badge scanning ---------------------------------------------------------------------------

def _scanner_event(slug: str):
    """(event, the solutions the user scans for); None when not signed in. Anyone else
    is refused."""
    event = events.get_event(slug, current_user)
    if not current_user.is_authenticated:
        return event, None
    solutions = scans.scanner_solutions(current_user, event)
    if not solutions:
        raise Forbidden(_("Kun udstillere og oplægsholdere med en løsning kan scanne "
                          "badges ved dette arrangement."))
    return event, solutions


@bp.get("/scan")
def scanner(slug: str):
    event, solutions = _scanner_event(slug)
    if solutions is None:
        return redirect(url_for("accounts.login", next=request.path))
    return render_template("meetings/scanner.html", event=event, solutions=solutions,
                           code=request.args.get("code", ""),
                           recent=scans.scans_by(current_user, event)[:20], form=ActionForm())


@bp.post("/scan")
@limiter.limit(lambda: current_app.config.get("RATELIMIT_SCANS", "300 per hour"))
def scan(slug: str):
    event, solutions = _scanner_event(slug)
    if solutions is None:
        return redirect(url_for("accounts.login", next=request.path))
    code = request.form.get("code", "")
    with attempt() as failed:
        _check_csrf()
        row = scans.scan(current_user, event, code, request.form.get("solution", type=int))
    if failed:
        return render_template(
            "meetings/scanner.html", event=event, solutions=solutions, code=code,
            error=failed.message, recent=scans.scans_by(current_user, event)[:20],
            form=ActionForm()), failed.error.status_code
    flash(_("%(name)s er scannet. Giv en vurdering og noter, hvis du vil.",
            name=row.registration.name if row.registration else ""), "success")
    return redirect(url_for(".scan_notes", slug=slug, scan_id=row.id))


@bp.route("/scan/<int:scan_id>", methods=["GET", "POST"])
def scan_notes(slug: str, scan_id: int):
    event, solutions = _scanner_event(slug)
    if solutions is None:
        return redirect(url_for("accounts.login", next=request.path))
    row = scans.get_scan(current_user, event, scan_id)
    if request.method == "GET":
        return render_template("meetings/scan_notes.html", event=event, scan=row,
                               tags=", ".join(row.tags or []), form=ActionForm())
    rating = request.form.get("rating", "")
    with attempt() as failed:
        _check_csrf()
        if rating and not rating.isdigit():
            raise ValidationError(_("Vælg en vurdering fra 0 til 5."), "rating")
        scans.save_notes(current_user, event, row, scans.ScanNotes(
            rating=int(rating) if rating else None, notes=request.form.get("notes", ""),
            tags=scans.parse_tags(request.form.get("tags", ""))))
    if failed:
        db.session.refresh(row)
        return render_template("meetings/scan_notes.html", event=event, scan=row,
                               error=failed.message, typed=request.form,
                               tags=request.form.get("tags", ""), form=ActionForm()), \
            failed.error.status_code
    flash(_("Gemt i opfølgningen."), "success")
    return redirect(url_for(".scanner", slug=slug))


@bp.route("/scan/withdraw/<token>", methods=["GET", "POST"])
def withdraw_scan(slug: str, token: str):
    row = scans.by_withdraw_token(token)
    event = events.get_event(slug, current_user)
    if row.event_id != event.id:
        raise NotFound(_("Scanningen findes ikke."))
    if request.method == "POST":
        _check_csrf()
        scans.withdraw(row)
        return render_template("meetings/scan_withdrawn.html", event=event)
    return render_template("meetings/scan_withdraw.html", event=event, scan=row,
                           form=ActionForm())


@public_bp.get("/s/<token>")
def badge(token: str):
    """What a badge's scan QR opens: the scanner for exhibitors, a short note for others
    (never the ticket, never the person)."""
    reg = db.session.scalar(select(Registration).where(Registration.scan_token == token)) \
        if token else None
    if reg is not None and current_user.is_authenticated \
            and scans.scanner_solutions(current_user, reg.event):
        return redirect(url_for("meetings.scanner", slug=reg.event.slug, code=token))
    return render_template("meetings/badge_code.html", event=reg.event if reg else None), \
        200 if reg else 404
