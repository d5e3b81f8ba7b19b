"""Organizers build the programme: rooms, tracks, sessions, import, PDF."""

from __future__ import annotations

from itertools import groupby

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from eventhub import audit
from eventhub.errors import NotFound, ValidationError
from eventhub.events import services as events
from eventhub.events.hooks import staff_blueprint
from eventhub.events.models import ORGANIZER
from eventhub.forms import ActionForm
from eventhub.programme import imports, people, places, services
from eventhub.programme.forms import ProgrammeImportForm, RoomForm, SessionForm, TrackForm
from eventhub.programme.models import KIND_LABELS, Session
from eventhub.timeutil import from_local, to_local
from eventhub.transactions import attempt
from eventhub.uploads import read_csv_upload

bp = staff_blueprint("manage_programme", __name__, "/manage/e/<slug>/programme")



def _event(slug: str):
    return events.get_event_for(slug, current_user, ORGANIZER)


def _index_page(event, room_form=None, track_form=None, status=200):
    room_form = room_form or RoomForm(formdata=None)
    track_form = track_form or TrackForm(formdata=None)
    for form, prefix in ((room_form, "room"), (track_form, "track")):  # unique ids
        for field in form:
            field.id = field.label.field_id = f"{prefix}-{field.name}"
    sessions = services.list_sessions(event)
    days = [(day, list(items)) for day, items in groupby(
        sessions, key=lambda s: to_local(s.starts_at).date())]
    return render_template(
        "programme/manage_index.html", event=event, days=days, rooms=services.rooms(event),
        tracks=services.tracks(event), room_form=room_form, track_form=track_form,
        kind_labels=KIND_LABELS,
        action_form=ActionForm(),
    ), status


@bp.get("/")
def index(slug: str):
    return _index_page(_event(slug))


def _add(slug: str, form, save, done: str, field: str):
    """Add a room or a track; problems go back to the overview beside the field."""
    event = _event(slug)
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            save(event, form)
        if failed:
            form[failed.error.field or "name"].errors = [failed.message]
        else:
            audit.record(current_user, event, "programme.edit", field.removesuffix("_form"))
            flash(done, "success")
            return redirect(url_for(".index", slug=slug))
    return _index_page(event, status=422, **{field: form})


@bp.post("/rooms")
def add_room(slug: str):
    return _add(slug, RoomForm(), lambda event, form: services.save_room(
        current_user, event, form.name.data, form.capacity.data),
        _("Lokalet er tilføjet."), "room_form")


@bp.post("/tracks")
def add_track(slug: str):
    return _add(slug, TrackForm(), lambda event, form: services.save_track(
        current_user, event, form.name.data, form.colour.data or ""),
        _("Sporet er tilføjet."), "track_form")


# Rooms and tracks: change, delete (asking where their sessions go) --------------------

PLACES = {
    "room": (services.get_room, RoomForm, places.delete_room, "room_id"),
    "track": (services.get_track, TrackForm, places.delete_track, "track_id"),
}


def _place(event, kind: str, place_id: int):
    if kind not in PLACES:
        raise NotFound(_("Siden findes ikke."))
    try:
        return PLACES[kind][0](event, place_id)
    except ValidationError as exc:
        raise NotFound(exc.message) from None


@bp.route("/rooms/<int:place_id>", methods=["GET", "POST"], defaults={"kind": "room"})
@bp.route("/tracks/<int:place_id>", methods=["GET", "POST"], defaults={"kind": "track"})
def edit_place(slug: str, kind: str, place_id: int):
    """Rename a room (or change its seats), rename or recolour a track."""
    event = _event(slug)
    place = _place(event, kind, place_id)
    form_class = PLACES[kind][1]
    data = {"name": place.name, **({"capacity": place.capacity} if kind == "room"
                                   else {"colour": place.colour})}
    form = form_class(data=data) if request.method == "GET" else form_class()
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            if kind == "room":
                services.save_room(current_user, event, form.name.data, form.capacity.data,
                                   place)
            else:
                services.save_track(current_user, event, form.name.data,
                                    form.colour.data or "", place)
            audit.record(current_user, event, "programme.edit", f"{kind} #{place.id} edit")
        if not failed:
            flash(_("Ændringerne er gemt."), "success")
            return redirect(url_for(".index", slug=slug))
        form[failed.error.field or "name"].errors = [failed.message]
    return render_template("programme/manage_place.html", event=event, kind=kind,
                           place=place, form=form, in_use=len(places.sessions_in(
                               event, getattr(Session, PLACES[kind][3]), place.id))), \
        200 if request.method == "GET" else 422


