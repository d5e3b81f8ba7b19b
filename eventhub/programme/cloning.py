"""The programme's part of a new edition: rooms, tracks and sessions moved by the same
number of days, with their speakers (by name and organization, never linked to a
registration of the old edition)."""

from __future__ import annotations

from sqlalchemy import select

from eventhub import images
from eventhub.events.cloning import CloneContext
from eventhub.extensions import db
from eventhub.programme.models import EventSpeaker, Room, Session, Speaker, Track


def clone_programme(context: CloneContext) -> None:
    """Rooms and tracks, then the sessions in them."""
    source, target = context.source.id, context.target.id
    rooms, tracks = context.map("rooms"), context.map("tracks")
    for room in db.session.scalars(select(Room).where(Room.event_id == source)):
        copy = Room(event_id=target, name=room.name, capacity=room.capacity,
                    position=room.position)
        db.session.add(copy)
        db.session.flush()
        rooms[room.id] = copy.id
    for track in db.session.scalars(select(Track).where(Track.event_id == source)):
        copy = Track(event_id=target, name=track.name, colour=track.colour,
                     position=track.position)
        db.session.add(copy)
        db.session.flush()
        tracks[track.id] = copy.id
    _people(context)
    _sessions(context)


def _people(context: CloneContext) -> None:
    """The speakers as people (photo copied), no longer tied to a registration: the new
    edition's registrations are its own."""
    people = context.map("people")
    for person in db.session.scalars(select(EventSpeaker).where(
            EventSpeaker.event_id == context.source.id).order_by(EventSpeaker.id)):
        copy = EventSpeaker(event_id=context.target.id, name=person.name,
                            job_title=person.job_title, organization=person.organization,
                            bio=person.bio, photo_image_id=images.copy(person.photo_image_id))
        db.session.add(copy)
        db.session.flush()
        people[person.id] = copy.id


def _sessions(context: CloneContext) -> None:
    sessions, speakers = context.map("sessions"), context.map("speakers")
    people = context.map("people")
    rooms, tracks = context.map("rooms"), context.map("tracks")
    for session in db.session.scalars(select(Session).where(
            Session.event_id == context.source.id).order_by(Session.starts_at, Session.id)):
        copy = Session(
            event_id=context.target.id, title=session.title, description=session.description,
            kind=session.kind, starts_at=context.moved(session.starts_at),
            ends_at=context.moved(session.ends_at), room_id=rooms.get(session.room_id),
            title_en=session.title_en, description_en=session.description_en,
            track_id=tracks.get(session.track_id), signup_capacity=session.signup_capacity,
            status=session.status)
        pairs = [(speaker, Speaker(name=speaker.name, organization=speaker.organization,
                                   position=speaker.position,
                                   event_speaker_id=people.get(speaker.event_speaker_id)))
                 for speaker in session.speakers]
        copy.speakers = [new for _old, new in pairs]
        db.session.add(copy)
        db.session.flush()
        sessions[session.id] = copy.id
        for old, new in pairs:
            speakers[old.id] = new.id
