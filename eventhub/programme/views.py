"""The public programme, session pages, "my day" and calendar feeds."""

from __future__ import annotations

from datetime import timedelta
from itertools import groupby

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from eventhub.accounts.services import safe_next_url
from eventhub.db import utcnow
from eventhub.errors import NotFound
from eventhub.events import hooks
from eventhub.events import services as events
from eventhub.forms import ActionForm
from eventhub.programme import agenda, calendars, people, services
from eventhub.programme.models import CANCELLED, KIND_LABELS, Session
from eventhub.registration.participants import current_registration
from eventhub.timeutil import to_local
from eventhub.transactions import attempt

bp = Blueprint("programme", __name__, url_prefix="/e/<slug>")


def public_panel(event, user) -> dict | None:
    return {} if services.has_sessions(event) else None


def manage_panel(event, user) -> dict | None:
    return {} if events.has_role(user, event, "organizer") else None


def _ics(body: bytes, filename: str) -> Response:
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'inline; filename="{filename}"',
        "Cache-Control": "private, max-age=300"})


NEXT_WITHIN = timedelta(hours=12)


def mark_now_and_next(sessions: list[Session]) -> tuple[set[int], int | None]:
    """Sessions running now, and the first one still to start within the next 12 hours
    (not only the same calendar day: a session after midnight is next at 23:45)."""
    now = utcnow()
    live = [s for s in sessions if s.status != CANCELLED]
    running = {s.id for s in live if s.starts_at <= now < s.ends_at}
    upcoming = sorted((s for s in live if now < s.starts_at <= now + NEXT_WITHIN),
                      key=lambda s: s.starts_at)
    return running, (upcoming[0].id if upcoming else None)


@bp.get("/programme")
def programme(slug: str):
    event = events.get_event(slug, current_user)
    sessions = services.list_sessions(event)
    track = request.args.get("track", type=int)
    room = request.args.get("room", type=int)
    shown = [s for s in sessions if (not track or s.track_id == track)
             and (not room or s.room_id == room)]
    days = [(day, list(items)) for day, items in groupby(
        shown, key=lambda s: to_local(s.starts_at).date())]
    running, upcoming = mark_now_and_next(shown)
    reg = current_registration(event)
    grid = request.args.get("view") == "grid"
    return render_template(
        "programme/programme_grid.html" if grid else "programme/programme.html",
        event=event, days=days, rooms=services.rooms(event), tracks=services.tracks(event),
        track=track, room=room, running=running, upcoming=upcoming, reg=reg,
        starred=agenda.starred_ids(reg), signups=agenda.signups_of(reg),
        kind_labels=KIND_LABELS, form=ActionForm(),
        grid_rows=_grid(shown, services.rooms(event)) if grid else None,
    )


def _grid(sessions: list[Session], rooms) -> list[tuple[str, list[list[Session]]]]:
    """Rows of start times, one cell per room (plus one for sessions without a room)."""
    columns = [r.id for r in rooms] + [None]
    rows = []
    for start, items in groupby(sessions, key=lambda s: s.starts_at):
        items = list(items)
        cells = [[s for s in items if s.room_id == col] for col in columns]
        rows.append((start, cells))
    return rows


@bp.get("/programme/<int:session_id>")
def session_page(slug: str, session_id: int):
    event = events.get_event(slug, current_user)
    session = services.get_session(event, session_id)
    reg = current_registration(event)
    signups = agenda.signups_of(reg)
    return render_template(
        "programme/session.html", event=event, s=session, reg=reg,
        starred=session.id in agenda.starred_ids(reg), signup=signups.get(session.id),
        seats_taken=agenda.seats_taken(session) if session.has_signup else None,
        kind_labels=KIND_LABELS, form=ActionForm(), started=session.starts_at <= utcnow(),
        panels=hooks.render_panels(hooks.SESSION, session, reg),
    )


@bp.get("/speakers")
def speakers(slug: str):
    """The event's speakers, each with a page of their own."""
    event = events.get_event(slug, current_user)
    return render_template("programme/speakers.html", event=event,
                           speakers=people.speakers(event))