@bp.route("/rooms/<int:place_id>/delete", methods=["GET", "POST"],
          defaults={"kind": "room"})
@bp.route("/tracks/<int:place_id>/delete", methods=["GET", "POST"],
          defaults={"kind": "track"})
def delete_place(slug: str, kind: str, place_id: int):
    """Delete a room or track; when sessions use it, ask where they go."""
    event = _event(slug)
    place = _place(event, kind, place_id)
    form = ActionForm()
    problem = ""
    if request.method == "POST" and form.validate_on_submit():
        with attempt(places.PlaceInUse, ValidationError) as failed:
            moved = PLACES[kind][2](current_user, event, place,
                                    request.form.get("move_to") or None)
        if not failed:
            flash(ngettext("\"%(name)s\" er slettet; %(num)d programpunkt er flyttet.",
                           "\"%(name)s\" er slettet; %(num)d programpunkter er flyttet.",
                           moved, name=place.name) if moved
                  else _("\"%(name)s\" er slettet.", name=place.name), "success")
            return redirect(url_for(".index", slug=slug))
        problem = failed.message
    sessions = places.sessions_in(event, getattr(Session, PLACES[kind][3]), place.id)
    others = [p for p in (services.rooms(event) if kind == "room" else services.tracks(event))
              if p.id != place.id]
    status = 200 if request.method == "GET" else (409 if sessions else 422)
    return render_template("programme/manage_place_delete.html", event=event, kind=kind,
                           place=place, sessions=sessions, others=others, form=form,
                           problem=problem, chosen=request.form.get("move_to", "")), status


def _form(event, session=None) -> SessionForm:
    if request.method == "GET" and session is not None:
        form = SessionForm(data={
            "title": session.title, "kind": session.kind,
            "starts_at": to_local(session.starts_at).replace(tzinfo=None),
            "ends_at": to_local(session.ends_at).replace(tzinfo=None),
            "room_id": str(session.room_id or ""), "track_id": str(session.track_id or ""),
            "description": session.description, "signup_capacity": session.signup_capacity,
            "title_en": session.title_en, "description_en": session.description_en,
            "person_ids": [s.event_speaker_id for s in session.speakers
                           if s.event_speaker_id],
            "speaker_ids": [s.registration_id for s in session.speakers
                            if s.registration_id and not s.event_speaker_id],
            "external_speakers": "\n".join(
                f"{s.name}; {s.organization}" if s.organization else s.name
                for s in session.speakers if not s.registration_id
                and not s.event_speaker_id),
        })
    else:
        form = SessionForm()
    form.set_choices(services.rooms(event), services.tracks(event),
                     services.speaker_choices(event), people.speakers(event))
    return form


def _data(form: SessionForm) -> services.SessionData:
    speakers = [services.SpeakerData("", "", None, pid) for pid in form.person_ids.data or []]
    speakers += [services.SpeakerData("", "", rid) for rid in form.speaker_ids.data or []]
    for line in (form.external_speakers.data or "").splitlines():
        name, _sep, org = line.partition(";")
        if name.strip():
            speakers.append(services.SpeakerData(name.strip(), org.strip()))
    return services.SessionData(
        title=form.title.data or "", kind=form.kind.data,
        starts_at=from_local(form.starts_at.data), ends_at=from_local(form.ends_at.data),
        room_id=int(form.room_id.data) if form.room_id.data else None,
        track_id=int(form.track_id.data) if form.track_id.data else None,
        description=form.description.data or "", signup_capacity=form.signup_capacity.data,
        speakers=speakers, title_en=form.title_en.data or "",
        description_en=form.description_en.data or "",
    )


