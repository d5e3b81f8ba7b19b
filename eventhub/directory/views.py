"""The network directory of an event: search, solutions, people, organizations, contacts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from eventhub.accounts.services import safe_next_url
from eventhub.directory import contacts, recommend, search, services
from eventhub.directory.formdata import experience_data, solution_data
from eventhub.directory.forms import (
    ContactForm,
    ExperienceForm,
    ProfileForm,
    SearchForm,
    SolutionForm,
)
from eventhub.directory.models import (
    CATEGORIES,
    EXPERIENCE_STATUSES,
    INTEREST_KINDS,
    MATURITY,
    Solution,
)
from eventhub.errors import Forbidden, NotFound, ValidationError
from eventhub.events import hooks
from eventhub.events import services as events
from eventhub.events.models import MUNICIPALITY, REGION, Organization
from eventhub.extensions import db, limiter
from eventhub.forms import ActionForm
from eventhub.registration.participants import current_registration
from eventhub.transactions import attempt

bp = Blueprint("directory", __name__, url_prefix="/e/<slug>/directory")
public_bp = Blueprint("solutions", __name__)


def event_panel(event, user) -> dict:
    return {}


def session_panel(session, reg) -> dict | None:
    shown = services.presentations_of_session(session)
    if not shown:
        return None
    return {"presentations": shown, "marks": services.interests_of(reg), "reg": reg,
            "form": ActionForm()}


def manage_panel(event, user) -> dict | None:
    return {} if events.has_role(user, event, "organizer") else None


def poll_panel(poll, event) -> dict | None:
    """Under a poll on a session that presents solutions: the interest buttons."""
    if poll.session_id is None:
        return None
    from eventhub.programme.models import Session

    session = db.session.get(Session, poll.session_id)
    shown = services.presentations_of_session(session) if session else []
    reg = current_registration(event)
    if not shown or reg is None:  # marking needs a participant
        return None
    return {"presentations": shown, "marks": services.interests_of(reg), "reg": reg,
            "form": ActionForm(), "source": "poll", "poll": poll}


def _contact_limit() -> str:
    from flask import current_app
    return current_app.config.get("RATELIMIT_CONTACT", "10 per hour;30 per day")


class SignInNeeded(Forbidden):
    """A visitor we do not know yet: the 403 page offers the sign-in link."""

    def __init__(self, message: str, event) -> None:
        super().__init__(message)
        self.event = event


@bp.errorhandler(SignInNeeded)
def _sign_in_page(exc: SignInNeeded):
    return render_template("directory/sign_in.html", event=exc.event, message=exc.message,
                           next_url=request.full_path.rstrip("?") if request.method == "GET" else
                           url_for(".index", slug=exc.event.slug)), 403


def _context(slug: str):
    """(event, my registration or None); 403 for anyone who may not use the directory."""
    event = events.get_event(slug, current_user)
    reg = current_registration(event)
    try:
        services.require_access(event, current_user, reg)
    except Forbidden as exc:
        if reg is None and not current_user.is_authenticated:
            raise SignInNeeded(exc.message, event) from None
        raise
    return event, reg


def _need_reg(reg):
    if reg is None:
        raise ValidationError(_("Det kan kun deltagere. Log ind med den e-mail, du tilmeldte "
                                "dig med."))
    return reg


def _back(default: str):
    return redirect(safe_next_url(request.form.get("back")) or default)


def _places():
    orgs = db.session.execute(db.select(Organization.id, Organization.name, Organization.kind,
                                        Organization.code)
                              .where(Organization.kind.in_((MUNICIPALITY, REGION)),
                                     Organization.code.is_not(None))
                              .order_by(Organization.name)).all()
    regions = [(o.code, o.name) for o in orgs if o.kind == REGION]
    municipalities = [(str(o.id), o.name) for o in orgs if o.kind == MUNICIPALITY]
    return regions, municipalities


@bp.get("")
def index(slug: str):
    event, reg = _context(slug)
    form = SearchForm(request.args)
    regions, municipalities = _places()
    form.region.choices = [("", _("Alle"))] + regions
    form.municipality.choices = [("", _("Alle"))] + municipalities
    searched = any(request.args.get(k) for k in
                   ("q", "kind", "org_kind", "region", "municipality", "category", "status"))
    result, groups = None, {}
    if searched and form.validate():
        page = max(request.args.get("page", 1, type=int) or 1, 1)
        query = search.Query(
            text=form.q.data or "", kinds=(form.kind.data,) if form.kind.data else search.KINDS,
            org_kind=form.org_kind.data or "", region=form.region.data or "",
            organization_id=int(form.municipality.data) if form.municipality.data else None,
            category=form.category.data or "", status=form.status.data or "",
            limit=40, offset=(page - 1) * 40)
        result = search.search(event.id, query)
        groups = _group(result.hits)
    matches = recommend.people_to_meet(reg) if reg is not None and not searched else []
    return render_template(
        "directory/index.html", event=event, reg=reg, form=form, result=result, groups=groups,
        searched=searched, matches=matches, listed=services.is_listed(reg, event),
        statuses=EXPERIENCE_STATUSES, page=request.args.get("page", 1, type=int) or 1,
        staff=services.is_directory_staff(current_user, event),
        closes=event.directory_open_until)


def _group(hits):
    """Hits by kind, with the rows they point at (people are re-checked by search)."""
    from eventhub.directory.models import Experience
    from eventhub.registration.models import Registration

    models = {"person": Registration, "organization": Organization, "solution": Solution,
              "experience": Experience}
    groups = {}
    for kind in search.KINDS:
        ids = [h.ref_id for h in hits if h.kind == kind]
        if ids:
            rows = {r.id: r for r in db.session.scalars(
                db.select(models[kind]).where(models[kind].id.in_(ids)))}
            groups[kind] = [rows[i] for i in ids if i in rows]
    return groups


@bp.get("/solutions/<int:solution_id>")
def solution(slug: str, solution_id: int):
    event, reg = _context(slug)
    return _solution_page(event, reg, services.get_solution(solution_id))


def _solution_page(event, reg, sol: Solution, public: bool = False):
    experiences = services.experiences_of_solution(sol)
    contacts_shown = {e.id: e.contact for e in experiences
                      if event is not None and services.is_listed(e.contact, event)}
    return render_template(
        "directory/solution.html", event=event, reg=reg, s=sol, experiences=experiences,
        contacts=contacts_shown,
        presentations=services.presentations_of_solution(sol),
        learners=[] if public else services.interested_people(event, sol, "learn"),
        users=[] if public else services.interested_people(event, sol, "use"),
        marks=services.interests_of(reg).get(sol.id, set()), form=ActionForm(),
        categories=CATEGORIES, maturity=MATURITY, statuses=EXPERIENCE_STATUSES,
        counts=services.interest_counts([sol.id]).get(sol.id, {}), public=public,
        own_experience=services.experience_of(sol, reg.organization_id) if reg else None,
        corrects=event is not None and services.may_correct(current_user, event),
        presenters_of=lambda p: [] if public else services.shown_presenters(p, event),
        panels=[] if public else hooks.render_panels(hooks.SOLUTION, (event, sol), reg))


@public_bp.get("/solutions/<int:solution_id>")
def public_solution(solution_id: int):
    """Solutions an organizer made public: open to everyone, without people."""
    sol = services.get_solution(solution_id)
    if not sol.public:
        raise NotFound(_("Løsningen findes ikke."))
    return _solution_page(None, None, sol, public=True)


@bp.post("/solutions/<int:solution_id>/interest")
@limiter.limit(lambda: "60 per minute")
def interest(slug: str, solution_id: int):
    event, reg = _context(slug)
    reg = _need_reg(reg)
    sol = services.get_solution(solution_id)
    kind = request.form.get("kind", "")
    if not ActionForm().validate_on_submit():
        raise ValidationError(_("Formularen er udløbet. Prøv igen."))
    if request.form.get("undo"):
        services.unmark_interest(reg, sol, kind)
        flash(_("Markeringen er fjernet."), "success")
        return _back(url_for(".solution", slug=slug, solution_id=sol.id))
    draft = services.mark_interest(reg, sol, kind, request.form.get("source", "solution"))
    if draft is not None and draft.draft:
        flash(_("Fortæl de andre, hvordan det går med %(name)s hos jer.", name=sol.name), "info")
        return redirect(url_for(".experience", slug=slug, solution_id=sol.id))
    flash(_("Noteret: %(kind)s.", kind=INTEREST_KINDS[kind]), "success")
    return _back(url_for(".solution", slug=slug, solution_id=sol.id))


@bp.route("/solutions/<int:solution_id>/experience", methods=["GET", "POST"])
def experience(slug: str, solution_id: int):
    """Record or edit an organization's experience (own organization; organizers: any)."""
    event, reg = _context(slug)
    sol = services.get_solution(solution_id)
    org_id = request.values.get("org", type=int) or (reg.organization_id if reg else None)
    org = db.session.get(Organization, org_id) if org_id else None
    if org is None:
        raise ValidationError(_("Din tilmelding har ingen organisation. Tilføj den via dit "
                                "personlige link først."))
    if not services.may_edit_experience(current_user, event, reg, org.id):
        raise Forbidden(_("Du kan kun registrere erfaringer for din egen organisation."))
    existing = services.experience_of(sol, org.id)
    form = ExperienceForm(obj=existing)
    status = 200
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            services.save_experience(current_user, event, reg, sol, org.id,
                                     experience_data(form), experience=existing)
        if failed:
            form[failed.error.field or "status"].errors = [failed.message]
        else:
            flash(_("Erfaringen er gemt."), "success")
            return redirect(url_for(".solution", slug=slug, solution_id=sol.id))
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("directory/experience.html", event=event, s=sol, org=org,
                           form=form, existing=existing), status


