"""Ticket and badge PDFs: read back with poppler (text, pages, pixels) and zbar (QR)."""

from __future__ import annotations

import io
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

from eventhub.events.services import find_or_create_organization
from eventhub.extensions import db
from eventhub.registration import badges
from eventhub.registration.models import (
    BADGE_LABELS,
    CANCELLED,
    CONFIRMED,
    PARTICIPANT,
    SPEAKER,
    STAFF,
    WAITLISTED,
    Registration,
)
from tests.support.factories import make_event
from tests.support.pdf import pages as page_count
from tests.support.pdf import pdf_text

# .ci/run installs poppler-utils and zbar-tools: a missing tool is a failure, not a skip.
TOOLS = ("pdftotext", "pdftoppm", "pdfinfo", "zbarimg")


def test_pdf_and_qr_readers_are_installed():
    assert all(shutil.which(tool) for tool in TOOLS), "apt-get install poppler-utils zbar-tools"

PEOPLE = [
    ("Anne Jensen", "Aarhus Kommune", PARTICIPANT),
    ("Mohammed Al-Khatib", "Region Syddanmark", SPEAKER),
    ("Karen Margrethe Østergaard-Christiansen", "Københavns Kommune", STAFF),
    ("Bo Ek", "Welfare Tech A/S", PARTICIPANT),
    ("Sofie Nørgaard", "VIVE – Det Nationale Forsknings- og Analysecenter for Velfærd",
     SPEAKER),
    ("Lars Løkke", "Odense Kommune", STAFF),
    ("Ida Holm", "Syddansk Universitet", PARTICIPANT),
    ("Peter Ærø Mikkelsen", "Region Hovedstaden", PARTICIPANT),
    ("Jens Bach", "Medware ApS", SPEAKER),
    ("Line Vestergaard", "Aalborg Kommune", PARTICIPANT),
]

MM = 150 / 25.4  # pixels per millimetre at the 150 dpi the pages are rendered at


def add_registrations(app, event_id: int, people=PEOPLE, status: str = CONFIRMED
                      ) -> list[int]:
    with app.app_context():
        regs = [
            Registration(event_id=event_id, name=name, email=f"{secrets.token_hex(6)}@example.com",
                         organization=find_or_create_organization(org), badge_role=role,
                         status=status)
            for name, org, role in people
        ]
        db.session.add_all(regs)
        db.session.commit()
        return [reg.id for reg in regs]


def load(ids: list[int]) -> list[Registration]:
    return [db.session.get(Registration, i) for i in ids]


def flat(text: str) -> str:
    """Text without hyphens and with single spaces: pdftotext drops the hyphen where a
    line breaks after one ("Al-" / "Khatib" → "AlKhatib")."""
    return " ".join(text.replace("-", "").split())


def page_png(pdf: bytes, tmp_path: Path, page: int = 1) -> Path:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    prefix = tmp_path / f"page{page}"
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", str(page), "-l", str(page),
                    "-singlefile", str(path), str(prefix)], check=True)
    return prefix.with_suffix(".png")


def qr_codes(png: Path) -> list[str]:
    """Every QR code zbar finds in the image (exit status 4: none found)."""
    done = subprocess.run(["zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable",
                           str(png)], capture_output=True, text=True)
    assert done.returncode in (0, 4), done.stderr
    return done.stdout.split()


def urls(codes) -> list[str]:
    return [f"http://localhost/t/{code}" for code in codes]


def scan_urls(tokens) -> list[str]:
    """What a badge's QR code holds: the scan link, never the ticket."""
    return [f"http://localhost/s/{token}" for token in tokens]


@pytest.fixture
def event_id(app):
    return make_event(app, "del-genbrug-2027", title="Del & Genbrug 2027",
                      venue="Odense Congress Center, Ørbækvej 350, 5220 Odense SØ")


# Ticket -------------------------------------------------------------------------------


def test_ticket_shows_event_person_and_a_scannable_qr(app, event_id, tmp_path):
    reg_id = add_registrations(app, event_id, PEOPLE[1:2])[0]
    with app.test_request_context():
        reg = db.session.get(Registration, reg_id)
        pdf = badges.ticket_pdf(reg)
        code = reg.ticket_code

    assert pdf.startswith(b"%PDF") and page_count(pdf, tmp_path) == 1
    text = pdf_text(pdf, tmp_path)
    for expected in ("Del & Genbrug 2027", "Odense Congress Center", "Mohammed Al-Khatib",
                     "Region Syddanmark", "Bekræftet", code, "Vis QR-koden ved indgangen"):
        assert expected in text
    # 08:00–15:00 UTC on 10 March 2027 is 09:00–16:00 in Copenhagen
    assert "onsdag 10. marts 2027 kl. 09:00 – 16:00" in text
    assert "gælder kun" not in text
    assert qr_codes(page_png(pdf, tmp_path)) == urls([code])


