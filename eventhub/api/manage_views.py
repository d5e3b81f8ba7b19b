"""Organizer pages: API tokens and webhook receivers of an event."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from eventhub.api import tokens, webhooks
from eventhub.api.forms import TokenForm, WebhookForm
from eventhub.events import services as events
from eventhub.events.hooks import staff_blueprint
from eventhub.events.models import ORGANIZER
from eventhub.forms import ActionForm
from eventhub.transactions import attempt

bp = staff_blueprint("manage_api", __name__, "/manage/e/<slug>")


def manage_panel(event, user) -> dict | None:
    if not events.has_role(user, event, ORGANIZER):
        return None
    return {}


def _event(slug: str):
    return events.get_event_for(slug, current_user, ORGANIZER)


def _tokens_page(event, form, new_secret=None, status=200):
    return render_template(
        "api/tokens.html", event=event, form=form, new_secret=new_secret,
        tokens=tokens.tokens_for(current_user, event), families=tokens.FAMILIES,
        action_form=ActionForm()), status


@bp.route("/api", methods=["GET", "POST"])
def api_tokens(slug: str):
    event = _event(slug)
    form = TokenForm()
    if form.validate_on_submit():
        with attempt() as failed:
            made = tokens.create_token(
                current_user, None if form.whole_organization.data else event,
                form.name.data, form.chosen_scopes(), for_event=event)
            secret = made.secret
        if not failed:
            return _tokens_page(event, TokenForm(formdata=None), new_secret=secret)
        form.form_errors.append(failed.message)
    return _tokens_page(event, form, status=400 if form.is_submitted() else 200)


@bp.post("/api/<int:token_id>/revoke")
def revoke_token(slug: str, token_id: int):
    event = _event(slug)
    if ActionForm().validate_on_submit():
        token = tokens.revoke(current_user, event, token_id)
        flash(_("Nøglen %(name)s er trukket tilbage.", name=token.name), "success")
    return redirect(url_for(".api_tokens", slug=slug))


def _types_default():
    return list(webhooks.EVENT_TYPES)


@bp.route("/webhooks", methods=["GET", "POST"])
def webhook_list(slug: str):
    event = _event(slug)
    form = WebhookForm()
    if not form.is_submitted():
        form.event_types.data = _types_default()
    if form.validate_on_submit():
        with attempt() as failed:
            endpoint = webhooks.create_endpoint(
                current_user, event, form.url.data, form.event_types.data or [],
                whole_organization=form.whole_organization.data)
            endpoint_id = endpoint.id
        if not failed:
            flash(_("Modtageren er gemt. Brug hemmeligheden herunder til at tjekke "
                    "signaturen."), "success")
            return redirect(url_for(".webhook_detail", slug=slug, endpoint_id=endpoint_id))
        _attach(form, failed.error)
    return render_template(
        "api/webhooks.html", event=event, form=form,
        endpoints=webhooks.endpoints_for(current_user, event),
        type_labels=webhooks.EVENT_TYPES), 400 if form.errors else 200


def _attach(form, error) -> None:
    target = getattr(form, error.field or "", None)
    if target is not None and hasattr(target, "errors"):
        target.errors = list(target.errors or []) + [error.message]
    else:
        form.form_errors.append(error.message)


@bp.route("/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
def webhook_detail(slug: str, endpoint_id: int):
    event = _event(slug)
    endpoint = webhooks.get_endpoint(current_user, event, endpoint_id)
    form = WebhookForm(obj=endpoint)
    if form.validate_on_submit():
        with attempt() as failed:
            webhooks.update_endpoint(current_user, event, endpoint, form.url.data,
                                     form.event_types.data or [], form.active.data)
        if not failed:
            flash(_("Modtageren er gemt."), "success")
            return redirect(url_for(".webhook_detail", slug=slug, endpoint_id=endpoint_id))
        _attach(form, failed.error)
        endpoint = webhooks.get_endpoint(current_user, event, endpoint_id)
    return render_template(
        "api/webhook.html", event=event, endpoint=endpoint, form=form,
        deliveries=webhooks.deliveries_of(endpoint), type_labels=webhooks.EVENT_TYPES,
        status_labels=webhooks.STATUS_LABELS, action_form=ActionForm()), \
        400 if form.errors else 200


@bp.post("/webhooks/<int:endpoint_id>/test")
def webhook_test(slug: str, endpoint_id: int):
    event = _event(slug)
    if ActionForm().validate_on_submit():
        webhooks.send_test(current_user, event,
                           webhooks.get_endpoint(current_user, event, endpoint_id))
        flash(_("En testbesked er sat i kø. Den sendes inden for få sekunder."), "success")
    return redirect(url_for(".webhook_detail", slug=slug, endpoint_id=endpoint_id))


@bp.post("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/again")
def webhook_again(slug: str, endpoint_id: int, delivery_id: int):
    event = _event(slug)
    if ActionForm().validate_on_submit():
        webhooks.redeliver(current_user, event,
                           webhooks.get_endpoint(current_user, event, endpoint_id), delivery_id)
        flash(_("Beskeden er sat i kø igen."), "success")
    return redirect(url_for(".webhook_detail", slug=slug, endpoint_id=endpoint_id))


@bp.post("/webhooks/<int:endpoint_id>/delete")
def webhook_delete(slug: str, endpoint_id: int):
    event = _event(slug)
    if ActionForm().validate_on_submit():
        webhooks.delete_endpoint(current_user, event,
                                 webhooks.get_endpoint(current_user, event, endpoint_id))
        flash(_("Modtageren er slettet."), "success")
    return redirect(url_for(".webhook_list", slug=slug))