@bp.route("/solutions/new", methods=["GET", "POST"])
def propose(slug: str):
    event, reg = _context(slug)
    reg = _need_reg(reg)
    form = SolutionForm()
    status = 200
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            services.propose_solution(reg, solution_data(form), current_user)
        if failed:
            form[failed.error.field or "name"].errors = [failed.message]
        else:
            flash(_("Tak! Arrangørerne ser forslaget igennem, før det kommer i kataloget."),
                  "success")
            return redirect(url_for(".index", slug=slug))
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("directory/propose.html", event=event, form=form), status


@bp.get("/people/<int:registration_id>")
def person(slug: str, registration_id: int):
    event, reg = _context(slug)
    who = services.listed_person(event, registration_id)
    return _person_page(event, reg, who, ContactForm(formdata=None))


def _person_page(event, reg, who, form, status=200):
    exps = services.experiences_of_organization(who.organization) if who.organization else []
    return render_template(
        "directory/person.html", event=event, reg=reg, who=who,
        profile=services.profile_of(who), experiences=exps, statuses=EXPERIENCE_STATUSES,
        sessions=services.presenter_sessions(who), form=form, categories=CATEGORIES,
        panels=hooks.render_panels(hooks.PERSON, who, reg),
        wants=services.solutions_marked(who, "learn")), status


