"""Organizers prepare and run polls; the presenter view for the projector."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from eventhub import audit
from eventhub.accounts.services import safe_next_url
from eventhub.documents import render_pdf
from eventhub.errors import ValidationError
from eventhub.events import services as events
from eventhub.events.hooks import staff_blueprint
from eventhub.events.models import ORGANIZER
from eventhub.forms import ActionForm
from eventhub.polls import charts, services
from eventhub.polls.forms import PollForm
from eventhub.polls.live import join_url, notify_after_commit, sse_response
from eventhub.polls.models import CLOSED, KIND_LABELS, OPEN, OPEN_TEXT, STATUS_LABELS
from eventhub.polls.tally import snapshot
from eventhub.programme.services import list_sessions
from eventhub.transactions import attempt

bp = staff_blueprint("manage_polls", __name__, "/manage/e/<slug>/polls")


def manage_panel(event, user) -> dict | None:
    return {} if events.has_role(user, event, ORGANIZER) else None


def _event(slug: str):
    return events.get_event_for(slug, current_user, ORGANIZER)


@bp.get("/")
def index(slug: str):
    event = _event(slug)
    polls = services.polls_of(event)
    return render_template("polls/manage_index.html", event=event, polls=polls,
                           counts={p.id: services.answers_count(p) for p in polls},
                           kind_labels=KIND_LABELS, status_labels=STATUS_LABELS,
                           form=ActionForm(), join_url=join_url(event))


def _poll_form(event, poll=None) -> PollForm:
    if request.method == "GET" and poll is not None:
        form = PollForm(data={
            "question": poll.question, "kind": poll.kind,
            "options": "\n".join(("*" if o.correct else "") + o.label for o in poll.options),
            "max_choices": poll.max_choices, "scale_min": poll.scale_min,
            "scale_max": poll.scale_max, "banned_words": ", ".join(poll.banned_words or []),
            "session_id": str(poll.session_id or ""), "audience": poll.audience,
            "allow_change": poll.allow_change, "results_visible": poll.results_visible,
            "results_mode": poll.results_mode, "max_entries": poll.max_entries,
            "qa_names": poll.qa_names, "time_limit": poll.time_limit})
    else:
        form = PollForm()
    form.session_id.choices = [("", _("Ingen"))] + [
        (str(s.id), f"{s.title}") for s in list_sessions(event)]
    return form


def _edit(slug: str, poll_id: int | None):
    event = _event(slug)
    poll = services.get_poll(event, poll_id) if poll_id else None
    form = _poll_form(event, poll)
    if form.validate_on_submit():
        data = services.PollData(
            question=form.question.data, kind=form.kind.data,
            options=(form.options.data or "").splitlines(), max_choices=form.max_choices.data,
            scale_min=form.scale_min.data if form.scale_min.data is not None else 1,
            scale_max=form.scale_max.data if form.scale_max.data is not None else 5,
            audience=form.audience.data, allow_change=form.allow_change.data,
            results_visible=form.results_visible.data,
            banned_words=(form.banned_words.data or "").split(","),
            session_id=int(form.session_id.data) if form.session_id.data else None,
            results_mode=form.results_mode.data,
            max_entries=form.max_entries.data if form.max_entries.data is not None else 1,
            qa_names=form.qa_names.data, time_limit=form.time_limit.data)
        with attempt(ValidationError) as failed:
            services.save_poll(current_user, event, data, poll)
        if not failed:
            if poll is not None:
                notify_after_commit(poll_id, event.id)
            flash(_("Afstemningen er gemt."), "success")
            return redirect(url_for(".index", slug=slug))
        target = form[failed.error.field] if failed.error.field in form else form.question
        target.errors = list(target.errors) + [failed.message]
    return render_template("polls/manage_edit.html", event=event, form=form, poll=poll), \
        200 if request.method == "GET" else 422


@bp.route("/new", methods=["GET", "POST"])
def new(slug: str):
    return _edit(slug, None)


@bp.route("/<int:poll_id>", methods=["GET", "POST"])
def edit(slug: str, poll_id: int):
    return _edit(slug, poll_id)


@bp.route("/<int:poll_id>/delete", methods=["GET", "POST"])
def delete(slug: str, poll_id: int):
    """Delete a poll; one with answers after a confirmation (and in the activity log)."""
    event = _event(slug)
    poll = services.get_poll(event, poll_id)
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        with attempt(services.HasVotes) as failed:
            services.delete_poll(current_user, event, poll,
                                 confirmed=request.form.get("confirm") == "y")
        if not failed:
            flash(_("Afstemningen \"%(q)s\" er slettet.", q=poll.question), "success")
            return redirect(url_for(".index", slug=slug))
    answers = services.answers_count(poll)
    return render_template(
        "polls/manage_delete.html", event=event, poll=poll, form=form, answers=answers,
        warning=services.HasVotes(answers).message if answers else "",
    ), 409 if request.method == "POST" else 200


@bp.post("/<int:poll_id>/<action>")
def act(slug: str, poll_id: int, action: str):
    event = _event(slug)
    poll = services.get_poll(event, poll_id)
    if action in ("open", "close"):
        services.set_status(current_user, event, poll, OPEN if action == "open" else CLOSED)
    elif action in ("show", "hide"):
        services.set_results_visible(current_user, event, poll, action == "show")
    elif action == "reset":
        if request.form.get("confirm") != "yes":
            flash(_("Sæt flueben for at bekræfte, at alle stemmer skal slettes."), "error")
            return redirect(url_for(".edit", slug=slug, poll_id=poll_id))
        services.reset(current_user, event, poll)
    elif action == "duplicate":
        copy = services.duplicate(current_user, event, poll)
        flash(_("Kopien er oprettet som kladde."), "success")
        return redirect(url_for(".edit", slug=slug, poll_id=copy.id))
    else:
        abort(404)
    notify_after_commit(poll_id, event.id)
    if request.accept_mimetypes.best == "application/json":
        return {"ok": True, "status": poll.status, "results_visible": poll.results_visible}
    return redirect(safe_next_url(request.form.get("back")) or url_for(".index", slug=slug))


@bp.get("/<int:poll_id>/present")
def present(slug: str, poll_id: int):
    event = _event(slug)
    poll = services.get_poll(event, poll_id)
    return render_template("polls/present.html", event=event, poll=poll, form=ActionForm(),
                           join_url=join_url(event), status_labels=STATUS_LABELS,
                           **_results(poll))


@bp.get("/<int:poll_id>/moderate")
def moderate_page(slug: str, poll_id: int):
    """The moderator's queue: approve or reject before anything reaches the screen."""
    event = _event(slug)
    poll = services.get_poll(event, poll_id)
    return render_template("polls/moderate.html", event=event, poll=poll, form=ActionForm(),
                           presenter=True, moderate=True, **_results(poll))


