"""Organizations, events and per-event roles."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from urllib.parse import urlencode

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eventhub.accounts.models import User
from eventhub.db import UTCDateTime, utcnow
from eventhub.extensions import db
from eventhub.i18n import shown
from eventhub.images import StoredImage  # noqa: F401 (the pictures' table, for the keys)

# Organization kinds
MUNICIPALITY = "municipality"
REGION = "region"
COMPANY = "company"
KNOWLEDGE = "knowledge"
OTHER = "other"
ORGANIZATION_KINDS = (MUNICIPALITY, REGION, COMPANY, KNOWLEDGE, OTHER)
ORGANIZATION_KIND_LABELS = {
    MUNICIPALITY: _l("Kommune"),
    REGION: _l("Region"),
    COMPANY: _l("Virksomhed"),
    KNOWLEDGE: _l("Videninstitution"),
    OTHER: _l("Andet"),
}

# Event statuses, in their usual order
DRAFT, PUBLISHED, CLOSED, ARCHIVED = "draft", "published", "closed", "archived"
EVENT_STATUSES = (DRAFT, PUBLISHED, CLOSED, ARCHIVED)
STATUS_LABELS = {
    DRAFT: _l("Kladde (kun synlig for arrangører)"),
    PUBLISHED: _l("Offentliggjort"),
    CLOSED: _l("Lukket for tilmelding"),
    ARCHIVED: _l("Arkiveret"),
}

# Roles on one event
ORGANIZER = "organizer"
COMMUNITY_MANAGER = "community_manager"
CHECKIN = "checkin"
EVENT_ROLES = (ORGANIZER, COMMUNITY_MANAGER, CHECKIN)
LANGUAGES = {"da": _l("Dansk"), "en": _l("Engelsk")}
ROLE_LABELS = {
    ORGANIZER: _l("Arrangør"),
    COMMUNITY_MANAGER: _l("Community manager"),
    CHECKIN: _l("Check-in"),
}

JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(6))


def name_key(name: str) -> str:
    """Case- and spacing-insensitive key: "Aarhus  kommune" == "aarhus Kommune"."""
    return " ".join((name or "").split()).casefold()


class Organization(db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=OTHER, index=True)
    # Official code: kommunekode (3 digits) or regionskode (108x); None for others.
    code: Mapped[str | None] = mapped_column(String(4), unique=True)
    # The region a municipality belongs to (regionskode).
    region_code: Mapped[str | None] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventSeries(db.Model):
    """Editions of the same event ("Del & Genbrug" 2025, 2026, 2027), linked on their
    public pages; an edition cloned from another joins its series."""

    __tablename__ = "event_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(300), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int | None] = mapped_column(Integer)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default=DRAFT, index=True)
    join_code: Mapped[str] = mapped_column(String(12), unique=True, default=new_join_code)
    directory_open_until: Mapped[date | None] = mapped_column(Date)
    retention_until: Mapped[date | None] = mapped_column(Date)
    # New registrations wait for an organizer's approval instead of being confirmed.
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    privacy_notice: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_series.id", ondelete="SET NULL"), index=True)
    # The organizing organization (the cluster): its community managers follow the
    # event's leads together with those of its other events (eventhub/community/).
    host_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True)
    # Pictures (eventhub/images.py), each with the words for those who cannot see it.
    cover_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"))
    cover_alt: Mapped[str] = mapped_column(String(300), default="")
    logo_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"))
    logo_alt: Mapped[str] = mapped_column(String(300), default="")
    # How to get there, shown with the address and its map link.
    directions: Mapped[str] = mapped_column(Text, default="")
    # The event's own language: its badges and tickets are printed in it.
    language: Mapped[str] = mapped_column(String(2), default="da")
    # Optional English texts; Danish is shown where they are empty.
    title_en: Mapped[str] = mapped_column(String(200), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    # Who participants reach when they answer a mail of the event (its Reply-To and the
    # sender's display name); required before publishing.
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")

    roles: Mapped[list[EventRole]] = relationship(
        back_populates="event", cascade="all, delete-orphan"
    )

    @property
    def is_public(self) -> bool:
        return self.status in (PUBLISHED, CLOSED, ARCHIVED)

    @property
    def display_title(self) -> str:
        return shown(self.title, self.title_en)

    @property
    def display_description(self) -> str:
        return shown(self.description, self.description_en)

    @property
    def map_url(self) -> str:
        """The address on OpenStreetMap: a plain link, nothing of theirs on our pages."""
        if not (self.venue or "").strip():
            return ""
        return "https://www.openstreetmap.org/search?" + urlencode({"query": self.venue})


class EventRole(db.Model):
    """A staff role of one user on one event."""

    __tablename__ = "event_roles"
    __table_args__ = (UniqueConstraint("event_id", "user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    event: Mapped[Event] = relationship(back_populates="roles")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