@bp.post("/people/<int:registration_id>/contact")
@limiter.limit(_contact_limit)
def contact(slug: str, registration_id: int):
    event, reg = _context(slug)
    reg = _need_reg(reg)
    who = services.listed_person(event, registration_id)
    if who.id == reg.id:
        raise ValidationError(_("Du kan ikke sende en kontaktanmodning til dig selv."))
    form = ContactForm()
    if form.validate_on_submit():
        sol = None
        if form.solution_id.data and form.solution_id.data.isdigit():
            sol = db.session.get(Solution, int(form.solution_id.data))
        with attempt() as failed:
            contacts.send_request(reg, who, form.message.data, sol)
        if failed:
            form.message.errors = [failed.message]
        else:
            flash(_("Din anmodning er sendt til %(name)s. Du får besked, hvis den bliver "
                    "accepteret.", name=who.name), "success")
            return redirect(url_for(".contacts_page", slug=slug))
    return _person_page(event, reg, who, form, 422)


@bp.get("/organizations/<int:organization_id>")
def organization(slug: str, organization_id: int):
    event, reg = _context(slug)
    org = db.session.get(Organization, organization_id)
    if org is None:
        raise NotFound(_("Organisationen findes ikke."))
    return render_template(
        "directory/organization.html", event=event, org=org,
        experiences=services.experiences_of_organization(org), statuses=EXPERIENCE_STATUSES,
        people=services.listed_people_of_organization(event, org.id))


@bp.route("/me", methods=["GET", "POST"])
def me(slug: str):
    event, reg = _context(slug)
    reg = _need_reg(reg)
    profile = services.profile_of(reg)
    form = ProfileForm(obj=profile)
    if request.method == "GET":
        form.consent.data = reg.directory_consent
    status = 200
    if form.validate_on_submit():
        with attempt(ValidationError) as failed:
            services.save_profile(reg, services.ProfileData(
                bio=form.bio.data, can_help_with=form.can_help_with.data,
                looking_for=form.looking_for.data,
                looking_for_categories=form.looking_for_categories.data or []),
                consent=form.consent.data)
        if failed:
            form[failed.error.field or "bio"].errors = [failed.message]
        else:
            flash(_("Du er nu synlig i netværket.") if form.consent.data else
                  _("Du er ikke synlig i netværket."), "success")
            return redirect(url_for(".me", slug=slug))
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("directory/me.html", event=event, reg=reg, form=form,
                           delete_form=ActionForm()), status


@bp.post("/me/delete")
def delete_profile(slug: str):
    event, reg = _context(slug)
    reg = _need_reg(reg)
    if ActionForm().validate_on_submit():
        services.delete_profile(reg)
        flash(_("Din profil er slettet, og du er ikke længere synlig i netværket."), "success")
    return redirect(url_for(".me", slug=slug))


@bp.get("/contacts")
def contacts_page(slug: str):
    event, reg = _context(slug)
    reg = _need_reg(reg)
    received, sent = contacts.requests_of(reg)
    return render_template("directory/contacts.html", event=event, reg=reg, received=received,
                           sent=sent, email_of=lambda r: contacts.shared_email(r, reg),
                           form=ActionForm())


@bp.route("/contact/<token>", methods=["GET", "POST"])
def contact_answer(slug: str, token: str):
    """The recipient answers from the link in the mail (the link is the proof)."""
    event = events.get_event(slug, current_user)
    req = contacts.by_token(token)
    if req.event_id != event.id:
        raise NotFound(_("Kontaktanmodningen findes ikke."))
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        accept = request.form.get("answer") == "accept"
        if contacts.answer(req, accept):
            flash(_("Du har sagt ja. I får begge den andens e-mailadresse på mail.") if accept
                  else _("Du har sagt nej tak. Afsenderen får ikke din adresse."), "success")
        return redirect(url_for(".contact_answer", slug=slug, token=token))
    return render_template("directory/contact_answer.html", event=event, req=req, form=form)
