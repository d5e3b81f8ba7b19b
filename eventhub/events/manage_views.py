"""Organizer pages that change what an event is: publish through the checklist, make it
a draft again, close registration, archive; clone it into a new edition; its cover
picture, logo and directions."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from eventhub import images
from eventhub.errors import ValidationError
from eventhub.events import cloning, pictures, publishing
from eventhub.events import services as events
from eventhub.events.forms import CloneForm, PicturesForm, attach_errors
from eventhub.events.hooks import staff_blueprint
from eventhub.events.models import ORGANIZER
from eventhub.forms import ActionForm
from eventhub.transactions import attempt

bp = staff_blueprint("manage_event", __name__, "/manage/e/<slug>")


def _event(slug: str):
    return events.get_event_for(slug, current_user, ORGANIZER)


@bp.route("/publish", methods=["GET", "POST"])
def publish(slug: str):
    """The checklist, and the button that publishes when nothing is missing."""
    event = _event(slug)
    form = ActionForm()
    failed = None
    if request.method == "POST" and form.validate_on_submit():
        with attempt(publishing.NotReady, ValidationError) as failed:
            publishing.publish(current_user, event)
        if not failed:
            flash(_("%(title)s er offentliggjort.", title=event.title), "success")
            return redirect(url_for("manage.event", slug=slug))
    status = 422 if failed else 200
    return render_template("events/publish.html", event=event, form=form,
                           checks=publishing.checklist(event),
                           problem=failed.message if failed else ""), status


@bp.route("/unpublish", methods=["GET", "POST"])
def unpublish(slug: str):
    """Make the event a draft again; with people registered, after a warning."""
    event = _event(slug)
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        with attempt(publishing.NeedsConfirmation) as failed:
            publishing.unpublish(current_user, event,
                                 confirmed=request.form.get("confirm") == "y")
        if not failed:
            flash(_("%(title)s er nu en kladde og kun synlig for holdet.", title=event.title),
                  "success")
            return redirect(url_for("manage.event", slug=slug))
    registered = publishing.registered_count(event)
    status = 409 if request.method == "POST" else 200
    return render_template("events/unpublish.html", event=event, form=form,
                           registered=registered,
                           warning=publishing.NeedsConfirmation(registered).message
                           if registered else ""), status


@bp.post("/status/<move>")
def status(slug: str, move: str):
    """Close registration, open it again, archive, take out of the archive."""
    event = _event(slug)
    if not ActionForm().validate_on_submit():
        raise ValidationError(_("Formularen er udløbet. Prøv igen."))
    with attempt(ValidationError) as failed:
        publishing.move(current_user, event, move)
    flash(failed.message if failed else _("Status er ændret."), "error" if failed else "success")
    return redirect(url_for("manage.event", slug=slug))


@bp.route("/clone", methods=["GET", "POST"])
def clone(slug: str):
    """A new edition: title and first day; the rest is copied (never people's data)."""
    event = _event(slug)
    if request.method == "GET":
        suggestion = cloning.suggested(event)
        form = CloneForm(data={"title": suggestion.title, "slug": suggestion.slug,
                               "starts_on": suggestion.starts_on, "with_staff": True})
    else:
        form = CloneForm()
    if form.validate_on_submit():
        data = cloning.CloneData(title=form.title.data or "", slug=form.slug.data or "",
                                 starts_on=form.starts_on.data,
                                 with_staff=bool(form.with_staff.data))
        with attempt(ValidationError) as failed:
            copy = cloning.clone_event(current_user, event, data)
        if not failed:
            flash(_("%(title)s er oprettet som kladde med programmet flyttet til den nye "
                    "dato. Se det efter, og offentliggør, når det er klar.", title=copy.title),
                  "success")
            return redirect(url_for("manage.event", slug=copy.slug))
        attach_errors(form, failed.error)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("events/clone.html", event=event, form=form), status


def _picture_change(form: PicturesForm, slot: str) -> pictures.PictureChange:
    """The form's picture slot, the upload checked and re-encoded (raises on a bad one)."""
    upload = form[slot].data
    new = None
    if upload is not None and getattr(upload, "filename", ""):
        new = images.prepare(upload, "cover" if slot == "cover" else "logo", slot)
    return pictures.PictureChange(new, bool(form[f"remove_{slot}"].data),
                                  form[f"{slot}_alt"].data or "")


@bp.route("/pictures", methods=["GET", "POST"])
def edit_pictures(slug: str):
    """Cover picture and logo (with their alt texts) and the directions."""
    event = _event(slug)
    if request.method == "GET":
        form = PicturesForm(data={"cover_alt": event.cover_alt, "logo_alt": event.logo_alt,
                                  "directions": event.directions})
    else:
        form = PicturesForm()
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            problems = []
            changes = {}
            for slot in ("cover", "logo"):
                try:
                    changes[slot] = _picture_change(form, slot)
                except ValidationError as exc:
                    problems.append(exc)
            if problems:
                raise events.EventValidationError(problems)
            pictures.set_pictures(current_user, event, changes["cover"], changes["logo"],
                                  form.directions.data or "")
        if not failed:
            flash(_("Billeder og vejvisning er gemt."), "success")
            return redirect(url_for("manage.event", slug=slug))
        attach_errors(form, failed.error)
        if form.cover.data or form.logo.data:
            form.form_errors.append(_("Intet er gemt. Vælg billedet igen, når du har rettet "
                                      "fejlen."))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("events/pictures.html", event=event, form=form), status
