"""One action on many registrations: those ticked on the list, or all that match the
list's filter. The organizer first sees how many it will change (and which it will
leave, and why); then each registration goes through the same rule as one by one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from eventhub import audit
from eventhub.errors import ValidationError
from eventhub.events.models import ORGANIZER, Event
from eventhub.events.services import require_role
from eventhub.extensions import db
from eventhub.registration import checkins, services
from eventhub.registration.models import CANCELLED, CONFIRMED, PENDING, Registration

CHECK_IN, CANCEL, CANCEL_QUIETLY, APPROVE, RESEND = (
    "checkin", "cancel", "cancel_quietly", "approve", "resend")
ACTION_LABELS = {
    CHECK_IN: _l("Check ind"),
    CANCEL: _l("Afmeld og send mail om det"),
    CANCEL_QUIETLY: _l("Afmeld uden at sende mail"),
    APPROVE: _l("Godkend"),
    RESEND: _l("Send bekræftelse med billet igen"),
}
MAX_SELECTED = 5000


@dataclass
class Plan:
    """What an action will do: the registrations it changes and those it leaves."""

    action: str
    doing: list[Registration] = field(default_factory=list)
    leaving: list[tuple[Registration, str]] = field(default_factory=list)  # (reg, why)


def _why_not(action: str, reg: Registration) -> str | None:
    """Why the action does not apply to this registration (None: it does)."""
    if action == CHECK_IN:
        if reg.status != CONFIRMED:
            return str(_l("kun bekræftede kan checkes ind"))
        if reg.checked_in_at is not None:
            return str(_l("er allerede checket ind"))
    elif action in (CANCEL, CANCEL_QUIETLY, RESEND) and reg.status == CANCELLED:
        return str(_l("er afmeldt"))
    elif action == APPROVE and reg.status != PENDING:
        return str(_l("afventer ikke godkendelse"))
    return None


def selection(event: Event, ids: list[int] | None = None,
              flt: services.RegistrationFilter | None = None) -> list[Registration]:
    """The ticked registrations of this event, or every one matching the filter."""
    if ids is None:
        return services.list_registrations(event, flt)[:MAX_SELECTED]
    wanted = {int(i) for i in ids[:MAX_SELECTED]}
    if not wanted:
        return []
    return list(db.session.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.id.in_(wanted))
        .order_by(Registration.id)))


def plan(actor, event: Event, action: str, regs: list[Registration]) -> Plan:
    """Which registrations the action changes, and which it leaves and why."""
    require_role(actor, event, ORGANIZER)
    if action not in ACTION_LABELS:
        raise ValidationError(str(_l("Vælg en handling.")), "action")
    if not regs:
        raise ValidationError(str(_l("Vælg mindst én tilmelding.")), "ids")
    result = Plan(action)
    for reg in regs:
        why = _why_not(action, reg)
        if why is None:
            result.doing.append(reg)
        else:
            result.leaving.append((reg, why))
    return result


def _do_one(actor, action: str) -> Callable[[Registration], object]:
    return {
        CHECK_IN: lambda reg: checkins.check_in(reg, actor=actor),
        CANCEL: lambda reg: services.cancel(reg, actor=actor, notify=True),
        CANCEL_QUIETLY: lambda reg: services.cancel(reg, actor=actor, notify=False),
        APPROVE: lambda reg: services.approve(reg, actor=actor),
        RESEND: lambda reg: services.resend_ticket(reg, actor=actor),
    }[action]


def run(actor, event: Event, action: str, regs: list[Registration]) -> Plan:
    """Do the action to every registration it applies to (each logged as one by one,
    and the whole as one line); the rest are left as they are."""
    todo = plan(actor, event, action, regs)
    do = _do_one(actor, action)
    for reg in todo.doing:
        do(reg)
    audit.record(actor, event, "registrations.bulk", f"{action}: {len(todo.doing)}")
    db.session.flush()
    return todo
