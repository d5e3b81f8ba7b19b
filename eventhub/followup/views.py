"""The community manager's pages: dashboard, introductions, leads (list, board, one lead)
and their export. Mail, survey and report are in ``comms_views.py``."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from eventhub import audit
from eventhub.directory.services import catalogue
from eventhub.errors import ValidationError
from eventhub.events import services as events
from eventhub.events.hooks import staff_blueprint
from eventhub.extensions import db
from eventhub.followup import dashboard, services
from eventhub.followup.forms import AssignForm, FilterForm, LeadForm, MoveForm, NoteForm
from eventhub.followup.models import SOURCES, STAGES
from eventhub.forms import ActionForm
from eventhub.registration.exports import to_csv, to_xlsx
from eventhub.registration.models import CANCELLED, Registration
from eventhub.timeutil import to_local
from eventhub.transactions import attempt

bp = staff_blueprint("followup", __name__, "/manage/e/<slug>/followup")


def manage_panel(event, user) -> dict | None:
    """On the event's staff page, for follow-up staff."""
    return {} if services.is_followup_staff(user, event) else None



def _event(slug: str):
    return events.get_event_for(slug, current_user, *services.STAFF_ROLES)


def _back(default: str) -> Response:
    from eventhub.accounts.services import safe_next_url

    return redirect(safe_next_url(request.form.get("back")) or default)


# --- dashboard ----------------------------------------------------------------------------

@bp.get("/")
def dashboard_page(slug: str):
    event = _event(slug)
    total, per_solution = services.reuse_rates(event)
    from eventhub.followup.report import month_chart

    months = services.adoptions_per_month(event)
    return render_template(
        "followup/dashboard.html", event=event, figures=dashboard.figures(event),
        matrix=dashboard.interest_matrix(current_user, event),
        suggestions=dashboard.suggestions(current_user, event),
        introductions=dashboard.introductions(current_user, event),
        stages=services.stage_counts(event), stage_labels=STAGES,
        overdue=services.overdue_count(event), reuse_total=total, reuse=per_solution,
        months=months, month_chart=month_chart(months, _("Genbrug pr. måned")),
        form=ActionForm())


@bp.post("/introduce")
def introduce(slug: str):
    event = _event(slug)
    if not ActionForm().validate_on_submit():
        raise ValidationError(_("Formularen er udløbet. Prøv igen."))
    with attempt() as failed:
        intro = dashboard.introduce(current_user, event, request.form.get("solution", type=int),
                                    request.form.get("seeker", type=int),
                                    request.form.get("runner", type=int))
    if failed:
        flash(failed.message, "error")
    else:
        flash(_("%(a)s og %(b)s er introduceret til hinanden. De får begge en mail.",
                a=intro.seeker.name, b=intro.runner.name), "success")
    return redirect(url_for(".dashboard_page", slug=slug) + "#introductions")


# --- leads --------------------------------------------------------------------------------

def _owner_choices(event, blank: str):
    return [("", blank)] + [(str(u.id), u.display_name) for u in services.owners(event)]


def _solution_choices(blank: str | None):
    head = [("", blank)] if blank is not None else []
    return head + [(str(s.id), s.name) for s in catalogue()]


def _filters(event) -> tuple[FilterForm, services.LeadFilter]:
    form = FilterForm(request.args)
    form.owner.choices = _owner_choices(event, _("Alle")) + [("0", _("Ingen ansvarlig"))]
    form.solution.choices = _solution_choices(_("Alle"))
    form.validate()
    def number(value):
        return int(value) if value and str(value).isdigit() else None
    flt = services.LeadFilter(
        owner_id=number(form.owner.data) if not form.owner.errors else None,
        solution_id=number(form.solution.data) if not form.solution.errors else None,
        stage=form.stage.data if form.stage.data in STAGES else "",
        overdue=bool(form.overdue.data))
    return form, flt


