"""Rooms and tracks taken away: the sessions in one go to another, or to none, as the
organizer chooses; a session that moved gets a new calendar SEQUENCE."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from eventhub import audit
from eventhub.errors import Conflict, ValidationError
from eventhub.events.models import ORGANIZER, Event
from eventhub.events.services import require_role
from eventhub.extensions import db
from eventhub.programme.models import Room, Session, Track

NOWHERE = "none"  # the sessions keep no room (or track)


class PlaceInUse(Conflict):
    """A room or track with sessions: where should they go?"""

    def __init__(self, sessions: list[Session]) -> None:
        super().__init__(ngettext(
            "%(num)d programpunkt bruger det. Vælg, hvor det skal hen.",
            "%(num)d programpunkter bruger det. Vælg, hvor de skal hen.", len(sessions)))
        self.sessions = sessions


def sessions_in(event: Event, column, place_id: int) -> list[Session]:
    return list(db.session.scalars(select(Session).where(
        Session.event_id == event.id, column == place_id).order_by(Session.starts_at)))


def _delete(actor, event: Event, model, place, column, move_to: str | None,
            thing: str) -> int:
    require_role(actor, event, ORGANIZER)
    sessions = sessions_in(event, column, place.id)
    if sessions and not move_to:
        raise PlaceInUse(sessions)
    target_id = None
    if sessions and move_to != NOWHERE:
        target = db.session.get(model, int(move_to)) if move_to.isdigit() else None
        if target is None or target.event_id != event.id or target.id == place.id:
            raise ValidationError(_("Vælg en af mulighederne på listen."), "move_to")
        target_id = target.id
    for session in sessions:
        setattr(session, column.key, target_id)
        session.sequence = (session.sequence or 0) + 1
    db.session.flush()
    audit.record(actor, event, "programme.edit", f"{thing} #{place.id} delete")
    db.session.delete(place)
    db.session.flush()
    return len(sessions)


def delete_room(actor, event: Event, room: Room, move_to: str | None = None) -> int:
    """Delete a room; its sessions go to ``move_to`` (a room id, or "none"). Without a
    choice a room in use is refused with the sessions it holds. Returns how many moved."""
    return _delete(actor, event, Room, room, Session.room_id, move_to, "room")


def delete_track(actor, event: Event, track: Track, move_to: str | None = None) -> int:
    """Delete a track, its sessions moved as for rooms."""
    return _delete(actor, event, Track, track, Session.track_id, move_to, "track")
