"""An organizer sets up next year's event in ten minutes, on a desktop, and looks at it on
a phone: clone Del & Genbrug 2026 into 2027 with a new date, upload a cover picture,
preview as a participant, publish through the checklist, add a speaker from outside,
print badges (every QR code decoded with zbarimg, the speaker's badge read with
pdftotext: TALER with the job title, also printed from the English interface). Bad input
on the way: a date in the past, a PDF renamed .png, a 6 MB file, a 20000 × 20000 px
picture, publishing with something missing, deleting a room that has sessions: clear
messages, nothing half-saved, and the server never answers 500."""

from __future__ import annotations

import io
import json
import re
import secrets
import sqlite3
import struct
import zlib
from datetime import date, timedelta

from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.support.e2e import DESKTOP, EVENT_SLUG, phone_context, sign_in_as_admin, step_check
from tests.support.pdf import badge_texts, pdf_qr_codes

NEW_SLUG = "del-genbrug-2027"
NEW_TITLE = "Del & Genbrug 2027"
MANAGE = f"/manage/e/{NEW_SLUG}"

# Words that the browser shows broken across two lines (a tile too narrow for its word).
BROKEN_WORDS_JS = """(selector) => {
  const broken = [];
  for (const el of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (const m of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""


def _jpeg(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), (11, 92, 84))
    for x in range(0, width, 40):  # some stripes, so it is a picture and not a colour
        image.paste((184, 66, 15), (x, 0, x + 12, height))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _bomb_png() -> bytes:
    """A small file that says it is 20000 × 20000 pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8,
                                                               0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def _file(name: str, mime: str, data: bytes) -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


def _sign_in(page: Page, live_server) -> None:
    sign_in_as_admin(page, live_server)


def _db(live_server, sql: str, *args):
    path = live_server.instance_dir / "eventhub.sqlite"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute(sql, args).fetchall()


def _no_server_errors(live_server) -> None:
    errors = []
    for line in live_server.log_file.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"status": 5' in line:
            entry = json.loads(line)
            if entry.get("status", 0) >= 500:
                errors.append(f"{entry.get('method')} {entry.get('path')}: {entry['status']}")
    assert errors == [], errors


def _clone(page: Page, step) -> None:
    page.goto(f"/manage/e/{EVENT_SLUG}")
    page.get_by_role("link", name="Kopiér til en ny udgave").click()
    expect(page.get_by_label("Den nye udgaves titel")).to_have_value(NEW_TITLE)
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    page.get_by_label("Første dag").fill(yesterday)
    page.get_by_role("button", name="Opret den nye udgave").click()
    expect(page.get_by_role("alert")).to_contain_text("Den nye udgave skal ligge i fremtiden")
    expect(page.get_by_label("Den nye udgaves titel")).to_have_value(NEW_TITLE)  # kept
    step(page, "org-01-clone-in-the-past")
    page.get_by_label("Første dag").fill("2027-12-09")
    page.get_by_role("button", name="Opret den nye udgave").click()
    expect(page.get_by_role("heading", level=1, name=NEW_TITLE)).to_be_visible()
    expect(page.locator(".flash-success")).to_contain_text("oprettet som kladde")
    step(page, "org-02-cloned")


def _pictures(page: Page, step, live_server) -> None:
    page.goto(MANAGE)
    page.get_by_role("link", name="Billeder og vejvisning").click()
    cover = page.locator("input[name=cover]")
    alt = page.get_by_label("Hvad viser billedet?")
    for upload, reason in (
        (_file("plakat.png", "image/png", b"%PDF-1.7\n" + b"0" * 2000),
         "ikke et billede, men en PDF-fil"),
        (_file("stor.jpg", "image/jpeg", b"\xff\xd8\xff\xe0" + b"\0" * (6 * 1024 * 1024)),
         "Billedet er for stort"),
        (_file("bombe.png", "image/png", _bomb_png()), "for mange punkter"),
    ):
        cover.set_input_files(upload)
        alt.fill("Dokk1 ved havnen i Aarhus")
        page.get_by_role("button", name="Gem").click()
        expect(page.get_by_role("alert")).to_contain_text(reason)
        expect(page.get_by_label("Hvad viser billedet?")).to_have_value(
            "Dokk1 ved havnen i Aarhus")
        step(page, "org-03-picture-refused-" + upload["name"].split(".")[0])
    assert _db(live_server, "SELECT cover_image_id FROM events WHERE slug = ?",
               NEW_SLUG) == [(None,)]  # nothing saved
    cover.set_input_files(
        _file("dokk1.jpg", "image/jpeg", _jpeg(2400, 1000)))
    page.get_by_label("Sådan finder du vej").fill("Letbanen til Dokk1. Indgang fra havnen.")
    page.get_by_role("button", name="Gem").click()
    expect(page.locator(".flash-success")).to_contain_text("Billeder og vejvisning er gemt")


