"""Cover picture and logo: JPEG, PNG or WebP up to 5 MB, re-encoded (EXIF and GPS gone)
in a phone and a desktop size, served to be kept; alt text required. A decompression
bomb, a PDF renamed .png, an SVG, a 6 MB file: refused with a reason, nothing saved.
The address gets a plain OpenStreetMap link and the directions."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select

from eventhub.extensions import db
from eventhub.images import StoredImage
from tests.support.client import login
from tests.support.factories import PASSWORD, get_event, make_event, make_user
from tests.support.plain_words import visible_text

PAGE = "/manage/e/dag/pictures"


@pytest.fixture
def organizer(app, client):
    org = make_user(app, "org@example.com", password=PASSWORD)
    make_event(app, "dag", organizer_id=org, venue="Dokk1, Hack Kampmanns Plads 2, Aarhus")
    login(client, "org@example.com")
    return client


def photo_with_gps(width: int = 3000, height: int = 2000) -> bytes:
    """A JPEG as a phone makes it: EXIF with a camera and a GPS position."""
    image = Image.new("RGB", (width, height), (11, 92, 84))
    exif = Image.Exif()
    exif[0x010F] = "Telefonfabrikken"  # Make
    exif[0x0110] = "Fotofon 9"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (56.0, 9.0, 12.0)  # latitude
    gps[3], gps[4] = "E", (10.0, 12.0, 30.0)  # longitude
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, quality=80)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG file that claims a huge size (a decompression bomb's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                               8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def logo_png() -> bytes:
    image = Image.new("RGBA", (900, 300), (0, 0, 0, 0))
    image.paste((184, 66, 15, 255), (100, 100, 800, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client, **files_and_fields):
    data = {}
    for key, value in files_and_fields.items():
        data[key] = (io.BytesIO(value[1]), value[0]) if isinstance(value, tuple) else value
    return client.post(PAGE, data=data, content_type="multipart/form-data")


def _text(response) -> str:
    return " ".join(visible_text(response.get_data(as_text=True))[0])


def _images(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(StoredImage))


def test_a_phone_photo_is_stored_in_two_sizes_without_exif_or_gps(app, organizer):
    photo = photo_with_gps()
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825)  # it has a position
    response = upload(organizer, cover=("dokk1.jpg", photo),
                      cover_alt="Dokk1 set fra havnen", logo=("logo.png", logo_png()),
                      logo_alt="Del & Genbrug", directions="Letbane til Dokk1.")
    assert response.status_code == 302, _text(response)
    event = get_event(app, "dag")
    assert event.cover_alt == "Dokk1 set fra havnen" and event.directions == "Letbane til Dokk1."
    with app.app_context():
        cover = db.session.get(StoredImage, event.cover_image_id)
        logo = db.session.get(StoredImage, event.logo_image_id)
        assert (cover.phone_width, cover.width) == (800, 1600)
        assert cover.mimetype == "image/jpeg" and logo.mimetype == "image/png"
        for data in (cover.phone, cover.desktop):
            stored = Image.open(io.BytesIO(data))
            assert dict(stored.getexif()) == {}
            assert b"Telefonfabrikken" not in data and b"Fotofon" not in data
        assert Image.open(io.BytesIO(logo.desktop)).mode == "RGBA"  # transparency kept
        paths = {size: f"/img/{cover.id}-{cover.digest[:16]}-{size}.jpg"
                 for size in ("phone", "desktop")}
    page = app.test_client().get("/e/dag").get_data(as_text=True)
    assert f'srcset="{paths["phone"]} 800w, {paths["desktop"]} 1600w"' in page
    assert 'alt="Dokk1 set fra havnen"' in page and 'alt="Del &amp; Genbrug"' in page
    served = app.test_client().get(paths["phone"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert "max-age=31536000" in served.headers["Cache-Control"]
    assert "immutable" in served.headers["Cache-Control"] and served.headers["ETag"]
    assert app.test_client().get(paths["phone"].replace(cover.digest[:16], "0" * 16)
                                 ).status_code == 404


def test_alt_text_is_required(app, organizer):
    response = upload(organizer, cover=("dokk1.jpg", photo_with_gps(800, 600)), cover_alt="")
    assert response.status_code == 422
    assert "Beskriv billedet" in _text(response)
    assert "Intet er gemt. Vælg billedet igen" in _text(response)
    assert _images(app) == 0 and get_event(app, "dag").cover_image_id is None


@pytest.mark.parametrize("name,data,reason", [
    ("stort.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * (6 * 1024 * 1024), "Billedet er for stort"),
    ("bombe.png", png_header_only(20000, 20000), "for mange punkter"),
    ("rapport.png", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n" * 100,
     "ikke et billede, men en PDF-fil"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "SVG-billeder tages ikke imod"),
    ("skjult.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
     "SVG-billeder tages ikke imod"),
    ("tom.jpg", b"\xff\xd8\xff\xe0 not really", "kan ikke læses som et billede"),
    ("animation.gif", b"GIF89a" + b"\x00" * 100, "ikke et billede, men en GIF-fil"),
])
def test_bad_pictures_are_refused_with_a_reason_and_nothing_saved(app, organizer, name, data,
                                                                    reason):
    response = upload(organizer, cover=(name, data), cover_alt="Et billede",
                      logo=("logo.png", logo_png()), logo_alt="Logo",
                      directions="Tag letbanen.")
    assert response.status_code == 422
    assert reason in _text(response)
    assert 'value="Et billede"' in response.get_data(as_text=True)  # typed text kept
    assert "Tag letbanen." in response.get_data(as_text=True)
    assert _images(app) == 0  # not even the good logo
    event = get_event(app, "dag")
    assert (event.cover_image_id, event.logo_image_id, event.directions) == (None, None, "")


def test_replacing_or_removing_a_picture_deletes_the_old_one(app, organizer):
    upload(organizer, cover=("a.jpg", photo_with_gps(900, 600)), cover_alt="Første")
    first = get_event(app, "dag").cover_image_id
    upload(organizer, cover=("b.jpg", photo_with_gps(1000, 700)), cover_alt="Anden")
    second = get_event(app, "dag").cover_image_id
    assert second != first
    with app.app_context():
        assert db.session.get(StoredImage, first) is None
        assert db.session.get(StoredImage, second).width == 1000  # not enlarged
    assert upload(organizer, remove_cover="y", cover_alt="Anden").status_code == 302
    assert get_event(app, "dag").cover_image_id is None and _images(app) == 0


def test_the_address_links_to_openstreetmap_without_their_scripts(app, organizer):
    upload(organizer, directions="Letbane L1 til Dokk1.\nParkering under huset.")
    response = app.test_client().get("/e/dag")
    page = response.get_data(as_text=True)
    assert 'href="https://www.openstreetmap.org/search?query=Dokk1%2C+Hack+Kampmanns+Plads' \
        in page
    assert "Vis på kort (OpenStreetMap)" in _text(response)
    assert "Parkering under huset." in page
    assert "<iframe" not in page and "openstreetmap.org/" not in \
        response.headers["Content-Security-Policy"]  # a link, no tiles or scripts of theirs


def test_a_new_edition_gets_its_own_copy_of_the_pictures(app, organizer):
    from eventhub.events.cloning import CloneData, clone_event
    from eventhub.events.models import Event

    upload(organizer, cover=("a.jpg", photo_with_gps(900, 600)), cover_alt="Dokk1")
    with app.test_request_context():
        from eventhub.accounts.models import User

        user = db.session.scalar(select(User).where(User.email == "org@example.com"))
        source = db.session.scalar(select(Event).where(Event.slug == "dag"))
        from datetime import date
        copy = clone_event(user, source, CloneData("Dagen 2028", "dag-2028", date(2028, 3, 9)))
        db.session.commit()
        assert copy.cover_image_id not in (None, source.cover_image_id)
        assert copy.cover_alt == "Dokk1"
