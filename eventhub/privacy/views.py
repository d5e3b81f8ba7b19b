"""My data: see, download, correct, withdraw consent, delete participation.

Signed in (by magic link or password) a person sees every event of their address; with
a personal link /r/<token> only that registration.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from eventhub.errors import ValidationError
from eventhub.extensions import db
from eventhub.forms import ActionForm
from eventhub.i18n import localdt
from eventhub.privacy import services
from eventhub.privacy.forms import CorrectionForm
from eventhub.registration import services as registrations
from eventhub.registration.models import Registration
from eventhub.transactions import attempt

bp = Blueprint("privacy", __name__)
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@bp.after_request
def private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _subject(token: str | None):
    if token is None:
        return services.subject_for_user(current_user)
    return services.subject_for_registration(registrations.by_manage_token(token))


def _cell(section, key: str, value):
    """A value as the page shows it: a code as its label, a time in the reader's language,
    nothing as a dash."""
    if value is None or value == "":
        return "–"
    if key in section.shown:
        return section.shown[key](value)
    if isinstance(value, str) and ISO_TIME.match(value):
        return localdt(datetime.fromisoformat(value), "short")
    if isinstance(value, bool):
        return _("Ja") if value else _("Nej")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _here(endpoint: str, token: str | None, **kw) -> str:
    if token is None:
        return url_for(f".{endpoint}", **kw)
    return url_for(f".link_{endpoint}", token=token, **kw)


def _page(token: str | None, form: CorrectionForm | None = None, status: int = 200):
    subject = _subject(token)
    regs = [db.session.get(Registration, rid) for rid in subject.registration_ids]
    if form is None:
        latest = regs[-1] if regs else None
        form = CorrectionForm(formdata=None, data={
            "name": latest.name if latest else getattr(current_user, "name", ""),
            "job_title": latest.job_title if latest else "",
            "organization": latest.organization.name if latest and latest.organization
            else ""})
    return render_template(
        "privacy/my_data.html", subject=subject, token=token, here=_here,
        sections=services.sections(subject), consents=services.consents(subject),
        registrations=regs, form=form, action_form=ActionForm(), cell=_cell,
    ), status


def _download(token: str | None):
    body = json.dumps(services.export(_subject(token)), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="mine-data.json"'})


def _correct(token: str | None):
    subject = _subject(token)
    form = CorrectionForm()
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            services.correct(subject, form.name.data, form.job_title.data or "",
                             form.organization.data)
        if not failed:
            flash(_("Dine oplysninger er rettet."), "success")
            return redirect(_here("mine", token))
        target = form[failed.error.field] if failed.error.field in form else form.name
        target.errors = list(target.errors) + [failed.message]
    return _page(token, form, 422)


def _withdraw(token: str | None, key: str):
    subject = _subject(token)
    if ActionForm().validate_on_submit():
        services.withdraw(subject, key)
        flash(_("Dit samtykke er trukket tilbage."), "success")
    return redirect(_here("mine", token))


def _delete(token: str | None, reg_id: int):
    subject = _subject(token)
    if reg_id not in subject.registration_ids:
        abort(404)
    reg = db.session.get(Registration, reg_id)
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        services.delete_participation(subject, reg_id)
        flash(_("Din deltagelse er slettet. Vi har fjernet dit navn, din e-mailadresse og "
                "dine svar."), "success")
        return redirect(url_for("events.index") if token else url_for(".mine"))
    return render_template("privacy/delete.html", reg=reg, event=reg.event, form=form,
                           back=_here("mine", token))


# Signed in ---------------------------------------------------------------------------


@bp.get("/my-data")
@login_required
def mine():
    return _page(None)


@bp.get("/my-data.json")
@login_required
def download():
    return _download(None)


@bp.post("/my-data/correct")
@login_required
def correct():
    return _correct(None)


@bp.post("/my-data/consents/<key>/withdraw")
@login_required
def withdraw(key: str):
    return _withdraw(None, key)


@bp.route("/my-data/registrations/<int:reg_id>/delete", methods=["GET", "POST"])
@login_required
def delete(reg_id: int):
    return _delete(None, reg_id)


# Through a personal link ---------------------------------------------------------------


@bp.get("/r/<token>/my-data")
def link_mine(token: str):
    return _page(token)


@bp.get("/r/<token>/my-data.json")
def link_download(token: str):
    return _download(token)


@bp.post("/r/<token>/my-data/correct")
def link_correct(token: str):
    return _correct(token)


@bp.post("/r/<token>/my-data/consents/<key>/withdraw")
def link_withdraw(token: str, key: str):
    return _withdraw(token, key)


@bp.route("/r/<token>/my-data/delete", methods=["GET", "POST"])
def link_delete(token: str):
    return _delete(token, registrations.by_manage_token(token).id)
