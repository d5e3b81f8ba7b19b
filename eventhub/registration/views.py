"""Participant pages: register, receipt and personal page, ticket, calendar."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from eventhub.documents import qr_png
from eventhub.errors import ValidationError
from eventhub.events import hooks
from eventhub.events import services as events
from eventhub.events.models import CHECKIN, DRAFT, ORGANIZER
from eventhub.extensions import limiter
from eventhub.forms import ActionForm
from eventhub.registration import checkins, services
from eventhub.registration import questions as q
from eventhub.registration.formdata import (
    answer_values,
    answers_from_request,
    attach_errors,
    data_from_form,
)
from eventhub.registration.forms import RegistrationForm, ResendForm
from eventhub.registration.models import STATUS_LABELS, Registration
from eventhub.registration.notifications import event_ics
from eventhub.registration.participants import my_registrations, remember_registration
from eventhub.transactions import attempt, take_turns

bp = Blueprint("registration", __name__)


def public_panel(event, user) -> dict:
    return {"problem": services.registration_window_problem(event,
                                                            preview=event.status == DRAFT),
            "seats_left": services.seats_left(event)}


def manage_panel(event, user) -> dict | None:
    if not events.is_staff(user, event):
        return None
    return {"organizer": events.has_role(user, event, ORGANIZER),
            "seats_taken": services.seats_taken(event), "counts": checkins.check_in_counts(event)}


def _register_limit() -> str:
    return current_app.config["RATELIMIT_REGISTER"]


@bp.route("/e/<slug>/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
@take_turns("registration")  # the event row lock sets the pace: see transactions.py
def register(slug: str):
    event = events.get_event(slug, current_user)
    preview = event.status == DRAFT  # only the staff see a draft: as participants will
    closed = services.registration_window_problem(event, preview=preview)
    questions = q.active_questions(event)
    form = RegistrationForm()
    field_errors: dict[str, list[str]] = {}
    duplicate = None
    if preview and request.method == "POST":
        closed = _("Dette er en forhåndsvisning: formularen kan ikke sendes, før "
                   "arrangementet er offentliggjort. Intet er gemt.")
    elif not closed and form.validate_on_submit():
        with attempt(services.AlreadyRegistered, services.RegistrationClosed,
                     ValidationError) as failed:
            reg = services.register(event, data_from_form(form, answers_from_request(questions)))
        if not failed:
            return redirect(url_for("registration.personal", token=reg.manage_token, new=1))
        if isinstance(failed.error, services.AlreadyRegistered):
            duplicate = form.email.data.strip()
        elif isinstance(failed.error, services.RegistrationClosed):
            closed = failed.message
        else:
            attach_errors(form, failed.error, field_errors)
    elif request.method == "POST" and not closed:
        # Required fields missing: also check the questions so every problem shows at once.
        _cleaned, problems = q.clean_answers(questions, answers_from_request(questions))
        for problem in problems:
            field_errors.setdefault(problem.field or "", []).append(problem.message)
    status = 200 if request.method == "GET" else (409 if duplicate or closed else 422)
    return render_template(
        "registration/register.html", event=event, form=form, questions=questions,
        values=answer_values(None), field_errors=field_errors, closed=closed,
        duplicate=duplicate, resend_form=ResendForm(email=duplicate, formdata=None),
        organizations=events.organization_names(), seats_left=services.seats_left(event),
        preview=preview,
    ), status


@bp.post("/e/<slug>/register/resend")
@limiter.limit(_register_limit)
def resend(slug: str):
    event = events.get_event(slug, current_user)
    form = ResendForm()
    if form.validate_on_submit():
        services.resend_link(event, form.email.data)
    # The same answer whether or not the address is registered.
    return render_template("registration/resent.html", event=event)


@bp.get("/my-events")
@login_required
def my_events():
    """A participant's home: each of their events with ticket, my day, polls, directory."""
    coming, past = my_registrations(current_user)
    return render_template(
        "registration/my_events.html", coming=coming, past=past, status_labels=STATUS_LABELS,
        panels={reg.id: hooks.render_panels(hooks.PARTICIPANT, reg, current_user)
                for reg in coming + past})


def participant_landing(user) -> str | None:
    """Where a participant lands after signing in by link: their home (staff: None)."""
    if user.is_admin or events.works_on_any_event(user):
        return None
    coming, past = my_registrations(user)
    return url_for("registration.my_events") if coming or past else None