@pytest.mark.parametrize("status,label", [(WAITLISTED, "På venteliste"),
                                          (CANCELLED, "Afmeldt")])
def test_ticket_of_unconfirmed_registration_says_it_is_not_valid(
        app, event_id, tmp_path, status, label):
    reg_id = add_registrations(app, event_id, PEOPLE[:1], status=status)[0]
    with app.test_request_context():
        text = pdf_text(badges.ticket_pdf(db.session.get(Registration, reg_id)), tmp_path)
    assert label in text
    assert "Billetten gælder kun, når tilmeldingen er bekræftet." in text


def test_ticket_follows_the_events_language(app, event_id, tmp_path):
    reg_id = add_registrations(app, event_id, PEOPLE[:1])[0]
    with app.test_request_context("/?lang=en"):  # asked for in English, a Danish event
        text = pdf_text(badges.ticket_pdf(db.session.get(Registration, reg_id)), tmp_path)
    assert "onsdag 10. marts 2027 kl. 09:00 – 16:00" in text and "Bekræftet" in text
    with app.app_context():
        from eventhub.events.models import Event
        db.session.get(Event, event_id).language = "en"
        db.session.commit()
    with app.test_request_context("/?lang=da"):  # an English event, asked in Danish
        text = pdf_text(badges.ticket_pdf(db.session.get(Registration, reg_id)), tmp_path)
    assert "Wednesday 10 March 2027, 09:00 – 16:00" in text
    assert "Confirmed" in text
    assert "Show the QR code at the entrance" in text


def test_ticket_qr_uses_base_url(app, event_id, tmp_path):
    app.config["BASE_URL"] = "https://eventhub.example.dk/"
    reg_id = add_registrations(app, event_id, PEOPLE[:1])[0]
    with app.test_request_context():
        reg = db.session.get(Registration, reg_id)
        pdf = badges.ticket_pdf(reg)
        code = reg.ticket_code
    assert qr_codes(page_png(pdf, tmp_path)) == [f"https://eventhub.example.dk/t/{code}"]


# Badges -------------------------------------------------------------------------------


def test_badges_eight_to_a_page_with_names_roles_and_qr_codes(app, event_id, tmp_path):
    ids = add_registrations(app, event_id)
    with app.test_request_context():
        regs = load(ids)
        pdf = badges.badges_pdf(regs[0].event, regs)
        codes = [reg.scan_token for reg in regs]
        typed = [reg.scan_code for reg in regs]  # "K7QM-4XPD", the dash flattened
        tickets = {reg.ticket_code for reg in regs}
        labels = {role: str(label).upper() for role, label in BADGE_LABELS.items()}

    assert page_count(pdf, tmp_path) == 2
    text = flat(pdf_text(pdf, tmp_path))
    for name, org, _role in PEOPLE:
        assert flat(name) in text
        assert flat(org) in text
    for label in labels.values():  # DELTAGER, OPLÆGSHOLDER, ARRANGØR
        assert label in text
    assert text.count("Del & Genbrug 2027") == len(PEOPLE)
    assert sorted(qr_codes(page_png(pdf, tmp_path, 1))) == sorted(scan_urls(codes[:8]))
    assert sorted(qr_codes(page_png(pdf, tmp_path, 2))) == sorted(scan_urls(codes[8:]))
    assert not any(ticket in text for ticket in tickets)
    assert all(code in text for code in typed)  # to type when the camera fails


