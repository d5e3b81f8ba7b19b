"""Organizers keep the event's speakers as people: name, job title, organization, a
short bio and a photo, a registration where they have one."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from eventhub import images
from eventhub.errors import ValidationError
from eventhub.events import services as events
from eventhub.events.forms import attach_errors
from eventhub.events.hooks import staff_blueprint
from eventhub.events.models import ORGANIZER
from eventhub.forms import ActionForm
from eventhub.programme import people, services
from eventhub.programme.forms import SpeakerForm
from eventhub.transactions import attempt

bp = staff_blueprint("manage_speakers", __name__, "/manage/e/<slug>/programme/speakers")


def _event(slug: str):
    return events.get_event_for(slug, current_user, ORGANIZER)


@bp.get("/")
def index(slug: str):
    event = _event(slug)
    found = people.speakers(event)
    return render_template("programme/manage_speakers.html", event=event, speakers=found,
                           sessions={p.id: people.sessions_of(p) for p in found})


def _data(form: SpeakerForm) -> people.PersonData:
    upload = form.photo.data
    photo = None
    if upload is not None and getattr(upload, "filename", ""):
        photo = images.prepare(upload, "photo", "photo")
    return people.PersonData(
        name=form.name.data or "", job_title=form.job_title.data or "",
        organization=form.organization.data or "", bio=form.bio.data or "",
        registration_id=int(form.registration_id.data) if form.registration_id.data else None,
        photo=photo, remove_photo=bool(form.remove_photo.data))


def _edit(slug: str, speaker_id: int | None):
    event = _event(slug)
    person = people.get_speaker(event, speaker_id) if speaker_id else None
    if request.method == "GET" and person is not None:
        form = SpeakerForm(data={
            "name": person.name, "job_title": person.job_title, "bio": person.bio,
            "organization": person.organization,
            "registration_id": str(person.registration_id or "")})
    else:
        form = SpeakerForm()
    form.set_choices(services.speaker_choices(event))
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            saved = people.save_speaker(current_user, event, _data(form), person)
        if not failed:
            flash(_("%(name)s er gemt.", name=saved.name), "success")
            return redirect(url_for(".index", slug=slug))
        attach_errors(form, failed.error)
        if form.photo.data and getattr(form.photo.data, "filename", ""):
            form.form_errors.append(_("Intet er gemt. Vælg fotoet igen, når du har rettet "
                                      "fejlen."))
    status = 200 if request.method == "GET" else 422
    return render_template("programme/manage_speaker.html", event=event, form=form,
                           person=person, action_form=ActionForm()), status


@bp.route("/new", methods=["GET", "POST"])
def new(slug: str):
    return _edit(slug, None)


@bp.route("/<int:speaker_id>", methods=["GET", "POST"])
def edit(slug: str, speaker_id: int):
    return _edit(slug, speaker_id)


@bp.post("/<int:speaker_id>/delete")
def delete(slug: str, speaker_id: int):
    event = _event(slug)
    person = people.get_speaker(event, speaker_id)
    if not ActionForm().validate_on_submit():
        raise ValidationError(_("Formularen er udløbet. Genindlæs siden, og prøv igen."))
    name = person.name
    people.delete_speaker(current_user, event, person)
    flash(_("%(name)s er fjernet fra arrangementet og dets programpunkter.", name=name),
          "success")
    return redirect(url_for(".index", slug=slug))
