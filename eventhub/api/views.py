"""The REST API's read operations: events, programme, registrations, polls, solutions,
experiences and leads, as JSON pages with cursors, ``updated_since`` and ETags."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from eventhub.api import convert, tokens
from eventhub.api import schemas as s
from eventhub.api.operations import operation, page, page_rows, setup_blueprint
from eventhub.directory.models import APPROVED, Experience, Solution
from eventhub.directory.services import presented_solution_ids
from eventhub.errors import NotFound
from eventhub.events.models import Event, Organization
from eventhub.extensions import db
from eventhub.followup import services as followup
from eventhub.followup.models import Lead
from eventhub.polls import services as polls
from eventhub.polls import tally
from eventhub.programme.models import Room, Session, Speaker
from eventhub.registration import services as registration
from eventhub.registration.models import Answer, Registration

bp = setup_blueprint(Blueprint("api", __name__, url_prefix="/api/v1"))

EVENTS, REGS, POLLS, DIRECTORY, LEADS = (
    "events:read", "registrations:read", "polls:read", "directory:read", "leads:read")


@operation(bp, "/events", "GET", summary="Events this token reaches", tag="events",
           scope=EVENTS, query=s.ChangedQuery, response=s.Page[s.EventOut])
def list_events(token, query):
    return page(tokens.events_of(token), Event.id, query, convert.event_out, Event.updated_at)


@operation(bp, "/events/<slug>", "GET", summary="One event", tag="events", scope=EVENTS,
           response=s.EventOut)
def get_event(token, event):
    return convert.event_out(event)


@operation(bp, "/events/<slug>/sessions", "GET", summary="The event's programme sessions",
           tag="events", scope=EVENTS, query=s.ChangedQuery, response=s.Page[s.SessionOut])
def list_sessions(token, event, query):
    stmt = select(Session).where(Session.event_id == event.id).options(
        selectinload(Session.speakers), selectinload(Session.track))
    return page(stmt, Session.id, query, convert.session_out, Session.updated_at)


@operation(bp, "/events/<slug>/sessions/<int:session_id>", "GET", summary="One session",
           tag="events", scope=EVENTS, response=s.SessionOut)
def get_session(token, event, session_id):
    from eventhub.programme.services import get_session as find

    return convert.session_out(find(event, session_id))


@operation(bp, "/events/<slug>/speakers", "GET", summary="Speakers of the event's sessions",
           tag="events", scope=EVENTS, query=s.ListQuery, response=s.Page[s.SpeakerOut])
def list_speakers(token, event, query):
    stmt = select(Speaker).join(Session).where(Session.event_id == event.id)
    return page(stmt, Speaker.id, query, convert.speaker_out)


@operation(bp, "/events/<slug>/rooms", "GET", summary="The event's rooms", tag="events",
           scope=EVENTS, query=s.ListQuery, response=s.Page[s.RoomOut])
def list_rooms(token, event, query):
    return page(select(Room).where(Room.event_id == event.id), Room.id, query,
                convert.room_out)


@operation(bp, "/events/<slug>/registrations", "GET", summary="Registrations",
           tag="registrations", scope=REGS, query=s.RegistrationQuery,
           response=s.Page[s.RegistrationOut])
def list_registrations(token, event, query):
    # Plain rows, not ORM objects: a page of 100 with answers in two queries.
    stmt = (select(*_REG_COLUMNS, Organization.name.label("organization"))
            .outerjoin(Organization, Organization.id == Registration.organization_id)
            .where(Registration.event_id == event.id))
    if query.status:
        stmt = stmt.where(Registration.status == query.status)
    return page_rows(stmt, Registration.id, query, _registration_rows, Registration.updated_at)


_REG_COLUMNS = [Registration.id, Registration.name, Registration.email, Registration.job_title,
                Registration.status, Registration.badge_role, Registration.checked_in_at,
                Registration.directory_consent_at, Registration.created_at,
                Registration.updated_at]


def _registration_rows(rows) -> list[dict]:
    answers: dict[int, dict[str, object]] = {row.id: {} for row in rows}
    if rows:
        for reg_id, question_id, value in db.session.execute(
                select(Answer.registration_id, Answer.question_id, Answer.value)
                .where(Answer.registration_id.in_(list(answers)))):
            answers[reg_id][str(question_id)] = value
    return [s.RegistrationOut(
        id=r.id, name=r.name, email=r.email, organization=r.organization,
        job_title=r.job_title or "", status=r.status, badge_role=r.badge_role,
        checked_in_at=r.checked_in_at, directory_consent=r.directory_consent_at is not None,
        answers=answers[r.id], created_at=r.created_at, updated_at=r.updated_at)
        .model_dump(mode="json") for r in rows]


@operation(bp, "/events/<slug>/registrations/<int:registration_id>", "GET",
           summary="One registration", tag="registrations", scope=REGS,
           response=s.RegistrationOut)
def get_registration(token, event, registration_id):
    return convert.registration_out(registration.get_registration(event, registration_id))


@operation(bp, "/events/<slug>/polls", "GET", summary="The event's polls", tag="polls",
           scope=POLLS, query=s.ListQuery, response=s.Page[s.PollOut])
def list_polls(token, event, query):
    from eventhub.polls.models import Poll

    stmt = select(Poll).where(Poll.event_id == event.id).options(selectinload(Poll.options))
    return page(stmt, Poll.id, query, convert.poll_out)


@operation(bp, "/events/<slug>/polls/<int:poll_id>", "GET", summary="One poll", tag="polls",
           scope=POLLS, response=s.PollOut)
def get_poll(token, event, poll_id):
    return convert.poll_out(polls.get_poll(event, poll_id))


@operation(bp, "/events/<slug>/polls/<int:poll_id>/results", "GET",
           summary="A poll's results", tag="polls", scope=POLLS, response=s.PollResultsOut)
def poll_results(token, event, poll_id):
    poll = polls.get_poll(event, poll_id)
    snap = tally.snapshot(poll)
    results = {k: v for k, v in snap.items() if k not in ("poll", "status", "voters")}
    return s.PollResultsOut(poll_id=poll.id, status=poll.status, votes=snap["voters"] or 0,
                            results=results)


def _solutions_of(event: Event):
    ids = presented_solution_ids(event)
    return select(Solution).where(Solution.status == APPROVED, or_(
        Solution.id.in_(ids), Solution.proposed_at_event_id == event.id))


@operation(bp, "/events/<slug>/solutions", "GET",
           summary="Solutions presented or proposed at the event", tag="directory",
           scope=DIRECTORY, query=s.ChangedQuery, response=s.Page[s.SolutionOut])
def list_solutions(token, event, query):
    stmt = _solutions_of(event).options(selectinload(Solution.provider))
    return page(stmt, Solution.id, query, convert.solution_out, Solution.updated_at)


@operation(bp, "/events/<slug>/solutions/<int:solution_id>", "GET", summary="One solution",
           tag="directory", scope=DIRECTORY, response=s.SolutionOut)
def get_solution(token, event, solution_id):
    solution = db.session.scalar(_solutions_of(event).where(Solution.id == solution_id))
    if solution is None:
        raise NotFound(_("Løsningen findes ikke."))
    return convert.solution_out(solution)


@operation(bp, "/events/<slug>/experiences", "GET",
           summary="Experiences with the event's solutions", tag="directory",
           scope=DIRECTORY, query=s.ChangedQuery, response=s.Page[s.ExperienceOut])
def list_experiences(token, event, query):
    solution_ids = _solutions_of(event).with_only_columns(Solution.id)
    stmt = select(Experience).where(Experience.solution_id.in_(solution_ids),
                                    Experience.draft.is_(False)).options(
        selectinload(Experience.organization))
    return page(stmt, Experience.id, query, convert.experience_out, Experience.updated_at)


@operation(bp, "/events/<slug>/leads", "GET", summary="Follow-up leads", tag="leads",
           scope=LEADS, query=s.ChangedQuery, response=s.Page[s.LeadOut],
           description="Every lead found at the event: those that began there and those "
                       "that carried on there from an earlier event of the same organizing "
                       "organization (one lead per solution and organization).")
def list_leads(token, event, query):
    followup.require_staff(token.created_by, event)
    # Every lead found at the event: those that began here and those that carried on
    # here from an earlier event (the lead–event links), as the event's lead list shows.
    stmt = select(Lead).where(followup.in_event(event.id)).options(
        selectinload(Lead.organization))
    return page(stmt, Lead.id, query, convert.lead_out, Lead.updated_at)


@operation(bp, "/events/<slug>/leads/<int:lead_id>", "GET", summary="One lead", tag="leads",
           scope=LEADS, response=s.LeadOut)
def get_lead(token, event, lead_id):
    return convert.lead_out(followup.get_lead(token.created_by, event, lead_id))


# The document and its reference page (no token needed) -----------------------------------


@bp.get("/openapi.json")
def openapi_json():
    from flask import current_app, jsonify

    from eventhub.api.openapi import document

    response = jsonify(document(current_app))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/docs")
def reference():
    from flask import current_app, render_template

    from eventhub.api.openapi import document

    doc = document(current_app)
    return render_template("api/reference.html", doc=doc)