def _preview(page: Page, step, name: str) -> None:
    page.goto(f"/e/{NEW_SLUG}")
    expect(page.get_by_role("note")).to_contain_text("Forhåndsvisning – ikke offentliggjort")
    cover = page.get_by_role("img", name="Dokk1 ved havnen i Aarhus")
    expect(cover).to_be_visible()
    assert cover.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.get_by_role("link", name="Vis på kort (OpenStreetMap)")).to_have_attribute(
        "href", re.compile(r"^https://www\.openstreetmap\.org/search\?query=Dokk1"))
    step(page, f"{name}-preview")
    # The window opens next year (moved with the dates): the form shows, disabled.
    page.goto(f"/e/{NEW_SLUG}/register")
    expect(page.get_by_role("button", name="Tilmeld mig")).to_be_disabled()
    step(page, f"{name}-preview-register")


def _publish(page: Page, step) -> None:
    page.goto(MANAGE)
    page.get_by_role("link", name="Offentliggør").first.click()
    checklist = page.locator(".checklist")
    expect(checklist).to_contain_text("Privatlivspolitik")
    page.get_by_role("button", name="Offentliggør").click()
    expect(page.get_by_role("alert")).to_contain_text("kan ikke offentliggøres endnu")
    step(page, "org-05-publish-refused")
    for item in checklist.locator("li.is-missing").all_inner_texts():
        assert "Privatlivspolitik" in item or "Kontaktadresse" in item, item
    page.get_by_role("link", name=re.compile("Ret det her.*Privatlivspolitik")).click()
    page.get_by_label("Privatlivspolitik").fill(
        "Vi bruger dine oplysninger til at afvikle dagen og sletter dem et år efter.")
    # Registration opens now rather than at the date moved on from last year.
    page.get_by_label("Tilmelding åbner").fill(date.today().isoformat() + "T00:00")
    if page.get_by_label("Kontaktadresse", exact=False).count():  # where the event has one
        page.get_by_label(re.compile("Kontakt.*e-mail|Kontaktadresse")).first.fill(
            "info@delgenbrug.example.dk")
    page.get_by_role("button", name="Gem").click()
    page.goto(f"{MANAGE}/publish")
    expect(page.locator(".checklist li.is-missing")).to_have_count(0)
    step(page, "org-06-checklist-complete")
    page.get_by_role("button", name="Offentliggør").click()
    expect(page.locator(".flash-success")).to_contain_text("er offentliggjort")
    step(page, "org-07-published")


def _outside_speaker(page: Page, step) -> None:
    page.goto(f"{MANAGE}/programme/speakers/")
    page.get_by_role("link", name="Tilføj oplægsholder").click()
    page.get_by_label("Navn", exact=True).fill("Ole Udefra")
    page.get_by_label("Stilling").fill("Seniorkonsulent")
    page.get_by_label("Organisation").fill("Tryghed A/S")
    page.get_by_label("Kort om oplægsholderen").fill("Har indført tryghedsalarmer i 12 "
                                                     "kommuner.")
    page.get_by_label("Foto").set_input_files(_file("ole.jpg", "image/jpeg", _jpeg(800, 800)))
    page.get_by_role("button", name="Gem").click()
    expect(page.locator(".flash-success")).to_contain_text("Ole Udefra er gemt")
    step(page, "org-08-speakers")
    # On the pitch session, beside the speakers it has.
    page.goto(f"{MANAGE}/programme/")
    page.get_by_role("link", name=re.compile("^Pitch: fem løsninger")).click()
    select = page.get_by_label("Oplægsholdere", exact=True)
    chosen = select.evaluate("s => [...s.selectedOptions].map(o => o.label)")
    select.select_option(label=[*chosen, "Ole Udefra (Tryghed A/S)"])
    page.get_by_role("button", name="Gem").click()
    if page.get_by_label(re.compile("Gem alligevel")).count():
        page.get_by_label(re.compile("Gem alligevel")).check()
        page.get_by_role("button", name="Gem").click()
    expect(page.locator(".flash-success")).to_contain_text("Programpunktet er gemt")


def _register_on_phone(browser: Browser, live_server, step) -> tuple[str, str]:
    context = phone_context(browser, live_server.base_url)
    try:
        page = context.new_page()
        address = f"mette.{secrets.token_hex(3)}@aarhus.example.dk"
        page.goto(f"/e/{NEW_SLUG}")
        page.get_by_role("main").get_by_role("link", name="Tilmeld dig").click()
        page.get_by_label("Navn", exact=True).fill("Mette Holm")
        page.get_by_label("E-mail", exact=True).fill(address)
        page.get_by_label("Organisation", exact=True).fill("Aarhus Kommune")
        page.get_by_label("Stilling").fill("Udviklingskonsulent")
        page.get_by_role("group", name="Deltager du i frokosten?").get_by_role(
            "radio", name="Ja").check()
        page.get_by_role("button", name="Tilmeld mig").click()
        expect(page.get_by_role("heading", level=1, name=re.compile("Tak for din"))
               ).to_be_visible()
        step(page, "org-10-phone-registered")
        page.goto(f"/e/{NEW_SLUG}/speakers")
        page.get_by_role("link", name="Ole Udefra").click()
        expect(page.get_by_text("Seniorkonsulent, Tryghed A/S")).to_be_visible()
        step(page, "org-11-phone-speaker-page")
        page.goto(f"/e/{NEW_SLUG}")
        step(page, "org-12-phone-event-page")
    finally:
        context.close()
    code = _db(live_server, "SELECT r.ticket_code FROM registrations r JOIN events e ON "
               "e.id = r.event_id WHERE e.slug = ? AND r.email = ?", NEW_SLUG, address)[0][0]
    return address, code


