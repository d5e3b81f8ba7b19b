"""Registration's part of a new edition: the event's questions, none of the answers."""

from __future__ import annotations

from sqlalchemy import select

from eventhub.events.cloning import CloneContext
from eventhub.extensions import db
from eventhub.registration.models import Question

# A question's settings; everything else (id, event, when made or archived) is new.
QUESTION_FIELDS = ("label", "label_en", "help_text", "kind", "options", "required",
                   "position")


def clone_questions(context: CloneContext) -> None:
    """The questions on the registration form (archived ones stay behind)."""
    questions = context.map("questions")
    for question in db.session.scalars(select(Question).where(
            Question.event_id == context.source.id, Question.archived_at.is_(None))
            .order_by(Question.position, Question.id)):
        copy = Question(event_id=context.target.id, **{
            name: getattr(question, name) for name in QUESTION_FIELDS
            if hasattr(question, name)})
        copy.options = list(question.options or [])
        db.session.add(copy)
        db.session.flush()
        questions[question.id] = copy.id