def _move_form(lead=None) -> MoveForm:
    form = MoveForm(formdata=None) if lead is not None else MoveForm()
    if lead is not None:
        form.stage.data = lead.stage
    return form


@bp.get("/leads")
def leads(slug: str):
    event = _event(slug)
    form, flt = _filters(event)
    board = request.args.get("view") == "board"
    found = services.leads_of(current_user, event, flt)
    columns = {s: [lead for lead in found if lead.stage == s] for s in STAGES}
    return render_template(
        "followup/leads.html", event=event, form=form, leads=found, columns=columns,
        board=board, stage_labels=STAGES, sources=SOURCES, today=services.today(),
        action_form=ActionForm(), query=request.query_string.decode())


@bp.post("/leads/import")
def import_leads(slug: str):
    event = _event(slug)
    if not ActionForm().validate_on_submit():
        raise ValidationError(_("Formularen er udløbet. Prøv igen."))
    made = services.import_leads(current_user, event)
    flash(ngettext("%(num)d nyt lead fra interesser og kontaktanmodninger.",
                   "%(num)d nye leads fra interesser og kontaktanmodninger.", made) if made
          else _("Ingen nye leads: alle interesser har allerede et lead."), "success")
    return redirect(url_for(".leads", slug=slug))


@bp.route("/leads/new", methods=["GET", "POST"])
def new_lead(slug: str):
    event = _event(slug)
    form = LeadForm()
    form.solution.choices = _solution_choices(_("Vælg"))
    regs = db.session.scalars(db.select(Registration).where(
        Registration.event_id == event.id, Registration.status != CANCELLED)
        .order_by(Registration.name)).all()
    form.registration.choices = [("", _("Ingen"))] + [
        (str(r.id), f"{r.name} ({r.organization.name})" if r.organization else r.name)
        for r in regs]
    orgs = sorted({r.organization for r in regs if r.organization}, key=lambda o: o.name)
    form.organization.choices = [("", _("Deltagerens egen"))] + [
        (str(o.id), o.name) for o in orgs]
    form.owner.choices = _owner_choices(event, _("Ingen"))
    if request.method == "GET":
        form.owner.data = str(current_user.id)
    if form.validate_on_submit():
        def number(value):
            return int(value) if value else None
        data = services.LeadData(
            solution_id=number(form.solution.data), registration_id=number(form.registration.data),
            organization_id=number(form.organization.data), owner_id=number(form.owner.data),
            due_on=form.due_on.data, note=form.note.data)
        with attempt() as failed:
            lead = services.create_lead(current_user, event, data)
        if failed:
            target = form[failed.error.field] if failed.error.field in form else form.solution
            target.errors = list(target.errors) + [failed.message]
        else:
            flash(_("Leadet er oprettet."), "success")
            return redirect(url_for(".lead", slug=slug, lead_id=lead.id))
    return render_template("followup/lead_new.html", event=event, form=form), \
        422 if form.is_submitted() else 200


def _lead_page(event, lead, *, move_form=None, note_form=None, status=200):
    assign = AssignForm(formdata=None, data={"owner": str(lead.owner_id or ""),
                                             "due_on": lead.due_on})
    assign.owner.choices = _owner_choices(event, _("Ingen"))
    return render_template(
        "followup/lead.html", event=event, lead=lead, stage_labels=STAGES, sources=SOURCES,
        move_form=move_form or _move_form(lead), note_form=note_form or NoteForm(formdata=None),
        assign_form=assign, today=services.today()), status


@bp.get("/leads/<int:lead_id>")
def lead(slug: str, lead_id: int):
    event = _event(slug)
    return _lead_page(event, services.get_lead(current_user, event, lead_id))