@bp.get("/r/<token>")
def personal(token: str):
    reg = services.by_manage_token(token)
    remember_registration(reg)
    return render_template(
        "registration/personal.html", reg=reg, event=reg.event, new=bool(request.args.get("new")),
        position=services.waitlist_position(reg), status_label=STATUS_LABELS[reg.status],
        answers=sorted(reg.answers, key=lambda a: (a.question.position, a.question_id)),
        ticket_url=services.ticket_url(reg), action_form=ActionForm(),
    )


@bp.route("/r/<token>/edit", methods=["GET", "POST"])
def edit(token: str):
    reg = services.by_manage_token(token)
    event = reg.event
    questions = q.active_questions(event)
    if request.method == "GET":
        form = RegistrationForm(obj=None, data={
            "name": reg.name, "email": reg.email, "job_title": reg.job_title,
            "organization": reg.organization.name if reg.organization else "",
            "directory_consent": reg.directory_consent, "phone": reg.phone,
            "followup_consent": reg.followup_consent,
            "scan_consent": reg.scan_consent,
        })
    else:
        form = RegistrationForm()
        form.email.data = reg.email  # the address is the registration's key here
    field_errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            services.update_registration(reg, data_from_form(form, answers_from_request(questions)))
        if not failed:
            flash(_("Dine ændringer er gemt."), "success")
            return redirect(url_for("registration.personal", token=token))
        attach_errors(form, failed.error, field_errors)
    return render_template(
        "registration/edit.html", reg=reg, event=event, form=form, questions=questions,
        values=answer_values(reg), field_errors=field_errors,
        organizations=events.organization_names(),
    ), 200 if request.method == "GET" else 422


@bp.route("/r/<token>/cancel", methods=["GET", "POST"])
def cancel(token: str):
    reg = services.by_manage_token(token)
    form = ActionForm()
    if form.validate_on_submit():
        services.cancel(reg)
        flash(_("Du er afmeldt. Tak fordi du gav pladsen videre."), "success")
        return redirect(url_for("registration.personal", token=token))
    return render_template("registration/cancel.html", reg=reg, event=reg.event, form=form)


@bp.get("/r/<token>/event.ics")
def calendar(token: str):
    reg = services.by_manage_token(token)
    return Response(event_ics(reg), mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="{reg.event.slug}.ics"'})


@bp.get("/r/<token>/ticket.pdf")
def ticket_pdf(token: str):
    from eventhub.registration.badges import ticket_pdf as render_ticket

    reg = services.by_manage_token(token)
    if reg.status != "confirmed":
        abort(404)
    return Response(render_ticket(reg), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="billet-{reg.event.slug}.pdf"',
        "Cache-Control": "private, no-store"})


# Tickets and check-in --------------------------------------------------------------


def _is_checkin_staff(reg: Registration) -> bool:
    return events.has_role(current_user, reg.event, CHECKIN, ORGANIZER)


@bp.get("/t/<code>")
def ticket(code: str):
    reg = services.by_ticket_code(code)
    if _is_checkin_staff(reg):
        return render_template("registration/checkin_ticket.html", reg=reg, event=reg.event,
                               status_label=STATUS_LABELS[reg.status], form=ActionForm(),
                               counts=checkins.check_in_counts(reg.event),
                               just_checked_in=request.args.get("done") == "1")
    return render_template("registration/ticket.html", reg=reg, event=reg.event,
                           status_label=STATUS_LABELS[reg.status])


@bp.get("/t/<code>/qr.png")
def ticket_qr(code: str):
    reg = services.by_ticket_code(code)
    return Response(qr_png(services.ticket_url(reg)), mimetype="image/png",
                    headers={"Cache-Control": "private, max-age=3600"})


@bp.post("/t/<code>/checkin")
def check_in(code: str):
    reg = services.by_ticket_code(code)
    with attempt(ValidationError) as failed:
        result = checkins.check_in(reg, actor=current_user)
    if failed:
        flash(failed.message, "error")
        return redirect(url_for("registration.ticket", code=code))
    # A second scan of the same ticket lands on the warning, not on a success.
    return redirect(url_for("registration.ticket", code=code,
                            done=1 if result.first_time else None))


@bp.post("/t/<code>/undo")
def undo_check_in(code: str):
    reg = services.by_ticket_code(code)
    checkins.undo_check_in(reg, actor=current_user)
    flash(_("Check-in for %(name)s er fortrudt.", name=reg.name), "info")
    return redirect(url_for("registration.ticket", code=code))


@bp.get("/e/<slug>/privacy")
def privacy(slug: str):
    event = events.get_event(slug, current_user)
    return render_template("registration/privacy.html", event=event)
