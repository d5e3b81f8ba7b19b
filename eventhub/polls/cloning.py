"""The polls' part of a new edition: every poll with its options, closed and without a
single vote or question from the old edition."""

from __future__ import annotations

from sqlalchemy import select

from eventhub.events.cloning import CloneContext
from eventhub.extensions import db
from eventhub.polls.models import CLOSED, Poll, PollOption

# A poll's settings; status, times and everything voters gave are not copied.
POLL_FIELDS = ("question", "kind", "audience", "results_visible", "allow_change",
               "max_choices", "scale_min", "scale_max", "position", "results_mode",
               "max_entries", "qa_names", "time_limit")


def clone_polls(context: CloneContext) -> None:
    """Each poll on its session of the new edition, closed until an organizer opens it."""
    sessions, polls = context.map("sessions"), context.map("polls")
    for poll in db.session.scalars(select(Poll).where(
            Poll.event_id == context.source.id).order_by(Poll.position, Poll.id)):
        copy = Poll(event_id=context.target.id, session_id=sessions.get(poll.session_id),
                    status=CLOSED, banned_words=list(poll.banned_words or []),
                    **{name: getattr(poll, name) for name in POLL_FIELDS})
        copy.options = [PollOption(label=o.label, position=o.position, correct=o.correct)
                        for o in poll.options]
        db.session.add(copy)
        db.session.flush()
        polls[poll.id] = copy.id
