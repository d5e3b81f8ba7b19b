"""The registration form's data, shared by the participant and the staff pages."""

from __future__ import annotations

from flask import request

from eventhub.errors import ValidationError
from eventhub.registration import services
from eventhub.registration.models import Registration


def answers_from_request(questions) -> dict[int, object]:
    """Answers posted as ``q_<id>`` fields; unknown ids are kept so the service refuses them."""
    answers: dict[int, object] = {}
    for key in request.form:
        if key.startswith("q_"):
            qid = key[2:]
            answers[int(qid) if qid.isdigit() else -1] = request.form.getlist(key)
    return answers


def data_from_form(form, answers) -> services.RegistrationData:
    """What a registration form (the public or the staff one) holds, for the service."""
    return services.RegistrationData(
        name=form.name.data or "", email=form.email.data or "",
        organization=form.organization.data or "", job_title=form.job_title.data or "",
        organization_kind=form.organization_kind.data or None,
        answers=answers, directory_consent=bool(form.directory_consent.data),
        scan_consent=bool(getattr(getattr(form, "scan_consent", None), "data", False)),
        badge_role=getattr(getattr(form, "badge_role", None), "data", None) or "participant",
        phone=form.phone.data or "", followup_consent=bool(form.followup_consent.data),
    )


def attach_errors(form, exc: ValidationError, field_errors: dict[str, list[str]]) -> None:
    """Put service problems beside their fields (questions go to ``field_errors``)."""
    for problem in getattr(exc, "problems", [exc]):
        if problem.field and problem.field in form:
            form[problem.field].errors = list(form[problem.field].errors) + [problem.message]
        elif problem.field:
            field_errors.setdefault(problem.field, []).append(problem.message)
        else:
            form.form_errors.append(problem.message)


def answer_values(reg: Registration | None) -> dict[str, list[str]]:
    """What to show in the question fields: posted values, else the saved answers."""
    if request.method == "POST":
        return {k: request.form.getlist(k) for k in request.form if k.startswith("q_")}
    values: dict[str, list[str]] = {}
    for answer in (reg.answers if reg else []):
        value = answer.value
        if isinstance(value, bool):
            value = "yes" if value else "no"
        values[f"q_{answer.question_id}"] = value if isinstance(value, list) else [str(value)]
    return values