def _results(poll) -> dict:
    snap = snapshot(poll)
    return {"snap": snap, "chart": charts.chart_for(snap, poll.question),
            "pending": services.pending(poll)}


@bp.get("/<int:poll_id>/results")
def results_fragment(slug: str, poll_id: int):
    """The results block alone, for the presenter view to swap in on each snapshot."""
    event = _event(slug)
    poll = services.get_poll(event, poll_id)
    return render_template("polls/_results.html", event=event, poll=poll, form=ActionForm(),
                           presenter=True, **_results(poll))


@bp.get("/<int:poll_id>/stream")
def results_stream(slug: str, poll_id: int):
    event = _event(slug)
    poll = services.get_poll(event, poll_id)
    return sse_response(poll.id, public=False)


@bp.post("/<int:poll_id>/moderate/<int:item_id>/<action>")
def moderate(slug: str, poll_id: int, item_id: int, action: str):
    event = _event(slug)
    poll = services.get_poll(event, poll_id)
    if poll.kind == OPEN_TEXT:
        services.moderate_text(current_user, event, poll, item_id, action == "approve")
    else:
        services.moderate_question(current_user, event, poll, item_id, action)
    notify_after_commit(poll_id)
    return redirect(safe_next_url(request.form.get("back"))
                    or url_for(".moderate_page", slug=slug, poll_id=poll_id))


def _export_rows(event, polls=None) -> list[list[str]]:
    rows = [[_("Afstemning"), _("Type"), _("Svar"), _("Antal")]]
    for poll in services.polls_of(event) if polls is None else polls:
        rows += _poll_rows(poll)
    return rows


def _poll_rows(poll) -> list[list[str]]:
    """A poll's results as rows: (question, kind, answer, count or points)."""
    snap, kind, rows = snapshot(poll), str(KIND_LABELS[poll.kind]), []
    for option in snap.get("options", []):
        mark = " ✓" if option["id"] in snap.get("correct", []) else ""
        rows.append([poll.question, kind, option["label"] + mark, str(option["count"])])
    for item in snap.get("ranking", []):
        rows.append([poll.question, kind, item["label"], _("%(n)d point, gns. plads %(avg)s",
                                                           n=item["points"],
                                                           avg=item["average"] or "–")])
    for word in snap.get("words", []):
        rows.append([poll.question, kind, word["word"], str(word["count"])])
    for text in snap.get("texts", []):
        rows.append([poll.question, kind, text["text"], "1"])
    for question in snap.get("questions", []):
        rows.append([poll.question, kind, question["text"], str(question["upvotes"])])
    if "average" in snap and snap["average"] is not None:
        rows.append([poll.question, kind, _("Gennemsnit"), str(snap["average"])])
    return rows


@bp.get("/<int:poll_id>/export.<fmt>")
def export_poll(slug: str, poll_id: int, fmt: str):
    """One poll's results during the event: CSV, Excel or PDF."""
    from eventhub.registration.exports import to_csv, to_xlsx

    event = _event(slug)
    poll = services.get_poll(event, poll_id)
    name = f"afstemning-{poll.id}"
    if fmt == "csv":
        body, mimetype = to_csv(_export_rows(event, [poll])), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body = to_xlsx(_export_rows(event, [poll]), _("Afstemning"))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "pdf":
        html = render_template("pdf/polls.html", event=event, kind_labels=KIND_LABELS,
                               results=[{"poll": poll, **_results(poll)}])
        body, mimetype = render_pdf(html), "application/pdf"
    else:
        abort(404)
    audit.record(current_user, event, "polls.export", fmt.upper())
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


@bp.get("/export.csv")
def export_csv(slug: str):
    from eventhub.registration.exports import to_csv

    event = _event(slug)
    audit.record(current_user, event, "polls.export", "CSV")
    return Response(to_csv(_export_rows(event)), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="afstemninger-{event.slug}.csv"'})


@bp.get("/export.pdf")
def export_pdf(slug: str):
    event = _event(slug)
    results = []
    for poll in services.polls_of(event):
        results.append({"poll": poll, **_results(poll)})
    html = render_template("pdf/polls.html", event=event, results=results,
                           kind_labels=KIND_LABELS)
    audit.record(current_user, event, "polls.export", "PDF")
    return Response(render_pdf(html), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="afstemninger-{event.slug}.pdf"'})

