"""Organizer and check-in staff pages for an event's registrations."""

from __future__ import annotations

from flask import (
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from eventhub import audit
from eventhub.accounts.services import safe_next_url
from eventhub.errors import DomainError, ValidationError
from eventhub.events import services as events
from eventhub.events.hooks import staff_blueprint
from eventhub.events.models import CHECKIN, COMMUNITY_MANAGER, ORGANIZER
from eventhub.forms import ActionForm
from eventhub.registration import bulk, checkins, door, door_page, exports, imports, services
from eventhub.registration import questions as q
from eventhub.registration.formdata import (
    answer_values,
    answers_from_request,
    attach_errors,
    data_from_form,
)
from eventhub.registration.forms import (
    ORGANIZATION_KIND_LABELS,
    CheckInCodeForm,
    ImportForm,
    QuestionForm,
    StaffRegistrationForm,
    status_filter_choices,
)
from eventhub.registration.models import (
    BADGE_LABELS,
    QUESTION_KIND_LABELS,
    STATUS_LABELS,
    Registration,
)
from eventhub.transactions import attempt
from eventhub.uploads import read_csv_upload

bp = staff_blueprint("manage_registration", __name__, "/manage/e/<slug>")


def _organizer_event(slug: str):
    return events.get_event_for(slug, current_user, ORGANIZER)


def _filter_from_args(args=None) -> services.RegistrationFilter:
    args = request.args if args is None else args
    return services.RegistrationFilter(
        search=args.get("q", "")[:200], status=args.get("status", ""),
        organization_id=args.get("organization", type=int),
        organization_kind=args.get("kind", ""),
        question_id=args.get("question", type=int), answer=args.get("answer", "")[:200],
    )


@bp.get("/registrations")
def registrations(slug: str):
    event = events.get_event_for(slug, current_user, ORGANIZER, COMMUNITY_MANAGER)
    flt = _filter_from_args()
    if not events.has_role(current_user, event, ORGANIZER):
        # Community managers follow up: who came and from where, read only; e-mail and
        # phone only of those who said yes to being contacted; no answers, no actions.
        return render_template(
            "registration/cm_list.html", event=event,
            registrations=[r for r in services.list_registrations(event, flt)
                           if r.status != "cancelled"], status_labels=STATUS_LABELS)
    regs = services.list_registrations(event, flt)
    return render_template(
        "registration/manage_list.html", event=event, registrations=regs, flt=flt,
        status_choices=status_filter_choices(), kind_labels=ORGANIZATION_KIND_LABELS,
        status_labels=STATUS_LABELS, badge_labels=BADGE_LABELS,
        questions=q.active_questions(event),
        seats_taken=services.seats_taken(event), counts=checkins.check_in_counts(event),
        action_form=ActionForm(), query=request.query_string.decode(),
        bulk_actions=bulk.ACTION_LABELS,
    )


def _export(slug: str, fmt: str, regs=None):
    event = _organizer_event(slug)
    if regs is None:
        regs = services.list_registrations(event, _filter_from_args())
    rows = exports.export_rows(event, regs)
    audit.record(current_user, event, "registrations.export", f"{fmt.upper()}, {len(rows) - 1}")
    if fmt == "csv":
        body, mimetype = exports.to_csv(rows), "text/csv; charset=utf-8"
    else:
        body = exports.to_xlsx(rows, event.title)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="tilmeldinger-{event.slug}.{fmt}"'})


@bp.get("/registrations.csv")
def export_csv(slug: str):
    return _export(slug, "csv")


@bp.get("/registrations.xlsx")
def export_xlsx(slug: str):
    return _export(slug, "xlsx")


@bp.post("/registrations/bulk")
def bulk_action(slug: str):
    """The ticked registrations (or all matching the filter): export them, or show how
    many an action changes and, once confirmed, do it."""
    event = _organizer_event(slug)
    if not ActionForm().validate_on_submit():
        raise ValidationError(_("Formularen er udløbet. Genindlæs siden, og prøv igen."))
    form, back = request.form, url_for(".registrations", slug=slug) + (
        "?" + request.form["query"] if request.form.get("query") else "")
    regs = bulk.selection(event, None, _filter_from_args(form)) if form.get("scope") == "all" \
        else bulk.selection(event, [int(i) for i in form.getlist("ids") if i.isdigit()])
    if form.get("action") == "export":
        return _export(slug, "csv", regs)
    with attempt(ValidationError) as failed:
        todo = bulk.plan(current_user, event, form.get("action", ""), regs)
        if form.get("confirm") == "y":
            bulk.run(current_user, event, todo.action, regs)
    if failed:
        flash(failed.message, "error")
        return redirect(back)
    if form.get("confirm") == "y":
        flash(ngettext("%(action)s: %(num)d tilmelding er ændret.",
                       "%(action)s: %(num)d tilmeldinger er ændret.", len(todo.doing),
                       action=bulk.ACTION_LABELS[todo.action]), "success")
        return redirect(back)
    return render_template("registration/manage_bulk.html", event=event, plan=todo,
                           label=bulk.ACTION_LABELS[todo.action], form=ActionForm(),
                           regs=regs, query=form.get("query", ""), back=back)


def _staff_form_page(event, form, reg, questions, field_errors, status=200):
    return render_template(
        "registration/manage_edit.html", event=event, form=form, reg=reg, questions=questions,
        values=answer_values(reg), field_errors=field_errors,
        organizations=events.organization_names(), action_form=ActionForm(),
        status_labels=STATUS_LABELS,
    ), status


@bp.route("/registrations/new", methods=["GET", "POST"])
def add(slug: str):
    event = _organizer_event(slug)
    questions = q.active_questions(event)
    form = StaffRegistrationForm()
    field_errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        with attempt(services.AlreadyRegistered, ValidationError) as failed:
            reg = services.register(event, data_from_form(form, answers_from_request(questions)),
                                    source="staff", actor=current_user)
        if not failed:
            flash(_("%(name)s er tilmeldt (%(status)s).", name=reg.name,
                    status=STATUS_LABELS[reg.status]), "success")
            return redirect(url_for(".registrations", slug=slug))
        if isinstance(failed.error, services.AlreadyRegistered):
            form.email.errors = [_("Der er allerede en tilmelding med den e-mailadresse.")]
        else:
            attach_errors(form, failed.error, field_errors)
    status = 200 if request.method == "GET" else 422
    return _staff_form_page(event, form, None, questions, field_errors, status)


@bp.route("/registrations/<int:reg_id>", methods=["GET", "POST"])
def edit(slug: str, reg_id: int):
    event = _organizer_event(slug)
    reg = services.get_registration(event, reg_id)
    questions = q.active_questions(event)
    if request.method == "GET":
        form = StaffRegistrationForm(data={
            "name": reg.name, "email": reg.email, "job_title": reg.job_title,
            "organization": reg.organization.name if reg.organization else "",
            "directory_consent": reg.directory_consent, "badge_role": reg.badge_role,
            "scan_consent": reg.scan_consent,
        })
    else:
        form = StaffRegistrationForm()
    field_errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            services.update_registration(
                reg, data_from_form(form, answers_from_request(questions)), actor=current_user)
        if not failed:
            flash(_("Ændringerne er gemt."), "success")
            return redirect(url_for(".registrations", slug=slug))
        attach_errors(form, failed.error, field_errors)
    status = 200 if request.method == "GET" else 422
    return _staff_form_page(event, form, reg, questions, field_errors, status)


def _cancel(reg: Registration) -> str:
    promoted = services.cancel(reg, actor=current_user)
    message = _("%(name)s er afmeldt.", name=reg.name)
    if promoted:
        message += " " + _("Fra ventelisten har %(names)s fået plads.",
                           names=", ".join(p.name for p in promoted))
    return message


def _approve(reg: Registration) -> str:
    services.approve(reg, actor=current_user)
    return _("%(name)s er godkendt (%(status)s).", name=reg.name,
             status=STATUS_LABELS[reg.status])


def _resend(reg: Registration) -> str:
    services.resend_ticket(reg, actor=current_user)
    return _("Bekræftelsen er sendt igen til %(name)s.", name=reg.name)


# What an organizer may do to one registration; each returns the message to show.
_ACTIONS = {"cancel": _cancel, "approve": _approve, "resend": _resend}


@bp.post("/registrations/<int:reg_id>/<action>")
def act(slug: str, reg_id: int, action: str):
    event = _organizer_event(slug)
    reg = services.get_registration(event, reg_id)
    if action not in _ACTIONS:
        return redirect(url_for(".registrations", slug=slug))
    with attempt(ValidationError) as failed:
        message = _ACTIONS[action](reg)
    if failed:
        flash(failed.message, "error")
    else:
        flash(message, "success")
    return redirect(safe_next_url(request.form.get("back")) or url_for(".registrations", slug=slug))


@bp.route("/registrations/import", methods=["GET", "POST"])
def import_csv(slug: str):
    event = _organizer_event(slug)
    form = ImportForm()
    report = None
    text = ""
    if form.validate_on_submit():
        upload = form.file.data
        text = form.csv_text.data or ""
        if upload and getattr(upload, "filename", ""):
            try:
                text = read_csv_upload(upload, imports.MAX_BYTES)
            except ValidationError as exc:
                form.file.errors = [exc.message]
                text = ""
        if text and request.form.get("confirm"):
            with attempt(ValidationError) as failed:
                count, _skipped = imports.run_import(current_user, event, text)
            if failed:
                if isinstance(failed.error, imports.ImportFailed):
                    report = imports.ImportReport(problems=failed.error.failed)
                flash(failed.message, "error")
            else:
                flash(ngettext("%(num)d deltager er importeret.",
                               "%(num)d deltagere er importeret.", count), "success")
                return redirect(url_for(".registrations", slug=slug))
        elif text:
            report = imports.parse(event, text)
        elif not form.file.errors:
            form.csv_text.errors = [_("Vælg en CSV-fil eller indsæt indholdet.")]
    return render_template("registration/manage_import.html", event=event, form=form,
                           report=report, text=text)


# Questions -----------------------------------------------------------------------------


def _save_question(form: QuestionForm, event, question=None) -> bool:
    """Save the form's question; on a problem, show it beside its field."""
    with attempt(ValidationError) as failed:
        q.save_question(current_user, event, label=form.label.data, kind=form.kind.data,
                        options=(form.options.data or "").splitlines(),
                        required=form.required.data, help_text=form.help_text.data or "",
                        question=question, label_en=form.label_en.data or "")
    if failed:
        exc = failed.error
        target = form[exc.field] if exc.field in form else form.label
        target.errors = list(target.errors) + [exc.message]
        return False
    audit.record(current_user, event, "questions.edit", f"#{question.id}" if question else "+")
    return True


@bp.route("/questions", methods=["GET", "POST"])
def questions(slug: str):
    event = _organizer_event(slug)
    form = QuestionForm()
    if form.validate_on_submit() and _save_question(form, event):
        flash(_("Spørgsmålet er tilføjet."), "success")
        return redirect(url_for(".questions", slug=slug))
    return render_template(
        "registration/manage_questions.html", event=event, form=form,
        questions=q.active_questions(event), kind_labels=QUESTION_KIND_LABELS,
        action_form=ActionForm(),
    ), 200 if request.method == "GET" else 422


@bp.route("/questions/<int:question_id>", methods=["GET", "POST"])
def edit_question(slug: str, question_id: int):
    event = _organizer_event(slug)
    question = q.get_question(event, question_id)
    form = QuestionForm(data={
        "label": question.label, "label_en": question.label_en,
        "help_text": question.help_text, "kind": question.kind,
        "options": "\n".join(question.options or []), "required": question.required,
    }) if request.method == "GET" else QuestionForm()
    if form.validate_on_submit() and _save_question(form, event, question):
        flash(_("Spørgsmålet er gemt. Svar, der allerede er givet, er bevaret."), "success")
        return redirect(url_for(".questions", slug=slug))
    return render_template("registration/manage_question_edit.html", event=event, form=form,
                           question=question), 200 if request.method == "GET" else 422


@bp.post("/questions/<int:question_id>/<action>")
def question_action(slug: str, question_id: int, action: str):
    event = _organizer_event(slug)
    question = q.get_question(event, question_id)
    if action == "archive":
        q.archive_question(current_user, event, question)
        flash(_("Spørgsmålet er fjernet fra formularen. Svarene findes stadig i eksporten."),
              "success")
    elif action in ("up", "down"):
        q.move_question(current_user, event, question, -1 if action == "up" else 1)
    audit.record(current_user, event, "questions.edit", f"#{question.id} {action}"[:40])
    return redirect(url_for(".questions", slug=slug))


# Check-in and badges ----------------------------------------------------------------------


@bp.route("/checkin", methods=["GET", "POST"])
def checkin(slug: str):
    event = events.get_event_for(slug, current_user, CHECKIN, ORGANIZER)
    form = CheckInCodeForm()
    matches = None
    if form.validate_on_submit():
        try:
            found = checkins.find_for_check_in(event, form.code.data)
        except DomainError as exc:
            form.code.errors = [exc.message]
        else:
            if not isinstance(found, list):
                return redirect(url_for("registration.ticket", code=found.ticket_code))
            matches = found
    status = 422 if form.errors else 200
    door_config = {"slug": event.slug, "user": current_user.id,
                   "urls": door_page.urls(slug), "texts": door_page.texts()}
    return render_template("registration/checkin.html", event=event, form=form,
                           matches=matches, counts=checkins.check_in_counts(event),
                           door=door.door_state(event), door_config=door_config), status


@bp.get("/checkin/count")
def checkin_count(slug: str):
    event = events.get_event_for(slug, current_user, CHECKIN, ORGANIZER)
    counts = checkins.check_in_counts(event)
    return jsonify(**counts, text=_("%(n)d af %(total)d checket ind", n=counts["checked_in"],
                                    total=counts["expected"]))


@bp.get("/badges.pdf")
def badges(slug: str):
    from eventhub.registration.badges import badges_pdf, speakers_of

    event = _organizer_event(slug)
    flt = _filter_from_args()
    flt.status = flt.status or "confirmed"
    regs = sorted(services.list_registrations(event, flt), key=lambda r: r.name.casefold())
    speakers = speakers_of(event)
    if flt.search or flt.organization_id or flt.organization_kind or flt.answer or \
            flt.status != "confirmed":  # a part of the list: its registered speakers only
        speakers = [s for s in speakers if s.registration_id]
    printed = len(regs) + sum(1 for s in speakers if s.registration_id is None)
    audit.record(current_user, event, "badges.print", f"PDF, {printed}")
    return Response(badges_pdf(event, regs, speakers=speakers), mimetype="application/pdf",
                    headers={
        "Content-Disposition": f'inline; filename="navneskilte-{event.slug}.pdf"'})
