"""Follow-up mail (compose, preview, send), the post-event survey, the report (HTML and
PDF), and the public unsubscribe page."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from eventhub import audit
from eventhub.db import utcnow
from eventhub.directory.services import catalogue
from eventhub.documents import render_pdf
from eventhub.errors import ValidationError
from eventhub.events import services as events
from eventhub.events.hooks import staff_blueprint
from eventhub.extensions import csrf, limiter
from eventhub.followup import mailing, report, services, unsubscribe
from eventhub.followup.forms import MailForm, SurveyForm
from eventhub.followup.mailform import send_or_preview
from eventhub.forms import ActionForm
from eventhub.polls.live import notify
from eventhub.polls.models import KIND_LABELS, STATUS_LABELS
from eventhub.polls.services import polls_of
from eventhub.transactions import after_commit, attempt

bp = staff_blueprint("followup_comms", __name__, "/manage/e/<slug>/followup")
public_bp = Blueprint("followup_public", __name__)



def _event(slug: str):
    return events.get_event_for(slug, current_user, *services.STAFF_ROLES)


# --- follow-up mail -----------------------------------------------------------------------

@bp.route("/mail", methods=["GET", "POST"])
def mail(slug: str):
    event = _event(slug)
    form = MailForm()
    form.solution.choices = [("", _("Vælg"))] + [(str(s.id), s.name) for s in catalogue()]
    preview, status = None, 200
    if form.validate_on_submit():
        data = mailing.MailData(
            segment=form.segment.data, subject=form.subject.data, body=form.body.data,
            solution_id=int(form.solution.data) if form.solution.data else None,
            org_kind=form.org_kind.data or "")
        done, preview, status = send_or_preview(
            event, form, data, lambda n: ngettext(
                "Mailen er lagt i udbakken til %(num)d modtager.",
                "Mailen er lagt i udbakken til %(num)d modtagere.", n),
            url_for(".mail", slug=slug))
        if done:
            return done
    elif form.is_submitted():
        status = 422
    return render_template(
        "followup/mail.html", event=event, form=form, preview=preview,
        placeholders=mailing.PLACEHOLDERS, segments=mailing.SEGMENTS,
        mailings=mailing.mailings(current_user, event),
        unsubscribed=len(unsubscribe.unsubscribed_ids(event)),
        survey_url=mailing.survey_url(event)), status


# --- the post-event survey ----------------------------------------------------------------

@bp.route("/survey", methods=["GET", "POST"])
def survey(slug: str):
    event = _event(slug)
    polls = polls_of(event)
    form = SurveyForm()
    form.polls.choices = [(p.id, p.question) for p in polls]
    if request.method == "GET":
        form.polls.data = sorted(mailing.survey_poll_ids(event))
    if form.validate_on_submit():
        action = request.form.get("action", "save")
        with attempt() as failed:
            if action == "save":
                mailing.set_survey(current_user, event, form.polls.data or [])
                message = _("Evalueringens afstemninger er gemt.")
            elif action == "open":
                opened = mailing.open_survey(current_user, event)
                message = ngettext("Evalueringen er åben: %(num)d afstemning.",
                                   "Evalueringen er åben: %(num)d afstemninger.", len(opened))
            else:
                mailing.close_survey(current_user, event)
                message = _("Evalueringen er lukket.")
        if failed:
            flash(failed.message, "error")
        else:
            _notify_after_commit(mailing.survey_poll_ids(event), event.id)
            flash(message, "success")
        return redirect(url_for(".survey", slug=slug))
    return render_template(
        "followup/survey.html", event=event, form=form, polls=polls,
        chosen=mailing.survey_poll_ids(event), kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS, survey_url=mailing.survey_url(event),
        ended=event.ends_at <= utcnow()), 422 if form.is_submitted() else 200


def _notify_after_commit(poll_ids, event_id: int) -> None:
    """Tell open phones that these polls changed (and so which are open), once the
    change is stored."""
    ids = list(poll_ids)

    def publish() -> None:
        for poll_id in ids:
            notify(poll_id)
        notify(None, event_id)

    after_commit(publish)


# --- the report ---------------------------------------------------------------------------

@bp.get("/report")
def report_page(slug: str):
    event = _event(slug)
    return render_template("followup/report.html", **report.build(current_user, event))


@bp.get("/report.pdf")
def report_pdf(slug: str):
    event = _event(slug)
    html = render_template("pdf/followup_report.html", **report.build(current_user, event))
    audit.record(current_user, event, "followup.report", "PDF")
    return Response(render_pdf(html), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="rapport-{event.slug}.pdf"'})


# --- unsubscribe (public, by token) -------------------------------------------------------

@public_bp.route("/u/<token>", methods=["GET", "POST"], endpoint="unsubscribe")
@csrf.exempt  # the one-click POST of RFC 8058 has no token; the form is checked below
@limiter.limit("30 per minute", methods=["POST"])
def unsubscribe_page(token: str):
    """GET asks (mail scanners open links), POST unsubscribes. A mail program's one-click
    POST (``List-Unsubscribe=One-Click``) needs no session: the signed URL is the proof."""
    reg = unsubscribe.registration_of(token)
    if request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click":
        unsubscribe.unsubscribe(reg)
        return Response(_("Du er frameldt.") + "\n", mimetype="text/plain")
    form = ActionForm()
    done = unsubscribe.is_unsubscribed(reg)
    if request.method == "POST":
        if not form.validate_on_submit():
            raise ValidationError(_("Formularen er udløbet. Prøv igen."))
        unsubscribe.unsubscribe(reg)
        done = True
    return render_template("followup/unsubscribe.html", event=reg.event, done=done, form=form)

