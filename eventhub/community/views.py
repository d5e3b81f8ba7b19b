"""The workspace across an organizing organization's events (/community/), and the public
pages: answering a check-in, a published solution's trail, open data."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from eventhub.community import checkins, figures, opendata, services
from eventhub.community.models import ANSWERS, BARRIERS, REUSED, TESTING
from eventhub.directory.models import EXPERIENCE_STATUSES, MAST_DOMAINS, Solution
from eventhub.errors import Forbidden, ValidationError
from eventhub.events.hooks import staff_blueprint
from eventhub.events.models import ORGANIZATION_KIND_LABELS, ORGANIZER, Event, Organization
from eventhub.events.services import has_role
from eventhub.extensions import db, limiter
from eventhub.followup.models import STAGES
from eventhub.forms import ActionForm
from eventhub.transactions import attempt

bp = staff_blueprint("community", __name__, "/community")
public_bp = Blueprint("community_public", __name__, url_prefix="/community")


def _checked() -> None:
    if not ActionForm().validate_on_submit():
        raise ValidationError(_("Formularen er udløbet. Prøv igen."))


def _number(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _filter() -> services.Filter:
    stage = request.args.get("stage", "")
    kind = request.args.get("kind", "")
    return services.Filter(
        event_id=_number("event"), series_id=_number("series"), solution_id=_number("solution"),
        region=request.args.get("region", "")[:4], org_kind=kind if kind in
        ORGANIZATION_KIND_LABELS else "", stage=stage if stage in STAGES else "")


@bp.get("/")
def index():
    orgs = services.organizations_of(current_user)
    if len(orgs) == 1:
        return redirect(url_for(".workspace", org_id=orgs[0].id))
    return render_template("community/index.html", orgs=orgs)


def _choices(org, events):
    regions = db.session.execute(db.select(Organization.code, Organization.name).where(
        Organization.kind == "region").order_by(Organization.name)).all()
    return dict(events=events, series=services.series_of(org),
                solutions=db.session.execute(db.select(Solution.id, Solution.name).where(
                    Solution.status == "approved").order_by(Solution.name)).all(),
                regions=regions, kinds=ORGANIZATION_KIND_LABELS, stage_labels=STAGES)


@bp.get("/<int:org_id>/")
def workspace(org_id: int):
    org = services.require_member(current_user, org_id)
    flt = _filter()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    events = services.events_of(org)
    found = services.overview(current_user, org, flt, events)
    leads, total = services.leads(current_user, org, flt, page, total=found.total)
    return render_template(
        "community/workspace.html", org=org, flt=flt, leads=leads, total=total, page=page,
        page_size=services.PAGE_SIZE, counts=found.counts,
        solutions_found=found.solutions[:20], orgs_found=found.organizations[:20],
        figures=found.figures, barometer=figures.BAROMETER,
        query=request.query_string.decode(), **_choices(org, events))


@bp.get("/<int:org_id>/leads/<int:lead_id>")
def lead(org_id: int, lead_id: int):
    org = services.require_member(current_user, org_id)
    found = services.get_lead(current_user, org, lead_id)
    return render_template("community/lead.html", org=org, lead=found, stage_labels=STAGES,
                           contact=services.contact_of(current_user, org, found),
                           form=ActionForm())


@bp.post("/<int:org_id>/leads/<int:lead_id>/move")
def move(org_id: int, lead_id: int):
    org = services.require_member(current_user, org_id)
    found = services.get_lead(current_user, org, lead_id)
    _checked()
    with attempt() as failed:
        services.move(current_user, org, found, request.form.get("stage", ""),
                      reason=request.form.get("reason", ""), note=request.form.get("note", ""))
    if failed:
        flash(failed.message, "error")
    else:
        flash(_("Leadet er flyttet til \"%(stage)s\".", stage=STAGES[found.stage]), "success")
    return redirect(url_for(".lead", org_id=org_id, lead_id=lead_id))


@bp.post("/<int:org_id>/leads/<int:lead_id>/mail")
@limiter.limit(lambda: "20 per hour")
def mail(org_id: int, lead_id: int):
    org = services.require_member(current_user, org_id)
    found = services.get_lead(current_user, org, lead_id)
    _checked()
    with attempt(ValidationError) as failed:
        services.send_mail(current_user, org, found, request.form.get("subject", ""),
                           request.form.get("body", ""))
    if failed:
        flash(failed.message, "error")
        return render_template("community/lead.html", org=org, lead=found,
                               stage_labels=STAGES, form=ActionForm(), typed=request.form,
                               contact=services.contact_of(current_user, org, found)), 422
    flash(_("Mailen er lagt i udbakken og sendes om lidt."), "success")
    return redirect(url_for(".lead", org_id=org_id, lead_id=lead_id))


@bp.get("/<int:org_id>/solutions/<int:solution_id>")
def trail(org_id: int, solution_id: int):
    org = services.require_member(current_user, org_id)
    return render_template("community/trail.html", org=org,
                           trail=services.trail(current_user, org, solution_id),
                           stage_labels=STAGES, statuses=EXPERIENCE_STATUSES)


@bp.route("/<int:org_id>/team", methods=["GET", "POST"])
def team(org_id: int):
    org = services.require_member(current_user, org_id)
    if request.method == "POST":
        _checked()
        with attempt() as failed:
            user = services.add_member(current_user, org, request.form.get("email", ""))
        if failed:
            flash(failed.message, "error")
        else:
            flash(_("%(email)s er nu community manager.", email=user.email), "success")
        return redirect(url_for(".team", org_id=org_id))
    return render_template("community/team.html", org=org, form=ActionForm(),
                           members=services.members(current_user, org))


@bp.post("/events/<slug>/settings")
def event_settings(slug: str):
    event = db.session.scalar(db.select(Event).where(Event.slug == slug))
    if event is None:
        abort(404)
    if not has_role(current_user, event, ORGANIZER):
        raise Forbidden(_("Kun arrangører kan ændre dette."))
    _checked()
    host = request.form.get("host", "")
    with attempt(ValidationError) as failed:
        merged = services.set_host(current_user, event, int(host) if host.isdigit() else None)
        checkins.set_months(current_user, event, request.form.get("months", ""))
    if failed:
        flash(failed.message, "error")
    else:
        flash(_("Gemt.") + (" " + ngettext(
            "%(num)d lead er lagt sammen med organisationens eksisterende.",
            "%(num)d leads er lagt sammen med organisationens eksisterende.", merged)
            if merged else ""), "success")
    return redirect(url_for("manage.event", slug=slug) + "#community")


# --- public -------------------------------------------------------------------------------

def _checkin_page(token: str, status: int = 200, errors: dict | None = None):
    checkin = checkins.checkin_of(token)
    answered = {a.solution_id: a for a in checkin.answers}
    asked = db.session.scalars(db.select(Solution).where(
        Solution.id.in_(checkin.solution_ids)).order_by(Solution.name)).all()
    errors = errors or {}
    stray = [msg for sid, msg in errors.items() if sid not in {s.id for s in asked}]
    return render_template(
        "community/checkin.html", checkin=checkin, token=token, asked=asked, stray=stray,
        answered=answered, answers=ANSWERS, barriers=BARRIERS, errors=errors,
        typed=request.form, open_ids={s.id for s in checkins.open_solutions(checkin)},
        offer={s.id: checkins.may_record_experience(checkin, s.id) for s in asked},
        experiences={s.id: checkins.experience_for(checkin, s.id) for s in asked},
        statuses=EXPERIENCE_STATUSES, mast=MAST_DOMAINS, reused=(*REUSED, TESTING),
        form=ActionForm()), status


@public_bp.get("/checkin/<token>")
def checkin(token: str):
    return _checkin_page(token)


@public_bp.post("/checkin/<token>")
@limiter.limit(lambda: "30 per hour")
def checkin_answer(token: str):
    found = checkins.checkin_of(token)
    _checked()
    data = checkins.AnswerData(solution_id=request.form.get("solution", type=int),
                               answer=request.form.get("answer", ""),
                               barrier=request.form.get("barrier", ""),
                               text=request.form.get("text", ""))
    with attempt() as failed:
        row = checkins.answer(found, data)
    if failed:
        return _checkin_page(token, 422, {data.solution_id: failed.message})
    flash(_("Tak for dit svar: \"%(answer)s\".", answer=ANSWERS[row.answer]), "success")
    return redirect(url_for(".checkin", token=token) + f"#solution-{row.solution_id}")


@public_bp.post("/checkin/<token>/experience")
@limiter.limit(lambda: "30 per hour")
def checkin_experience(token: str):
    found = checkins.checkin_of(token)
    _checked()
    sid = request.form.get("solution", type=int)
    since = request.form.get("since", "")
    try:
        since_date = date.fromisoformat(since) if since else None
    except ValueError:
        return _checkin_page(token, 422, {sid: _("Skriv datoen som dd-mm-åååå.")})
    data = checkins.ExperienceData(
        status=request.form.get("status", ""), since=since_date,
        scale=request.form.get("scale", ""),
        effects={k: request.form.get(k, "") for k in MAST_DOMAINS})
    with attempt() as failed:
        checkins.save_experience(found, sid, data)
    if failed:
        return _checkin_page(token, 422, {sid: failed.message})
    flash(_("Tak! Jeres erfaring står nu i kataloget, så andre kan finde jer."), "success")
    return redirect(url_for(".checkin", token=token) + f"#solution-{sid}")


@public_bp.get("/solutions/<int:solution_id>")
def public_trail(solution_id: int):
    return render_template("community/public_trail.html",
                           trail=services.public_trail(solution_id),
                           statuses=EXPERIENCE_STATUSES)


@public_bp.get("/open-data/")
def open_data():
    return render_template("community/open_data.html")


@public_bp.get("/open-data/<name>.<fmt>")
def open_data_file(name: str, fmt: str):
    if name not in opendata.DATASETS or fmt not in ("csv", "json"):
        abort(404)
    return opendata.response(name, fmt)
