"""Sign-in through the organization's identity provider: ``/login/org`` starts it,
``/login/org/callback`` finishes it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from eventhub.accounts import oidc, services
from eventhub.accounts.signin import sign_in_browser
from eventhub.extensions import limiter
from eventhub.transactions import attempt

bp = Blueprint("oidc", __name__)
_NEXT = "oidc_next"


@bp.get("/login/org")
@limiter.limit("30 per minute")
def start():
    if not oidc.enabled():
        abort(404)
    session[_NEXT] = services.safe_next_url(request.args.get("next")) or ""
    try:
        return oidc.client().authorize_redirect(url_for(".callback", _external=True))
    except Exception as exc:  # the provider cannot be reached
        return _refused(oidc.refusal(exc))


@bp.get("/login/org/callback")
@limiter.limit("30 per minute")
def callback():
    if not oidc.enabled():
        abort(404)
    if request.args.get("error"):
        return _refused(_("Din organisations login blev afbrudt eller afvist. Prøv igen, "
                          "eller log ind på en anden måde."))
    try:
        token = oidc.client().authorize_access_token()
    except Exception as exc:
        return _refused(oidc.refusal(exc))
    claims = dict(token.get("userinfo") or {})
    with attempt() as failed:
        user = oidc.user_for(claims)
    if failed:
        return _refused(failed.message)
    next_url = session.pop(_NEXT, "")
    sign_in_browser(user)
    flash(_("Du er logget ind."), "success")
    return redirect(next_url or url_for("manage.home"))


def _refused(message: str):
    return render_template("accounts/oidc_refused.html", message=message), 400
