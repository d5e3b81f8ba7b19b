"""Staff pages: the organizer's meeting setup and exhibitors; the schedule per table and
slot (on screen and as a PDF for the tables) and the community manager's figures."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from eventhub.directory.services import catalogue, presented_solution_ids
from eventhub.documents import render_pdf
from eventhub.errors import ValidationError
from eventhub.events import services as events
from eventhub.events.hooks import staff_blueprint
from eventhub.events.models import COMMUNITY_MANAGER, ORGANIZATION_KIND_LABELS, ORGANIZER
from eventhub.forms import ActionForm
from eventhub.meetings import scans, services, staff
from eventhub.meetings import setup as meeting_setup
from eventhub.timeutil import LOCAL_TZ
from eventhub.transactions import attempt

bp = staff_blueprint("manage_meetings", __name__, "/manage/e/<slug>/meetings")


def manage_panel(event, user) -> dict | None:
    return {"organizer": events.has_role(user, event, ORGANIZER)} \
        if services.is_meeting_staff(user, event) else None


def _periods_text(event) -> str:
    return "\n".join(f"{p.starts_at.astimezone(LOCAL_TZ):%H:%M}-"
                     f"{p.ends_at.astimezone(LOCAL_TZ):%H:%M}"
                     for p in services.periods_of(event))


def _number(name: str, default: int) -> int:
    value = (request.form.get(name) or "").strip()
    if not value:
        return default
    if not value.lstrip("-").isdigit():
        raise ValidationError(_("Skriv et helt tal."), name)
    return int(value)


def _setup_page(event, data: meeting_setup.SetupData, status: int = 200, error=None):
    presented = presented_solution_ids(event)
    return render_template(
        "meetings/manage_setup.html", event=event, data=data, error=error,
        kinds=ORGANIZATION_KIND_LABELS,
        solutions=[s for s in catalogue() if s.id in presented], form=ActionForm()), status


@bp.route("/setup", methods=["GET", "POST"])
def setup(slug: str):
    event = events.get_event_for(slug, current_user, ORGANIZER)
    if request.method == "GET":
        have = services.setup_of(event)
        places = services.places_of(event)
        tables = [p for p in places if p.kind == "table"]
        data = meeting_setup.SetupData(
            enabled=bool(have and have.enabled),
            slot_minutes=have.slot_minutes if have else 20, periods=_periods_text(event),
            tables=len(tables) if have else 10,
            table_capacity=tables[0].capacity if tables else 1,
            stand_solution_ids=[p.solution_id for p in places if p.kind == "stand"],
            kinds=list(have.kinds) if have else [], max_pending=have.max_pending if have else 5)
        return _setup_page(event, data)
    data = meeting_setup.SetupData(enabled=request.form.get("enabled") == "1",
                              periods=request.form.get("periods", ""),
                              kinds=request.form.getlist("kinds"),
                              stand_solution_ids=[int(v) for v in
                                                  request.form.getlist("stands") if v.isdigit()])
    with attempt() as failed:
        if not ActionForm().validate_on_submit():
            raise ValidationError(_("Formularen er udløbet. Prøv igen."))
        data.slot_minutes = _number("slot_minutes", 20)
        data.tables = _number("tables", 10)
        data.table_capacity = _number("table_capacity", 1)
        data.max_pending = _number("max_pending", 5)
        meeting_setup.save_setup(current_user, event, data)
    if failed:
        return _setup_page(event, data, 422, failed.error)
    flash(_("Mødeopsætningen er gemt."), "success")
    return redirect(url_for(".schedule", slug=slug))


@bp.get("/")
def schedule(slug: str):
    event = events.get_event_for(slug, current_user, ORGANIZER, COMMUNITY_MANAGER)
    slots, places, cells = staff.schedule(current_user, event)
    return render_template(
        "meetings/manage_schedule.html", event=event, slots=slots, places=places,
        cells=cells, figures=staff.figures(current_user, event),
        setup=services.setup_of(event), place_name=services.place_name,
        organizer=events.has_role(current_user, event, ORGANIZER))


@bp.get("/schedule.pdf")
def schedule_pdf(slug: str):
    event = events.get_event_for(slug, current_user, ORGANIZER, COMMUNITY_MANAGER)
    slots, places, cells = staff.schedule(current_user, event)
    html = render_template("pdf/meeting_schedule.html", event=event, slots=slots,
                           places=places, cells=cells, place_name=services.place_name)
    return Response(render_pdf(html), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="moedeplan-{event.slug}.pdf"'})


@bp.route("/exhibitors", methods=["GET", "POST"])
def exhibitors(slug: str):
    event = events.get_event_for(slug, current_user, ORGANIZER)
    error = None
    status = 200
    if request.method == "POST":
        with attempt() as failed:
            if not ActionForm().validate_on_submit():
                raise ValidationError(_("Formularen er udløbet. Prøv igen."))
            scans.add_exhibitor(current_user, event, request.form.get("email", ""),
                                request.form.get("name", ""),
                                request.form.get("solution", type=int))
        if not failed:
            flash(_("Udstilleren er tilføjet. De logger ind med deres e-mail og scanner "
                    "fra arrangementets side."), "success")
            return redirect(url_for(".exhibitors", slug=slug))
        error, status = failed.error, 422
    return render_template("meetings/manage_exhibitors.html", event=event,
                           exhibitors=scans.exhibitors_of(event), solutions=catalogue(),
                           error=error, typed=request.form, form=ActionForm()), status


@bp.post("/exhibitors/<int:exhibitor_id>/remove")
def remove_exhibitor(slug: str, exhibitor_id: int):
    event = events.get_event_for(slug, current_user, ORGANIZER)
    if not ActionForm().validate_on_submit():
        raise ValidationError(_("Formularen er udløbet. Prøv igen."))
    scans.remove_exhibitor(current_user, event, exhibitor_id)
    flash(_("Udstilleren er fjernet."), "success")
    return redirect(url_for(".exhibitors", slug=slug))
