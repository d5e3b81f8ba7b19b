"""The event's mail pages (scheduled mails, texts, messages to registrants) and the
public certificate pages (download from the personal link, verification by code)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from eventhub.errors import ValidationError
from eventhub.events import services as events
from eventhub.events.hooks import staff_blueprint
from eventhub.events.models import ORGANIZER
from eventhub.extensions import db
from eventhub.followup import mailing
from eventhub.followup.mailform import send_or_preview
from eventhub.messaging import certificates, rules, texts
from eventhub.messaging.forms import MessageForm, PreviewForm, RuleForm, TextForm
from eventhub.messaging.models import REMINDER, RULE_KINDS, RULE_LABELS, MailText
from eventhub.messaging.values import values_for
from eventhub.programme.services import list_sessions
from eventhub.registration.models import CONFIRMED, Registration
from eventhub.registration.services import by_manage_token
from eventhub.transactions import attempt

bp = staff_blueprint("messaging", __name__, "/manage/e/<slug>/mail")
public_bp = Blueprint("messaging_public", __name__)


def _event(slug: str, *roles: str):
    return events.get_event_for(slug, current_user, *(roles or (ORGANIZER,)))


def _participants(event) -> list[Registration]:
    return list(db.session.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.status == CONFIRMED)
        .order_by(Registration.name, Registration.id).limit(500)))


# --- scheduled mails ------------------------------------------------------------------

@bp.get("")
def index(slug: str):
    event = _event(slug)
    return _index(event, {})


def _index(event, forms: dict, status: int = 200):
    overview = rules.overview(current_user, event)
    for view in overview:
        forms.setdefault(view.rule.kind, RuleForm(
            formdata=None, prefix=view.rule.kind, enabled=view.rule.enabled,
            days_before=view.rule.days_before))
    return render_template(
        "messaging/index.html", event=event, overview=overview, forms=forms,
        labels=RULE_LABELS, key_labels=texts.KEY_LABELS, reminder=REMINDER,
        locales=("da", "en"), own={(t.key, t.locale) for t in _own_texts(event)}), status


def _own_texts(event):
    return db.session.scalars(select(MailText).where(MailText.event_id == event.id))


@bp.post("/rules/<kind>")
def save_rule(slug: str, kind: str):
    event = _event(slug)
    if kind not in RULE_KINDS:
        abort(404)
    form = RuleForm(prefix=kind)
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            rules.update_rule(current_user, event, kind, bool(form.enabled.data),
                              form.days_before.data)
        if not failed:
            flash(_("Gemt."), "success")
            return redirect(url_for(".index", slug=slug))
        form.days_before.errors = [failed.message]
    return _index(event, {kind: form}, 422)


@bp.get("/preview/<kind>")
def preview_rule(slug: str, kind: str):
    """The rule's mail as a chosen participant will get it."""
    event = _event(slug)
    rule = next((r for r in rules.ensure_rules(event) if r.kind == kind), None)
    if rule is None:
        abort(404)
    people = _participants(event)
    form = PreviewForm(request.args, meta={"csrf": False})
    form.registration.choices = [(str(r.id), r.name) for r in people]
    chosen = next((r for r in people if str(r.id) == (form.registration.data or "")),
                  people[0] if people else None)
    built = rules.rule_mail(rule, chosen) if chosen else None
    shown = None
    if built is not None:  # the person's secret links stay theirs: shown shortened
        secrets = [chosen.manage_token, built.unsubscribe_url.rstrip("/").rsplit("/", 1)[1]]
        shown = [built.rendered[0], built.rendered[1]]
        for secret in secrets:
            shown[1] = shown[1].replace(secret, secret[:4] + "…")
    return render_template("messaging/preview.html", event=event, form=form, kind=kind,
                           label=RULE_LABELS[kind], built=built, shown=shown, chosen=chosen)


# --- texts -----------------------------------------------------------------------------