@bp.get("/speakers/<int:speaker_id>")
def speaker_page(slug: str, speaker_id: int):
    """One speaker: who they are and their sessions."""
    event = events.get_event(slug, current_user)
    person = people.get_speaker(event, speaker_id)
    return render_template("programme/speaker.html", event=event, person=person,
                           sessions=people.sessions_of(person))


@bp.get("/programme.ics")
def programme_ics(slug: str):
    event = events.get_event(slug, current_user)
    body = calendars.calendar_bytes(event, services.list_sessions(event), event.title)
    return _ics(body, f"{event.slug}.ics")


@bp.get("/programme/<int:session_id>.ics")
def session_ics(slug: str, session_id: int):
    event = events.get_event(slug, current_user)
    session = services.get_session(event, session_id)
    return _ics(calendars.calendar_bytes(event, [session], session.title),
                f"{event.slug}-{session.id}.ics")


def _need_registration(event):
    reg = current_registration(event)
    if reg is None:
        flash(_("Åbn dit personlige link fra tilmeldingsmailen, eller log ind med den "
                "e-mail, du tilmeldte dig med – så kan du vælge programpunkter."), "info")
    return reg


def _back(event, session_id: int | None = None):
    target = safe_next_url(request.form.get("back"))
    if target:
        return redirect(target)
    if session_id:
        return redirect(url_for(".session_page", slug=event.slug, session_id=session_id))
    return redirect(url_for(".programme", slug=event.slug))


@bp.post("/programme/<int:session_id>/<action>")
def session_action(slug: str, session_id: int, action: str):
    event = events.get_event(slug, current_user)
    session = services.get_session(event, session_id)
    reg = _need_registration(event)
    if reg is None:
        return redirect(url_for("accounts.login", next=request.form.get("back") or url_for(
            ".session_page", slug=slug, session_id=session_id)))
    with attempt() as failed:
        if action in ("star", "unstar"):
            agenda.set_star(reg, session, action == "star")
        elif action == "signup":
            signup = agenda.sign_up(reg, session)
            if signup.status == "signed_up":
                flash(_("Du er tilmeldt %(title)s.", title=session.title), "success")
            else:
                flash(_("%(title)s er fuld. Du står som nummer %(n)d på ventelisten.",
                        title=session.title, n=agenda.waiting_position(signup)), "info")
        elif action == "withdraw":
            agenda.withdraw(reg, session)
            flash(_("Du er afmeldt %(title)s.", title=session.title), "success")
    if failed:
        flash(failed.message, "error")
    return _back(event, session_id)


@bp.get("/my-day")
def my_day(slug: str):
    event = events.get_event(slug, current_user)
    reg = current_registration(event)
    if reg is None:
        return render_template("programme/my_day_anonymous.html", event=event)
    sessions = agenda.my_day(reg)
    feed = agenda.feed_for(reg)
    https = url_for(".agenda_feed", slug=slug, token=feed.token, _external=False)
    feed_url = current_app.config["BASE_URL"] + https
    return render_template(
        "programme/my_day.html", event=event, reg=reg, sessions=sessions,
        items=[i for i in agenda.day_items(reg) if i.shown],
        overlaps=agenda.overlaps(sessions), signups=agenda.signups_of(reg),
        feed_url=feed_url, webcal_url="webcal://" + feed_url.split("://", 1)[1],
        kind_labels=KIND_LABELS, form=ActionForm(),
    )


@bp.post("/my-day/feed/reset")
def reset_feed(slug: str):
    event = events.get_event(slug, current_user)
    reg = _need_registration(event)
    if reg is not None:
        agenda.reset_feed(reg)
        flash(_("Kalenderlinket er nulstillet. Det gamle link virker ikke længere."), "success")
    return redirect(url_for(".my_day", slug=slug))


@bp.get("/agenda/<token>.ics")
def agenda_feed(slug: str, token: str):
    reg = agenda.registration_by_feed(token)
    event = reg.event
    if event.slug != slug:
        raise NotFound(_("Kalenderen findes ikke. Linket kan være nulstillet."))
    body = calendars.calendar_bytes(event, agenda.my_day(reg),
                                    _("Min dag: %(title)s", title=event.title),
                                    [i for i in agenda.day_items(reg) if i.in_feed])
    return _ics(body, f"min-dag-{event.slug}.ics")