def _edit(slug: str, session_id: int | None):
    event = _event(slug)
    session = services.get_session(event, session_id) if session_id else None
    form = _form(event, session)
    warnings: list[str] = []
    if form.validate_on_submit():
        with attempt(services.SessionProblems) as failed:
            saved = services.save_session(current_user, event, _data(form),
                                          confirmed=bool(form.confirm_warnings.data),
                                          session=session, notify=not form.quiet.data)
            audit.record(current_user, event, "programme.edit",
                         f"session #{saved.id} {'edit' if session else 'add'}")
        if failed:
            problems = failed.error
            for error in problems.errors:
                target = form[error.field] if error.field in form else form.title
                target.errors = list(target.errors) + [error.message]
            warnings = problems.warnings
        else:
            flash(_("Programpunktet er gemt."), "success")
            return redirect(url_for(".index", slug=slug))
    status = 200 if request.method == "GET" else 422
    return render_template("programme/manage_session.html", event=event, form=form,
                           session=session, warnings=warnings,
                           audience=services.audience_of(event, session) if session else 0
                           ), status


@bp.route("/sessions/new", methods=["GET", "POST"])
def new_session(slug: str):
    return _edit(slug, None)


@bp.route("/sessions/<int:session_id>", methods=["GET", "POST"])
def edit_session(slug: str, session_id: int):
    return _edit(slug, session_id)


@bp.get("/sessions/<int:session_id>/<any(cancel, reinstate):action>")
def confirm_cancel(slug: str, session_id: int, action: str):
    """Cancelling or reinstating asks first: who will hear about it, and whether they
    should."""
    event = _event(slug)
    session = services.get_session(event, session_id)
    return render_template("programme/manage_cancel.html", event=event, session=session,
                           cancel=action == "cancel", form=ActionForm(),
                           audience=services.audience_of(event, session))


@bp.post("/sessions/<int:session_id>/<action>")
def session_action(slug: str, session_id: int, action: str):
    event = _event(slug)
    session = services.get_session(event, session_id)
    if action == "duplicate":
        copy = services.duplicate_session(current_user, event, session)
        audit.record(current_user, event, "programme.edit", f"session #{copy.id} duplicate")
        flash(_("Kopien er oprettet. Ret tid og lokale."), "success")
        return redirect(url_for(".edit_session", slug=slug, session_id=copy.id))
    if action in ("cancel", "reinstate"):
        services.set_cancelled(current_user, event, session, action == "cancel",
                               notify=request.form.get("quiet") != "1")
        audit.record(current_user, event, "programme.edit", f"session #{session.id} {action}")
        flash(_("Programpunktet er aflyst. Det vises stadig, markeret som aflyst.")
              if action == "cancel" else _("Programpunktet er genindsat."), "success")
    return redirect(url_for(".index", slug=slug))


@bp.route("/import", methods=["GET", "POST"])
def import_sessions(slug: str):
    event = _event(slug)
    form = ProgrammeImportForm()
    report = None
    text = form.csv_text.data or "" if request.method == "POST" else ""
    valid = form.validate_on_submit()
    upload = form.file.data
    if valid and upload and getattr(upload, "filename", ""):
        try:
            text = read_csv_upload(upload, imports.MAX_BYTES)
        except ValidationError as exc:
            form.file.errors = [exc.message]
            text = ""
    if valid and text.strip():
        if request.form.get("confirm"):
            with attempt(ValidationError) as failed:
                count = imports.run_import(current_user, event, text)
            if failed:
                flash(failed.message, "error")
            else:
                flash(ngettext("%(num)d programpunkt er importeret.",
                               "%(num)d programpunkter er importeret.", count), "success")
                return redirect(url_for(".index", slug=slug))
        report = imports.parse(current_user, event, text)
    return render_template("programme/manage_import.html", event=event, form=form,
                           report=report, text=text)


@bp.get("/programme.pdf")
def pdf(slug: str):
    from eventhub.programme.documents import programme_pdf

    event = events.get_event_for(slug, current_user)
    return Response(programme_pdf(event), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="program-{event.slug}.pdf"'})
