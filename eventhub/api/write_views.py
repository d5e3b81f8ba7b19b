"""The REST API's writes, each through the domain's own service (capacity, waiting list,
locking and roles apply as on the pages): registrations, check-ins, lead stages."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _

from eventhub.api import convert
from eventhub.api import schemas as s
from eventhub.api.operations import operation, setup_blueprint
from eventhub.errors import NotFound, ValidationError
from eventhub.followup import services as followup
from eventhub.registration import checkins
from eventhub.registration import services as registration

REGS, LEADS = "registrations:write", "leads:write"

bp = setup_blueprint(Blueprint("api_write", __name__, url_prefix="/api/v1"))


@operation(bp, "/events/<slug>/registrations", "POST", summary="Register a person",
           tag="registrations", scope=REGS, body=s.RegistrationIn, response=s.RegistrationOut,
           status=201, errors=(409, 413, 415, 422),
           description="Confirmed, waiting list or awaiting approval, as on the registration "
                       "page; capacity always holds.")
def create_registration(token, event, body: s.RegistrationIn):
    answers = {int(k): v for k, v in body.answers.items()}
    data = registration.RegistrationData(
        name=body.name, email=body.email, organization=body.organization,
        job_title=body.job_title, organization_kind=body.organization_kind,
        answers=answers, directory_consent=body.directory_consent)
    reg = registration.register(event, data, source="api", actor=token.created_by,
                                notify=body.notify)
    return convert.registration_out(reg)


@operation(bp, "/events/<slug>/registrations/<int:registration_id>/cancel", "POST",
           summary="Cancel a registration", tag="registrations", scope=REGS, body=s.CancelIn,
           response=s.RegistrationOut, errors=(413, 415, 422),
           description="A freed seat goes to the waiting list.")
def cancel_registration(token, event, registration_id: int, body: s.CancelIn):
    reg = registration.get_registration(event, registration_id)
    registration.cancel(reg, actor=token.created_by, notify=body.notify)
    return convert.registration_out(reg)


@operation(bp, "/events/<slug>/checkins", "POST", summary="Check a participant in",
           tag="registrations", scope=REGS, body=s.CheckInIn, response=s.CheckInOut,
           status=201, errors=(409, 413, 415, 422))
def create_checkin(token, event, body: s.CheckInIn):
    if (body.registration_id is None) == (body.ticket_code is None):
        raise ValidationError(_("Angiv enten registration_id eller ticket_code."),
                              "registration_id")
    if body.registration_id is not None:
        reg = registration.get_registration(event, body.registration_id)
    else:
        reg = registration.by_ticket_code(body.ticket_code or "")
        if reg.event_id != event.id:
            raise NotFound(_("Billetten hører til et andet arrangement."))
    result = checkins.check_in(reg, actor=token.created_by)
    return s.CheckInOut(registration_id=reg.id, checked_in_at=reg.checked_in_at,
                        first_time=result.first_time)


@operation(bp, "/events/<slug>/leads/<int:lead_id>/stage", "POST",
           summary="Move a lead to a stage", tag="leads", scope=LEADS, body=s.LeadStageIn,
           response=s.LeadOut, errors=(413, 415, 422))
def move_lead(token, event, lead_id: int, body: s.LeadStageIn):
    actor = token.created_by
    lead = followup.get_lead(actor, event, lead_id)
    followup.move(actor, event, lead, body.stage, reason=body.reason, note=body.note)
    return convert.lead_out(lead)
