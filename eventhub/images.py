"""Uploaded pictures (an event's cover and logo, a speaker's photo): checked, re-encoded
with Pillow and kept in the database in two sizes, one for phones and one for desktops.

What is taken: JPEG, PNG or WebP of at most 5 MB and 40 megapixels. The file's content
decides what it is, not its name: a PDF renamed ``.png`` is refused, and so is SVG (it
can carry scripts). Re-encoding drops everything but the pixels: EXIF and GPS, comments,
colour profiles; a phone photo is first turned upright by its EXIF orientation. Each
size is served under an address with its content's digest, so browsers keep it a year.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from eventhub.db import UTCDateTime, utcnow
from eventhub.errors import ValidationError
from eventhub.extensions import db

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; a decompression bomb is far beyond
# (format Pillow detects) → how we keep it
FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "MPO": "JPEG"}
# Widths of the two sizes, per kind of picture.
WIDTHS = {"cover": (800, 1600), "logo": (240, 480), "photo": (320, 640)}
SVG_START = (b"<svg", b"<?xml", b"<!DOCTYPE svg")
OTHER_FILES = {b"%PDF": "PDF", b"PK\x03\x04": "Office/ZIP", b"GIF8": "GIF",
               b"\xd0\xcf\x11\xe0": "Office"}


class StoredImage(db.Model):
    """One picture in two sizes, re-encoded (no metadata left)."""

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # cover, logo, photo
    mimetype: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    desktop: Mapped[bytes] = mapped_column(LargeBinary)
    phone_width: Mapped[int] = mapped_column(Integer)
    phone_height: Mapped[int] = mapped_column(Integer)
    phone: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def extension(self) -> str:
        return {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[self.mimetype]


@dataclass
class Picture:
    """A checked upload, re-encoded, not yet stored."""

    kind: str
    mimetype: str
    sizes: list[tuple[int, int, bytes]]  # (width, height, bytes): phone, desktop


def _refuse(message: str, field: str) -> ValidationError:
    return ValidationError(message, field)


def _read(storage, field: str) -> bytes:
    raw = storage.read(MAX_IMAGE_BYTES + 1)
    if len(raw) > MAX_IMAGE_BYTES:
        raise _refuse(_("Billedet er for stort: højst 5 MB. Gem det i en mindre størrelse, "
                        "og prøv igen."), field)
    if not raw:
        raise _refuse(_("Filen er tom. Vælg billedet igen."), field)
    head = raw[:256].lstrip().lower()
    name = (getattr(storage, "filename", "") or "").lower()
    if name.endswith(".svg") or head.startswith(SVG_START) or b"<svg" in head:
        raise _refuse(_("SVG-billeder tages ikke imod, fordi de kan indeholde kode. Gem "
                        "billedet som PNG eller JPEG, og prøv igen."), field)
    for magic, what in OTHER_FILES.items():
        if raw.startswith(magic):
            raise _refuse(_("Filen er ikke et billede, men en %(kind)s-fil, selv om navnet "
                            "siger noget andet. Vælg et JPEG-, PNG- eller WebP-billede.",
                            kind=what), field)
    return raw


def _open(raw: bytes, field: str) -> Image.Image:
    """The decoded picture; a bomb, an unknown format or a broken file is refused."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(raw))
            if image.format not in FORMATS:
                raise _refuse(_("Billedet skal være JPEG, PNG eller WebP."), field)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise _refuse(_("Billedet har for mange punkter (%(w)d × %(h)d). Gem det "
                                "i højst 40 megapixel, fx 6000 × 4000, og prøv igen.",
                                w=width, h=height), field)
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refuse(_("Billedet har for mange punkter. Gem det i højst 40 megapixel, "
                            "og prøv igen."), field) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise _refuse(_("Filen kan ikke læses som et billede. Vælg et JPEG-, PNG- eller "
                            "WebP-billede."), field) from None
    return image


def _encode(image: Image.Image, width: int, keep_alpha: bool) -> tuple[int, int, bytes]:
    copy = image.copy()
    if copy.width > width:
        copy.thumbnail((width, width * 4), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if keep_alpha:
        copy.save(buffer, format="PNG", optimize=True)
    else:
        copy.save(buffer, format="JPEG", quality=84, optimize=True, progressive=True)
    return copy.width, copy.height, buffer.getvalue()


def prepare(storage, kind: str, field: str = "image") -> Picture:
    """Check an uploaded picture and re-encode it in its two sizes (nothing stored)."""
    raw = _read(storage, field)
    image = ImageOps.exif_transpose(_open(raw, field))
    keep_alpha = image.mode in ("RGBA", "LA", "P") and kind == "logo"
    image = image.convert("RGBA" if keep_alpha else "RGB")
    sizes = [_encode(image, width, keep_alpha) for width in WIDTHS[kind]]
    return Picture(kind, "image/png" if keep_alpha else "image/jpeg", sizes)


def store(picture: Picture) -> StoredImage:
    """Keep a prepared picture; returns the row (flushed)."""
    (pw, ph, phone), (dw, dh, desktop) = picture.sizes
    row = StoredImage(kind=picture.kind, mimetype=picture.mimetype,
                      digest=hashlib.sha256(desktop + phone).hexdigest(), width=dw, height=dh,
                      desktop=desktop, phone_width=pw, phone_height=ph, phone=phone)
    db.session.add(row)
    db.session.flush()
    return row


def forget(image_id: int | None) -> None:
    """Delete a picture no longer used."""
    if image_id is not None:
        row = db.session.get(StoredImage, image_id)
        if row is not None:
            db.session.delete(row)
            db.session.flush()


def copy(image_id: int | None) -> int | None:
    """A picture of its own for a copy (a new edition): the same bytes, a new row."""
    row = db.session.get(StoredImage, image_id) if image_id else None
    if row is None:
        return None
    clone = StoredImage(**{c.key: getattr(row, c.key) for c in StoredImage.__table__.columns
                           if c.key not in ("id", "created_at")})
    db.session.add(clone)
    db.session.flush()
    return clone.id


def url(row: StoredImage, size: str) -> str:
    """The picture's address in one size ("phone" or "desktop"), with its digest."""
    from flask import url_for

    return url_for("site.image", image_id=row.id, digest=row.digest[:16], size=size,
                   ext=row.extension)


def img_tag(image_id: int | None, alt: str, css_class: str = "",
            sizes: str = "(max-width: 48rem) 100vw, 64rem"):
    """An <img> with both sizes (the browser picks), its size set so nothing jumps."""
    from markupsafe import Markup, escape

    row = db.session.get(StoredImage, image_id) if image_id else None
    if row is None:
        return Markup("")
    return Markup(
        f'<img src="{escape(url(row, "desktop"))}" '
        f'srcset="{escape(url(row, "phone"))} {row.phone_width}w, '
        f'{escape(url(row, "desktop"))} {row.width}w" sizes="{escape(sizes)}" '
        f'width="{row.width}" height="{row.height}" alt="{escape(alt)}"'
        + (f' class="{escape(css_class)}"' if css_class else "") + ">")