def _link_registered_speaker(page: Page) -> None:
    page.goto(f"{MANAGE}/programme/speakers/")
    page.get_by_role("link", name="Mette Holm", exact=True).click()
    page.get_by_label("Tilmeldt deltager").select_option(label="Mette Holm (Aarhus Kommune)")
    page.get_by_role("button", name="Gem").click()
    expect(page.locator(".flash-success")).to_contain_text("Mette Holm er gemt")


def _badges(page: Page, live_server, code: str, tmp_path, lang: str) -> None:
    page.goto(f"{MANAGE}/registrations?lang={lang}")
    href = page.locator("a[href*='/badges.pdf']").first.get_attribute("href")
    pdf = page.request.get(live_server.base_url + href).body()
    badges = badge_texts(pdf, tmp_path)
    speakers = _db(live_server, "SELECT COUNT(*) FROM event_speakers s JOIN events e ON "
                   "e.id = s.event_id WHERE e.slug = ?", NEW_SLUG)[0][0]
    assert len(badges) == speakers  # every speaker, registered or not (no one else yet)
    assert all(b.endswith(" TALER") for b in badges), badges  # a Danish event
    assert f"{NEW_TITLE} Ole Udefra Seniorkonsulent Tryghed A/S TALER" in badges, badges
    token, typed = _db(live_server, "SELECT scan_token, scan_code FROM registrations WHERE "
                       "ticket_code = ?", code)[0]  # a badge holds the scan link, never the ticket
    # ... and under its QR the short code to type when a camera fails
    assert (f"{NEW_TITLE} Mette Holm Udviklingskonsulent Aarhus Kommune "
            f"{typed[:4]}-{typed[4:]} TALER") in badges, badges
    assert pdf_qr_codes(pdf, tmp_path) == [f"{live_server.base_url}/s/{token}"]
    (tmp_path / f"badges-{lang}.pdf").write_bytes(pdf)


def _delete_room(page: Page, step) -> None:
    page.goto(f"{MANAGE}/programme/")
    page.get_by_role("link", name=re.compile("Ret eller slet.*Store Sal")).click()
    expect(page.get_by_role("main")).to_contain_text("programpunkter bruger det")
    page.get_by_role("link", name="Slet lokalet").click()
    expect(page.get_by_role("group", name=re.compile("Hvor skal programpunkterne hen"))
           ).to_be_visible()
    step(page, "org-13-delete-room-asks")
    page.get_by_role("radio", name="Lokale 2").check()
    page.get_by_role("button", name="Slet", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("programpunkter er flyttet")
    step(page, "org-14-room-deleted")


def test_next_years_event_in_ten_minutes(browser: Browser, live_server, shot, tmp_path):
    def step(on: Page, name: str) -> None:
        step_check(on, shot, name)

    context = browser.new_context(base_url=live_server.base_url, viewport=DESKTOP,
                                  locale="da-DK")
    context.set_default_timeout(20_000)
    page = context.new_page()
    phone = phone_context(browser, live_server.base_url)
    try:
        _sign_in(page, live_server)
        _clone(page, step)
        _pictures(page, step, live_server)
        _preview(page, step, "org-04-desktop")
        phone_page = phone.new_page()
        _sign_in(phone_page, live_server)
        _preview(phone_page, step, "org-04-phone")
        _publish(page, step)
        _outside_speaker(page, step)
        _, code = _register_on_phone(browser, live_server, step)
        _link_registered_speaker(page)
        _badges(page, live_server, code, tmp_path, "da")
        _badges(page, live_server, code, tmp_path, "en")  # from the English interface
        page.goto(f"{MANAGE}?lang=da")
        _delete_room(page, step)
    finally:
        context.close()
        phone.close()
    _no_server_errors(live_server)


def test_dashboard_tiles_never_break_a_word(browser: Browser, live_server, shot):
    for viewport, name in ((DESKTOP, "desktop"), ({"width": 390, "height": 844}, "phone")):
        context = browser.new_context(base_url=live_server.base_url, viewport=viewport,
                                      locale="da-DK")
        try:
            page = context.new_page()
            _sign_in(page, live_server)
            page.goto(f"/manage/e/{EVENT_SLUG}/followup/")
            expect(page.locator(".figures li").first).to_be_visible()
            assert page.evaluate(BROKEN_WORDS_JS, ".figures li") == [], name
            step_check(page, shot, f"org-20-dashboard-{name}")
        finally:
            context.close()
