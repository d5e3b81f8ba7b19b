"""Sign in with password or magic link, sign out, my account."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from eventhub.accounts import services
from eventhub.accounts.forms import LoginForm, MagicLinkForm, PasswordForm
from eventhub.accounts.landing import landing_url
from eventhub.accounts.signin import sign_in_browser
from eventhub.errors import ValidationError
from eventhub.extensions import limiter
from eventhub.forms import ActionForm
from eventhub.transactions import attempt

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _magic_limit() -> str:
    return current_app.config["RATELIMIT_MAGIC_LINK"]


def _next_from_address() -> str:
    """``?next=`` as the form carries it on: a path of this site, or nothing."""
    return services.safe_next_url(request.args.get("next")) or ""


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    next_url = _next_from_address()
    form = LoginForm(next=next_url)
    magic_form = MagicLinkForm(next=next_url, formdata=None)
    for field in (magic_form.email, magic_form.next):  # two forms on one page: unique ids
        field.id = field.label.field_id = f"link-{field.name}"
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            user = services.authenticate(form.email.data, form.password.data)
        if failed:
            form.password.errors.append(failed.message)
        else:
            sign_in_browser(user)
            flash(_("Du er logget ind."), "success")
            return redirect(services.safe_next_url(form.next.data) or url_for("manage.home"))
    return render_template("accounts/login.html", form=form, magic_form=magic_form)


@bp.route("/login/link", methods=["GET", "POST"])
@limiter.limit(_magic_limit, methods=["POST"])
def magic_request():
    form = MagicLinkForm(next=_next_from_address())
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            services.send_magic_link(form.email.data, form.next.data)
        if failed:
            form.email.errors.append(failed.message)
        else:
            return render_template("accounts/magic_sent.html", email=form.email.data.strip())
    return render_template("accounts/magic_request.html", form=form)


@bp.route("/login/link/<token>", methods=["GET", "POST"])
def magic(token: str):
    """GET shows a button; only the POST spends the link, so mail scanners cannot."""
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        with attempt(services.MagicLinkProblem) as failed:
            user, next_url = services.consume_magic_link(token)
        if failed:
            return _magic_problem(failed.error)
        sign_in_browser(user)
        flash(_("Du er logget ind."), "success")
        return redirect(next_url or landing_url(user))
    problem = services.check_magic_link(token)
    if problem is not None:
        return _magic_problem(problem)
    return render_template("accounts/magic_confirm.html", form=form)


def _magic_problem(problem: services.MagicLinkProblem):
    retry = MagicLinkForm(email=problem.email or "", formdata=None)
    return render_template("accounts/magic_problem.html", reason=problem.reason,
                           form=retry), problem.status_code


def _forgetsign_in_browser() -> None:
    """This browser's cookie forgets the user; the language choice survives."""
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
        session.permanent = True


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        services.sign_out(current_user)
    _forgetsign_in_browser()
    flash(_("Du er logget ud."), "info")
    return redirect(url_for("events.index"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = PasswordForm()
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            services.set_password(current_user, form.password.data)
        if failed:
            form.password.errors.append(failed.message)
        else:
            flash(_("Din adgangskode er gemt. Andre steder er du logget ud."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form, action_form=ActionForm(),
                           sign_ins=services.sign_ins(current_user))


@bp.post("/account/sign-ins/<int:sign_in_id>/logout")
@login_required
def logout_browser(sign_in_id: int):
    """Sign out one browser, e.g. a shared computer left signed in."""
    if services.sign_out_browser(current_user, sign_in_id):
        _forgetsign_in_browser()
        flash(_("Du er logget ud."), "info")
        return redirect(url_for("events.index"))
    flash(_("Den browser er logget ud."), "info")
    return redirect(url_for("accounts.account") + "#sign-ins-heading")


@bp.post("/account/logout-everywhere")
@login_required
def logout_everywhere():
    services.sign_out_everywhere(current_user)
    _forgetsign_in_browser()
    flash(_("Du er logget ud alle steder."), "info")
    return redirect(url_for("accounts.login"))