def test_badge_roles_have_distinct_colours(app, event_id, tmp_path):
    # page positions 0, 1, 2: participant, speaker, organizer
    ids = add_registrations(app, event_id, PEOPLE[:3])
    with app.test_request_context():
        regs = load(ids)
        pdf = badges.badges_pdf(regs[0].event, regs)
    image = Image.open(page_png(pdf, tmp_path)).convert("RGB")

    def band_colour(position: int) -> tuple[int, int, int]:
        # A4 grid starts 15 mm from the left, 38.5 mm from the top; badges are
        # 90 × 55 mm with an 11 mm band at the bottom; sample the band's right end.
        left = 15 + 90 * (position % 2)
        top = 38.5 + 55 * (position // 2)
        return image.getpixel((round((left + 85) * MM), round((top + 50) * MM)))

    colours = [band_colour(i) for i in range(3)]
    assert len(set(colours)) == 3
    for colour in colours:  # dark enough for the white label
        assert sum(colour) < 3 * 150, colour


def test_badges_without_qr(app, event_id, tmp_path):
    ids = add_registrations(app, event_id, PEOPLE[:3])
    with app.test_request_context():
        regs = load(ids)
        pdf = badges.badges_pdf(regs[0].event, regs, with_qr=False)
    assert page_count(pdf, tmp_path) == 1
    assert "Anne Jensen" in pdf_text(pdf, tmp_path)
    assert qr_codes(page_png(pdf, tmp_path)) == []


def test_badges_in_the_events_language(app, event_id, tmp_path):
    ids = add_registrations(app, event_id, PEOPLE[:3])
    with app.test_request_context("/?lang=en"):  # printed from English, a Danish event
        regs = load(ids)
        text = pdf_text(badges.badges_pdf(regs[0].event, regs, with_qr=False), tmp_path)
    for label in ("DELTAGER", "TALER", "ARRANGØR"):
        assert label in text
    with app.app_context():
        from eventhub.events.models import Event
        db.session.get(Event, event_id).language = "en"
        db.session.commit()
    with app.test_request_context("/?lang=da"):
        regs = load(ids)
        text = pdf_text(badges.badges_pdf(regs[0].event, regs, with_qr=False), tmp_path)
    for label in ("PARTICIPANT", "SPEAKER", "ORGANIZER"):
        assert label in text


def test_long_names_get_smaller_type():
    assert badges.name_size("Bo Ek") == "n1"
    assert badges.name_size("Mohammed Al-Khatib") == "n2"
    assert badges.name_size("Karen Margrethe Østergaard-Christiansen") == "n3"
    assert badges.name_size("Supercalifragilisticexpialidocious") == "n4"
    assert badges.name_size("Anders And " * 10) == "n4"


def test_badge_registrations_are_the_confirmed_ones_by_name(app, event_id):
    add_registrations(app, event_id, [("bo Ek", "A", PARTICIPANT), ("Anne", "B", SPEAKER),
                                      ("Carl", "C", STAFF)])
    add_registrations(app, event_id, [("Aage", "D", PARTICIPANT)], status=WAITLISTED)
    with app.app_context():
        from eventhub.events.models import Event

        names = [r.name for r in badges.badge_registrations(db.session.get(Event, event_id))]
    assert names == ["Anne", "bo Ek", "Carl"]


# The print QR encoder ------------------------------------------------------------------


def _qrcode_grid(text: str, mask: int) -> tuple[int, int]:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=mask)
    qr.add_data(text, optimize=0)
    qr.make(fit=True)
    n = qr.modules_count
    return n, sum(1 << (r * n + c) for r in range(n) for c in range(n) if qr.modules[r][c])


@pytest.mark.parametrize("text", [
    "http://localhost/t/" + secrets.token_urlsafe(20),
    "https://eventhub.example.dk/t/" + secrets.token_urlsafe(20),
    "x", "x" * 14, "x" * 15, "x" * 100, "Æblegrød ☃ " * 12, "y" * 400,  # v1, v2, v7+
])
def test_print_qr_is_the_standard_code(text):
    """Same modules as the qrcode library makes with the mask we chose, and the mask
    is the one with the lowest ISO 18004 penalty."""
    size, grid = badges.qr_matrix(text)
    layout = badges._layout((size - 17) // 4)
    references = [_qrcode_grid(text, mask) for mask in range(8)]
    assert (size, grid) in references
    assert badges._penalty(grid, layout) == min(badges._penalty(g, layout)
                                                 for _, g in references)


def test_print_qr_png_decodes(tmp_path):
    text = "http://localhost/t/" + secrets.token_urlsafe(20)
    png = badges.print_qr_png(text, box_size=4)
    image = Image.open(io.BytesIO(png))
    assert image.mode == "L"
    assert image.size == ((33 + 4) * 4,) * 2  # version 4 plus a 2-module quiet zone
    path = tmp_path / "qr.png"
    path.write_bytes(png)
    assert qr_codes(path) == [text]