@bp.post("/leads/<int:lead_id>/move")
def move(slug: str, lead_id: int):
    event = _event(slug)
    lead = services.get_lead(current_user, event, lead_id)
    form = MoveForm()
    if form.validate_on_submit():
        with attempt() as failed:
            entry = services.move(current_user, event, lead, form.stage.data,
                                  reason=form.reason.data, note=form.note.data)
        if failed:
            target = form[failed.error.field] if failed.error.field in form else form.stage
            target.errors = list(target.errors) + [failed.message]
        else:
            if entry is not None:
                flash(_("Leadet er flyttet til \"%(stage)s\".", stage=STAGES[lead.stage]),
                      "success")
            if request.form.get("back"):
                return _back(url_for(".lead", slug=slug, lead_id=lead.id))
            return redirect(url_for(".lead", slug=slug, lead_id=lead.id))
    lead = services.get_lead(current_user, event, lead_id)
    return _lead_page(event, lead, move_form=form, status=422)


@bp.post("/leads/<int:lead_id>/note")
def note(slug: str, lead_id: int):
    event = _event(slug)
    lead = services.get_lead(current_user, event, lead_id)
    form = NoteForm()
    if form.validate_on_submit():
        with attempt() as failed:
            services.add_note(current_user, event, lead, form.note.data)
        if failed:
            form.note.errors = list(form.note.errors) + [failed.message]
        else:
            flash(_("Noten er gemt."), "success")
            return redirect(url_for(".lead", slug=slug, lead_id=lead.id) + "#history")
    lead = services.get_lead(current_user, event, lead_id)
    return _lead_page(event, lead, note_form=form, status=422)


@bp.post("/leads/<int:lead_id>/assign")
def assign(slug: str, lead_id: int):
    event = _event(slug)
    lead = services.get_lead(current_user, event, lead_id)
    form = AssignForm()
    form.owner.choices = _owner_choices(event, _("Ingen"))
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for(".lead", slug=slug, lead_id=lead.id))
    with attempt() as failed:
        services.assign(current_user, event, lead,
                        int(form.owner.data) if form.owner.data else None, form.due_on.data)
    if failed:
        flash(failed.message, "error")
    else:
        flash(_("Ansvarlig og frist er gemt."), "success")
    return redirect(url_for(".lead", slug=slug, lead_id=lead.id))


# --- export -------------------------------------------------------------------------------

def _export_rows(event, found) -> list[list[str]]:
    today = services.today()
    rows = [[_("Organisation"), _("Person"), _("Løsning"), _("Fase"), _("Begrundelse"),
             _("Ansvarlig"), _("Frist"), _("Overskredet"), _("Kilde"), _("Oprettet"),
             _("Genbrugt"), _("Seneste note")]]
    for lead in found:
        last_note = next((e.text for e in lead.entries if e.text), "")
        rows.append([
            lead.organization.name if lead.organization else "",
            lead.registration.name if lead.registration else "",
            lead.solution.name if lead.solution else "", str(STAGES[lead.stage]),
            lead.drop_reason, lead.owner.display_name if lead.owner else "",
            lead.due_on.isoformat() if lead.due_on else "",
            _("Ja") if lead.is_overdue(today) else "", str(SOURCES.get(lead.source, "")),
            f"{to_local(lead.created_at):%Y-%m-%d}",
            f"{to_local(lead.adopted_at):%Y-%m-%d}" if lead.adopted_at else "", last_note])
    return rows


@bp.get("/leads.csv", defaults={"fmt": "csv"})
@bp.get("/leads.xlsx", defaults={"fmt": "xlsx"})
def export(slug: str, fmt: str):
    event = _event(slug)
    _form, flt = _filters(event)
    rows = _export_rows(event, services.leads_of(current_user, event, flt))
    audit.record(current_user, event, "followup.export", f"{fmt.upper()}, {len(rows) - 1}")
    name = f"leads-{event.slug}.{fmt}"
    if fmt == "csv":
        return Response(to_csv(rows), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return Response(to_xlsx(rows, _("Leads")), headers={
        "Content-Disposition": f'attachment; filename="{name}"'},
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
