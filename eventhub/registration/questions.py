"""The event's own registration questions, and checking the answers given to them."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from eventhub.db import utcnow
from eventhub.errors import NotFound, ValidationError
from eventhub.events.models import ORGANIZER, Event
from eventhub.events.services import require_role
from eventhub.extensions import db
from eventhub.registration.models import (
    LONG_TEXT,
    MULTIPLE,
    QUESTION_KINDS,
    SHORT_TEXT,
    SINGLE,
    YES_NO,
    Answer,
    Question,
    Registration,
)

MAX_SHORT, MAX_LONG = 300, 5000
YES_VALUES, NO_VALUES = {"yes", "ja", "true", "1", "y", "j"}, {"no", "nej", "false", "0", "n"}


def active_questions(event: Event) -> list[Question]:
    """The questions a registration form shows, in order."""
    return list(
        db.session.scalars(
            select(Question)
            .where(Question.event_id == event.id, Question.archived_at.is_(None))
            .order_by(Question.position, Question.id)
        )
    )


def all_questions(event: Event) -> list[Question]:
    """Every question ever asked at the event (archived ones last), for exports."""
    return list(
        db.session.scalars(
            select(Question)
            .where(Question.event_id == event.id)
            .order_by(Question.archived_at.is_not(None), Question.position, Question.id)
        )
    )


def field_name(question: Question) -> str:
    return f"q_{question.id}"


def _clean_options(options: list[str]) -> list[str]:
    seen: list[str] = []
    for option in options:
        option = " ".join(str(option).split())[:200]
        if option and option not in seen:
            seen.append(option)
    return seen


def save_question(actor, event: Event, *, label: str, kind: str, options: list[str],
                  required: bool, help_text: str = "", question: Question | None = None,
                  label_en: str = "") -> Question:
    """Create or edit a question. Answers already given are never touched."""
    require_role(actor, event, ORGANIZER)
    label = " ".join((label or "").split())
    if not label:
        raise ValidationError(_("Skriv spørgsmålet."), "label")
    if len(label) > 300:
        raise ValidationError(_("Spørgsmålet er for langt (højst 300 tegn)."), "label")
    if kind not in QUESTION_KINDS:
        raise ValidationError(_("Vælg en gyldig type."), "kind")
    options = _clean_options(options) if kind in (SINGLE, MULTIPLE) else []
    if kind in (SINGLE, MULTIPLE) and len(options) < 2:
        raise ValidationError(_("Skriv mindst to svarmuligheder, én pr. linje."), "options")
    if question is None:
        last = db.session.scalar(
            select(func.max(Question.position)).where(Question.event_id == event.id)
        )
        question = Question(event_id=event.id, position=(last or 0) + 1)
        db.session.add(question)
    elif question.event_id != event.id:
        raise NotFound(_("Spørgsmålet findes ikke."))
    question.label, question.kind, question.options = label, kind, options
    question.label_en = " ".join((label_en or "").split())[:300]
    question.required, question.help_text = bool(required), (help_text or "").strip()[:500]
    db.session.flush()
    return question


def get_question(event: Event, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or question.event_id != event.id:
        raise NotFound(_("Spørgsmålet findes ikke."))
    return question


def archive_question(actor, event: Event, question: Question) -> None:
    """Remove a question from the form; its answers stay in exports."""
    require_role(actor, event, ORGANIZER)
    question.archived_at = utcnow()
    db.session.flush()


def move_question(actor, event: Event, question: Question, offset: int) -> None:
    """Move a question up (-1) or down (+1) among the active ones."""
    require_role(actor, event, ORGANIZER)
    questions = active_questions(event)
    index = questions.index(question)
    target = index + offset
    if 0 <= target < len(questions):
        questions[index], questions[target] = questions[target], questions[index]
    for position, q in enumerate(questions, start=1):
        q.position = position
    db.session.flush()


def clean_answers(questions: list[Question], raw: dict[int, Any]) -> tuple[
        dict[int, Any], list[ValidationError]]:
    """Check raw answers (question id → text, list or yes/no) against the questions.

    Returns the cleaned answers and the problems, each tied to the question's field.
    """
    by_id = {q.id: q for q in questions}
    problems = [
        ValidationError(_("Svaret hører til et spørgsmål, der ikke findes."), None)
        for qid in raw if qid not in by_id
    ][:1]
    cleaned: dict[int, Any] = {}
    for q in questions:
        value, problem = _clean_one(q, raw.get(q.id))
        if problem:
            problems.append(ValidationError(problem, field_name(q)))
        elif value not in (None, "", []):
            cleaned[q.id] = value
    return cleaned, problems


def _clean_one(q: Question, value: Any) -> tuple[Any, str | None]:
    """The cleaned answer to one question, or the problem with it."""
    if q.kind in (SHORT_TEXT, LONG_TEXT):
        return _clean_text(q, value)
    if q.kind == YES_NO:
        return _clean_yes_no(q, value)
    return _clean_choices(q, value)


def _missing(q: Question, empty: Any = None) -> tuple[Any, str | None]:
    """No answer given: a problem when the question is required, else ``empty``."""
    return (None, _("Besvar spørgsmålet.")) if q.required else (empty, None)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _clean_text(q: Question, value: Any) -> tuple[Any, str | None]:
    text = _first(value)
    text = ("" if text is None else str(text)).strip()
    limit = MAX_SHORT if q.kind == SHORT_TEXT else MAX_LONG
    if len(text) > limit:
        return None, _("Svaret er for langt (højst %(n)d tegn).", n=limit)
    return (text, None) if text else _missing(q, text)


def _clean_yes_no(q: Question, value: Any) -> tuple[Any, str | None]:
    text = _first(value)
    if isinstance(text, bool):
        return text, None
    text = ("" if text is None else str(text)).strip().lower()
    if text in YES_VALUES:
        return True, None
    if text in NO_VALUES:
        return False, None
    if text:
        return None, _("Svar ja eller nej.")
    return _missing(q)


def _clean_choices(q: Question, value: Any) -> tuple[Any, str | None]:
    values = value if isinstance(value, list) else ([] if value in (None, "") else [value])
    values = [str(v).strip() for v in values if str(v).strip()]
    if any(v not in q.options for v in values):
        return None, _("Vælg blandt svarmulighederne.")
    if q.kind == SINGLE:
        if len(values) > 1:
            return None, _("Vælg kun én svarmulighed.")
        return (values[0], None) if values else _missing(q)
    if q.kind == MULTIPLE and not values:
        return _missing(q, [])
    return values, None


def store_answers(registration: Registration, questions: list[Question],
                  cleaned: dict[int, Any]) -> None:
    """Write answers for the given (active) questions; answers to others are kept."""
    existing = {a.question_id: a for a in registration.answers}
    for q in questions:
        answer = existing.get(q.id)
        if q.id in cleaned:
            if answer is None:
                registration.answers.append(
                    Answer(question_id=q.id, value=cleaned[q.id], question_label=q.label)
                )
            else:
                answer.value, answer.question_label = cleaned[q.id], q.label
        elif answer is not None:
            registration.answers.remove(answer)
