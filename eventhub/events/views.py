"""Public event pages and the organizers' event setup."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from eventhub import audit
from eventhub.errors import ValidationError
from eventhub.events import cloning, publishing, services
from eventhub.events.forms import (
    EventForm,
    InviteForm,
    attach_errors,
    role_choices,
    status_choices,
)
from eventhub.events.hooks import EVENT_MANAGE, EVENT_PUBLIC, render_panels
from eventhub.events.models import DRAFT, ORGANIZER, Event
from eventhub.forms import ActionForm
from eventhub.timeutil import from_local, to_local
from eventhub.transactions import attempt

bp = Blueprint("events", __name__)
manage_bp = Blueprint("manage", __name__, url_prefix="/manage")


@bp.get("/")
def index():
    return render_template("events/index.html", events=services.published_events())


@bp.get("/e/<slug>")
def event_page(slug: str):
    event = services.get_event(slug, current_user)
    is_staff = services.is_staff(current_user, event)
    return render_template(
        "events/event.html",
        event=event,
        is_staff=is_staff,
        editions=cloning.editions(event, public_only=not is_staff),
        panels=render_panels(EVENT_PUBLIC, event, current_user),
    )


@bp.get("/organizations/search")
def organization_search():
    """Suggestions for the organization field, as JSON."""
    query = request.args.get("q", "")[:100]
    return jsonify(
        [
            {"name": org.name, "kind": org.kind, "code": org.code}
            for org in services.search_organizations(query)
        ]
    )


# Organizers -------------------------------------------------------------------------------


@manage_bp.get("/")
@login_required
def home():
    return render_template(
        "events/manage_home.html",
        events=services.events_for_staff(current_user),
        can_create=services.can_create_events(current_user),
        status_labels=dict(status_choices()),
    )


def _form_to_data(form: EventForm) -> services.EventData:
    slug = (form.slug.data or "").strip().lower() or services.slugify(form.title.data or "")
    return services.EventData(
        title=form.title.data or "",
        slug=slug,
        description=form.description.data or "",
        venue=form.venue.data or "",
        starts_at=from_local(form.starts_at.data),
        ends_at=from_local(form.ends_at.data),
        capacity=form.capacity.data,
        registration_opens_at=from_local(form.registration_opens_at.data),
        registration_closes_at=from_local(form.registration_closes_at.data),
        directory_open_until=form.directory_open_until.data,
        retention_until=form.retention_until.data,
        requires_approval=bool(form.requires_approval.data),
        privacy_notice=form.privacy_notice.data or "",
        language=form.language.data or "da",
        title_en=form.title_en.data or "",
        description_en=form.description_en.data or "",
        contact_name=form.contact_name.data or "",
        contact_email=form.contact_email.data or "",
    )


@manage_bp.route("/events/new", methods=["GET", "POST"])
@login_required
def create_event():
    if not services.can_create_events(current_user):
        abort(403)
    form = EventForm()
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            event = services.create_event(current_user, _form_to_data(form))
        if not failed:
            flash(_("Arrangementet er oprettet."), "success")
            return redirect(url_for("manage.event", slug=event.slug))
        attach_errors(form, failed.error)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("events/edit.html", form=form, event=None), status


@manage_bp.get("/e/<slug>")
@login_required
def event(slug: str):
    ev = services.get_event_for(slug, current_user)
    return _manage_page(ev, InviteForm(formdata=None))


def _manage_page(ev: Event, invite_form: InviteForm, status: int = 200):
    return render_template(
        "events/manage_event.html",
        event=ev,
        staff=services.event_staff(ev),
        invite_form=invite_form,
        action_form=ActionForm(),
        can_organize=services.has_role(current_user, ev, ORGANIZER),
        panels=render_panels(EVENT_MANAGE, ev, current_user),
        role_labels=dict(role_choices()),
        status_labels=dict(status_choices()),
        missing=publishing.missing(ev) if ev.status == DRAFT else [],
    ), status


def _event_to_form_data(ev: Event) -> dict:
    return {
        "title": ev.title, "slug": ev.slug, "description": ev.description, "venue": ev.venue,
        "starts_at": _naive_local(ev.starts_at), "ends_at": _naive_local(ev.ends_at),
        "capacity": ev.capacity,
        "registration_opens_at": _naive_local(ev.registration_opens_at),
        "registration_closes_at": _naive_local(ev.registration_closes_at),
        "directory_open_until": ev.directory_open_until,
        "retention_until": ev.retention_until, "requires_approval": ev.requires_approval,
        "privacy_notice": ev.privacy_notice, "language": ev.language,
        "title_en": ev.title_en, "description_en": ev.description_en,
        "contact_name": ev.contact_name, "contact_email": ev.contact_email,
    }


def _naive_local(value):
    local = to_local(value)
    return local.replace(tzinfo=None) if local else None


@manage_bp.route("/e/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str):
    ev = services.get_event_for(slug, current_user, ORGANIZER)
    form = EventForm(data=_event_to_form_data(ev)) if request.method == "GET" else EventForm()
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            services.update_event(current_user, ev, _form_to_data(form),
                                  notify=not form.quiet.data)
        if not failed:
            flash(_("Ændringerne er gemt."), "success")
            return redirect(url_for("manage.event", slug=ev.slug))
        attach_errors(form, failed.error)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("events/edit.html", form=form, event=ev,
                           audience=publishing.registered_count(ev) if ev.is_public else 0
                           ), status


@manage_bp.get("/e/<slug>/log")
@login_required
def log(slug: str):
    """The event's audit log, newest first, a page at a time (organizers)."""
    ev = services.get_event_for(slug, current_user, ORGANIZER)
    page = audit.entries_for(ev, request.args.get("page", 1, type=int) or 1)
    return render_template("events/log.html", event=ev, log=page)


@manage_bp.post("/e/<slug>/staff")
@login_required
def invite(slug: str):
    ev = services.get_event_for(slug, current_user, ORGANIZER)
    form = InviteForm()
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            services.invite_staff(current_user, ev, form.email.data, form.role.data,
                                  form.name.data or "")
        if not failed:
            flash(_("Invitationen er sendt til %(email)s.", email=form.email.data.strip()),
                  "success")
            return redirect(url_for("manage.event", slug=ev.slug))
        field = form[failed.error.field] if failed.error.field in form else form.email
        field.errors = list(field.errors) + [failed.message]
    return _manage_page(ev, form, 422)


@manage_bp.post("/e/<slug>/staff/<int:role_id>/remove")
@login_required
def remove_staff(slug: str, role_id: int):
    ev = services.get_event_for(slug, current_user, ORGANIZER)
    with attempt(ValidationError) as failed:
        services.remove_staff(current_user, ev, role_id)
    if failed:
        flash(failed.message, "error")
    else:
        flash(_("Rollen er fjernet."), "success")
    return redirect(url_for("manage.event", slug=ev.slug))
