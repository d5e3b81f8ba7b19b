"""An event's cover picture and logo, each with its words for those who cannot see it,
and the directions shown beside the address's map link."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from eventhub import audit, images
from eventhub.errors import ValidationError
from eventhub.events.models import ORGANIZER, Event
from eventhub.events.services import EventValidationError, require_role
from eventhub.extensions import db

MAX_ALT, MAX_DIRECTIONS = 300, 5000


@dataclass
class PictureChange:
    """One picture slot: a new picture (prepared), removing it, and its alt text."""

    new: images.Picture | None
    remove: bool
    alt: str


def _check(slot: str, change: PictureChange, current: int | None) -> list[ValidationError]:
    change.alt = " ".join((change.alt or "").split())
    will_have = change.new is not None or (current is not None and not change.remove)
    if will_have and not change.alt:
        return [ValidationError(_("Beskriv billedet med et par ord for dem, der ikke kan se "
                                  "det (alt-tekst)."), f"{slot}_alt")]
    if len(change.alt) > MAX_ALT:
        return [ValidationError(_("Højst %(max)d tegn.", max=MAX_ALT), f"{slot}_alt")]
    return []


def _apply(event: Event, slot: str, change: PictureChange) -> None:
    old = getattr(event, f"{slot}_image_id")
    if change.new is not None:
        setattr(event, f"{slot}_image_id", images.store(change.new).id)
    elif change.remove:
        setattr(event, f"{slot}_image_id", None)
    if getattr(event, f"{slot}_image_id") != old:
        db.session.flush()
        images.forget(old)
    setattr(event, f"{slot}_alt", change.alt if getattr(event, f"{slot}_image_id") else "")


def set_pictures(actor, event: Event, cover: PictureChange, logo: PictureChange,
                 directions: str) -> None:
    """Save cover, logo and directions together, or (a problem) none of them."""
    require_role(actor, event, ORGANIZER)
    directions = (directions or "").strip()
    problems = _check("cover", cover, event.cover_image_id) + \
        _check("logo", logo, event.logo_image_id)
    if len(directions) > MAX_DIRECTIONS:
        problems.append(ValidationError(_("Højst %(max)d tegn.", max=MAX_DIRECTIONS),
                                        "directions"))
    if problems:
        raise EventValidationError(problems)
    _apply(event, "cover", cover)
    _apply(event, "logo", logo)
    event.directions = directions
    db.session.flush()
    audit.record(actor, event, "event.edit", event.slug)
