"""Rows of the domains as the API's pydantic shapes."""

from __future__ import annotations

from flask import current_app

from eventhub.api import schemas as s


def event_out(event) -> s.EventOut:
    return s.EventOut(
        slug=event.slug, title=event.title, description=event.description or "",
        venue=event.venue or "", status=event.status, starts_at=event.starts_at,
        ends_at=event.ends_at, capacity=event.capacity,
        registration_opens_at=event.registration_opens_at,
        registration_closes_at=event.registration_closes_at,
        url=f"{current_app.config['BASE_URL']}/e/{event.slug}", updated_at=event.updated_at)


def room_out(room) -> s.RoomOut:
    return s.RoomOut(id=room.id, name=room.name, capacity=room.capacity)


def speaker_out(speaker) -> s.SpeakerOut:
    return s.SpeakerOut(id=speaker.id, session_id=speaker.session_id, name=speaker.name,
                        organization=speaker.organization or "",
                        registration_id=speaker.registration_id)


def session_out(session) -> s.SessionOut:
    return s.SessionOut(
        id=session.id, title=session.title, description=session.description or "",
        kind=session.kind, status=session.status, starts_at=session.starts_at,
        ends_at=session.ends_at, room_id=session.room_id,
        track=session.track.name if session.track else None,
        signup_capacity=session.signup_capacity,
        speakers=[speaker_out(sp) for sp in session.speakers], updated_at=session.updated_at)


def registration_out(reg) -> s.RegistrationOut:
    return s.RegistrationOut(
        id=reg.id, name=reg.name, email=reg.email,
        organization=reg.organization.name if reg.organization else None,
        job_title=reg.job_title or "", status=reg.status, badge_role=reg.badge_role,
        checked_in_at=reg.checked_in_at, directory_consent=reg.directory_consent,
        answers={str(a.question_id): a.value for a in reg.answers},
        created_at=reg.created_at, updated_at=reg.updated_at)


def poll_out(poll) -> s.PollOut:
    return s.PollOut(
        id=poll.id, session_id=poll.session_id, question=poll.question, kind=poll.kind,
        status=poll.status, options=[s.PollOptionOut(id=o.id, label=o.label)
                                     for o in poll.options],
        opened_at=poll.opened_at, closed_at=poll.closed_at)


def solution_out(solution) -> s.SolutionOut:
    return s.SolutionOut(
        id=solution.id, name=solution.name, summary=solution.summary or "",
        provider=solution.provider.name if solution.provider else None,
        maturity=solution.maturity, website=solution.website or "",
        updated_at=solution.updated_at)


def experience_out(exp) -> s.ExperienceOut:
    return s.ExperienceOut(
        id=exp.id, solution_id=exp.solution_id, organization=exp.organization.name,
        status=exp.status, since=exp.since, effect_clinical=exp.effect_clinical or "",
        effect_patient=exp.effect_patient or "", effect_economic=exp.effect_economic or "",
        effect_organisational=exp.effect_organisational or "", updated_at=exp.updated_at)


def lead_out(lead) -> s.LeadOut:
    return s.LeadOut(
        id=lead.id, solution_id=lead.solution_id,
        organization=lead.organization.name if lead.organization else None,
        registration_id=lead.registration_id, stage=lead.stage,
        drop_reason=lead.drop_reason or "", due_on=lead.due_on, adopted_at=lead.adopted_at,
        created_at=lead.created_at, updated_at=lead.updated_at)
