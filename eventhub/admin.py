"""Platform admin pages: the mail outbox."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from eventhub import mail
from eventhub.forms import ActionForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_admin():
    if not current_user.is_admin:
        abort(403)


@bp.get("/mail")
def outbox():
    return render_template(
        "admin/outbox.html",
        failed=mail.failed_mails(),
        counts=mail.outbox_counts(),
        form=ActionForm(),
    )


@bp.post("/mail/<int:mail_id>/retry")
def retry(mail_id: int):
    if mail.retry_mail(mail_id) is None:
        abort(404)
    flash(_("Mailen er lagt i kø igen."), "success")
    return redirect(url_for("admin.outbox"))
