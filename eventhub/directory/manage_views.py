"""Organizers keep the solutions catalogue: create, edit, approve proposals, make public,
and link sessions to the solutions they present."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from eventhub.directory import services
from eventhub.directory.formdata import solution_data
from eventhub.directory.forms import PresentationForm, SolutionForm
from eventhub.directory.models import CATEGORIES, MATURITY
from eventhub.errors import ValidationError
from eventhub.events import services as events
from eventhub.events.hooks import staff_blueprint
from eventhub.events.models import ORGANIZER
from eventhub.forms import ActionForm
from eventhub.programme import services as programme
from eventhub.transactions import attempt

bp = staff_blueprint("manage_directory", __name__, "/manage/e/<slug>/solutions")



def _event(slug: str):
    return events.get_event_for(slug, current_user, ORGANIZER)


@bp.get("/")
def index(slug: str):
    event = _event(slug)
    solutions = services.catalogue()
    presented = services.presented_solution_ids(event)
    return render_template(
        "directory/manage_index.html", event=event, solutions=solutions, presented=presented,
        proposals=services.proposals(event), sessions=programme.list_sessions(event),
        counts=services.interest_counts(s.id for s in solutions), form=ActionForm(),
        categories=CATEGORIES)


def _form_page(event, form, sol=None, status=200):
    return render_template("directory/manage_solution.html", event=event, form=form, s=sol,
                           maturity=MATURITY), status


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:solution_id>", methods=["GET", "POST"])
def edit(slug: str, solution_id: int | None = None):
    event = _event(slug)
    sol = services.get_solution(solution_id, include_proposed=True) if solution_id else None
    form = SolutionForm(obj=sol)
    if request.method == "GET" and sol is not None:
        form.categories.data = sol.categories
        form.provider.data = sol.provider.name if sol.provider else ""
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            sol = services.save_solution(current_user, event, solution_data(form), sol)
        if failed:
            field = failed.error.field if failed.error.field in form else "name"
            form[field].errors = [failed.message]
        else:
            flash(_("Løsningen er gemt."), "success")
            return redirect(url_for(".index", slug=slug))
        return _form_page(event, form, sol, 422)
    return _form_page(event, form, sol, 422 if form.is_submitted() else 200)


@bp.post("/<int:solution_id>/<action>")
def act(slug: str, solution_id: int, action: str):
    """approve / reject a proposal; publish / unpublish a solution."""
    event = _event(slug)
    sol = services.get_solution(solution_id, include_proposed=True)
    if not ActionForm().validate_on_submit():
        raise ValidationError(_("Formularen er udløbet. Prøv igen."))
    if action in ("approve", "reject"):
        services.decide_proposal(current_user, event, sol, action == "approve")
        message = _("Forslaget er godkendt.") if action == "approve" else \
            _("Forslaget er afvist og slettet.")
    elif action in ("publish", "unpublish"):
        services.set_public(current_user, event, sol, action == "publish")
        message = _("Løsningen er nu offentlig.") if action == "publish" else \
            _("Løsningen er ikke længere offentlig.")
    else:
        raise ValidationError(_("Ukendt handling."))
    flash(message, "success")
    return redirect(url_for(".index", slug=slug))


@bp.route("/sessions/<int:session_id>", methods=["GET", "POST"])
def session_solutions(slug: str, session_id: int):
    """Which solutions a session presents, and which of its speakers present each."""
    event = _event(slug)
    session = programme.get_session(event, session_id)
    form = PresentationForm()
    catalogue = services.catalogue()
    form.solutions.choices = [(s.id, s.name) for s in catalogue]
    current = {p.solution_id: p for p in services.presentations_of_session(session)}
    if request.method == "GET":
        form.solutions.data = list(current)
    if form.validate_on_submit():
        chosen = {}
        for sid in form.solutions.data or []:
            chosen[sid] = [int(v) for v in request.form.getlist(f"presenters_{sid}")
                           if v.isdigit()]
        services.set_presentations(current_user, event, session, chosen)
        flash(_("Løsningerne for programpunktet er gemt."), "success")
        return redirect(url_for(".index", slug=slug))
    presenters = {sid: {sp.id for sp in p.presenters} for sid, p in current.items()}
    return render_template("directory/manage_session.html", event=event, session=session,
                           form=form, catalogue=catalogue, presenters=presenters), \
        422 if form.is_submitted() else 200
