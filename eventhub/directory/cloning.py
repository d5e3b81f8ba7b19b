"""The directory's part of a new edition: which solution each session presents, with
the same speakers as presenters. Solutions themselves outlive events and are shared."""

from __future__ import annotations

from sqlalchemy import select

from eventhub.directory.models import Presentation
from eventhub.events.cloning import CloneContext
from eventhub.extensions import db
from eventhub.programme.models import Session, Speaker


def clone_presentations(context: CloneContext) -> None:
    """A presentation for each copied session that presented a solution."""
    sessions, speakers = context.map("sessions"), context.map("speakers")
    rows = db.session.scalars(select(Presentation).join(
        Session, Session.id == Presentation.session_id).where(
        Session.event_id == context.source.id))
    for presentation in rows:
        if presentation.session_id not in sessions:
            continue
        presenters = [db.session.get(Speaker, speakers[p.id])
                      for p in presentation.presenters if p.id in speakers]
        db.session.add(Presentation(session_id=sessions[presentation.session_id],
                                    solution_id=presentation.solution_id,
                                    presenters=presenters))
    db.session.flush()