@bp.route("/texts/<key>/<locale>", methods=["GET", "POST"])
def edit_text(slug: str, key: str, locale: str):
    event = _event(slug)
    if key not in texts.KEY_LABELS or locale not in ("da", "en"):
        abort(404)
    subject, body = texts.text_of(event, key, locale)
    form = TextForm(data={"subject": subject, "body": body}) if request.method == "GET" \
        else TextForm()
    preview, status = None, 200
    if form.validate_on_submit():
        action = request.form.get("action")
        with attempt(ValidationError) as failed:
            if action == "reset":
                texts.reset(current_user, event, key, locale)
                flash(_("Standardteksten bruges igen."), "success")
                return redirect(url_for(".edit_text", slug=slug, key=key, locale=locale))
            if action == "save":
                texts.save(current_user, event, key, locale, form.subject.data,
                           form.body.data)
                flash(_("Teksten er gemt."), "success")
                return redirect(url_for(".index", slug=slug))
            clean = texts.check(key, form.subject.data, form.body.data)
            people = _participants(event)
            values = values_for(event, people[0], locale) if people else {}
            preview = texts.render(*clean, {**texts.preview_values(key), **values})
        if failed:
            target = form[failed.error.field] if failed.error.field in form else form.body
            target.errors = list(target.errors) + [failed.message]
            status = 422
    elif form.is_submitted():
        status = 422
    return render_template(
        "messaging/text.html", event=event, form=form, key=key, locale=locale,
        label=texts.KEY_LABELS[key], placeholders=texts.placeholders(key), preview=preview,
        own=texts.own_text(event.id, key, locale) is not None), status


# --- messages to registrants -------------------------------------------------------------

def _message_form(event) -> MessageForm:
    form = MessageForm()
    form.segment.choices = [(k, str(v)) for k, v in mailing.SEGMENTS.items()
                            if k != mailing.INTERESTED]  # (the follow-up's own segment)
    form.solution.choices = [("", _("Vælg"))]
    form.session.choices = [("", _("Vælg"))] + [
        (str(s.id), s.display_title) for s in list_sessions(event, include_cancelled=False)
        if s.has_signup]
    form.registrations.choices = [(r.id, f"{r.name}" + (f" ({r.organization.name})"
                                                        if r.organization else ""))
                                  for r in _participants(event)]
    return form


@bp.route("/messages", methods=["GET", "POST"])
def messages(slug: str):
    event = _event(slug)
    form = _message_form(event)
    preview, status = None, 200
    if form.validate_on_submit():
        data = mailing.MailData(
            segment=form.segment.data, subject=form.subject.data, body=form.body.data,
            org_kind=form.org_kind.data or "", status=form.status.data or "",
            session_id=int(form.session.data) if form.session.data else None,
            registration_ids=list(form.registrations.data or []), kind=mailing.MESSAGE)
        done, preview, status = send_or_preview(
            event, form, data, lambda n: ngettext(
                "Beskeden er lagt i udbakken til %(num)d modtager.",
                "Beskeden er lagt i udbakken til %(num)d modtagere.", n),
            url_for(".messages", slug=slug))
        if done:
            return done
    elif form.is_submitted():
        status = 422
    return render_template(
        "messaging/messages.html", event=event, form=form, preview=preview,
        placeholders=mailing.PLACEHOLDERS, segments=mailing.SEGMENTS,
        mailings=mailing.mailings(current_user, event, mailing.MESSAGE)), status


# --- certificates (public) ----------------------------------------------------------------

@public_bp.get("/r/<token>/certificate.pdf")
def certificate(token: str):
    reg = by_manage_token(token)
    if not certificates.has_certificate(reg):
        return render_template("messaging/no_certificate.html", event=reg.event, reg=reg), 404
    return Response(certificates.certificate_pdf(reg), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="deltagerbevis-{reg.event.slug}.pdf"',
        "Cache-Control": "private, no-store"})


@public_bp.get("/c/<code>")
def verify(code: str):
    """Anyone with the code sees that this name attended this event."""
    reg = certificates.registration_for_code(code)
    return render_template("messaging/verify.html", reg=reg, event=reg.event)


def manage_panel(event, user) -> dict | None:
    return {} if events.has_role(user, event, ORGANIZER) else None


def participant_panel(reg, user) -> dict | None:
    """On "Mine arrangementer": the certificate, once checked in."""
    if not certificates.has_certificate(reg):
        return None
    return {"certificate_url": url_for("messaging_public.certificate",
                                       token=reg.manage_token)}

