"""The community manager's desktop journey after the event: open the follow-up dashboard,
introduce two organizations (both get a mail), move a lead to "adopted (adaptation)",
and download the post-event report as PDF; a page of the PDF is turned into a PNG
(pdftoppm) and its text read back (pdftotext)."""

from __future__ import annotations

import re
import shutil
import subprocess

from playwright.sync_api import Browser, expect

from tests.support.e2e import (
    DESKTOP,
    EVENT_SLUG,
    EVENT_TITLE,
    SCREENSHOT_DIR,
    demo_email,
    sign_in_as_admin,
    step_check,
)

MANAGE = f"/manage/e/{EVENT_SLUG}"
# A demo lead at "Møde" (Randers wants screen visits; a meeting with Svendborg is set).
LEAD_PERSON = "Pernille Krogh"


def test_community_manager_follows_up_to_adoption_and_reports(
    browser: Browser, live_server, shot, wait_for_mail, mail_files, tmp_path
):
    assert shutil.which("pdftoppm") and shutil.which("pdftotext"), \
        "poppler-utils (pdftoppm, pdftotext) is missing: .ci/run installs it"
    context = browser.new_context(base_url=live_server.base_url, viewport=DESKTOP,
                                  locale="da-DK")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in_as_admin(page, live_server)

        # 1. From the event's staff page to the dashboard
        page.goto(MANAGE)
        panel = page.get_by_role("region", name="Opfølgning", exact=True)
        panel.get_by_role("link", name="Opfølgning", exact=True).click()
        expect(page.get_by_role("heading", level=1, name="Opfølgning")).to_be_visible()
        figures = page.get_by_role("region", name="Nøgletal")
        expect(figures).to_contain_text("tilmeldt")
        reuse = page.get_by_role("region", name="Genbrug", exact=True)
        expect(reuse).to_contain_text("genbrugsrate")
        expect(page.locator("svg.chart.months")).to_be_visible()
        matrix = page.get_by_role("region", name="Interesse × løsninger")
        expect(matrix.get_by_role("row", name=re.compile("Skærmbesøg i hjemmeplejen"))
               ).to_be_visible()
        step_check(page, shot, "followup-01-dashboard")

        # 2. Introduce the first suggested pair: a flash names both, both get a mail
        suggestion = page.locator(".suggestion").first
        expect(suggestion).to_be_visible()
        before = mail_files(live_server.mail_dir)
        suggestion.get_by_role("button", name=re.compile("^Introducér")).click()
        flash = page.locator(".flash-success")
        expect(flash).to_contain_text("er introduceret til hinanden")
        found = re.search(r"^(.+) og (.+) er introduceret", flash.inner_text())
        assert found, flash.inner_text()
        seeker, runner = found.group(1), found.group(2)
        step_check(page, shot, "followup-02-introduced")
        for name, other in ((seeker, runner), (runner, seeker)):
            mail = wait_for_mail(live_server.mail_dir, demo_email(live_server, name),
                                 after=before)
            body = mail.get_body(preferencelist=("plain",)).get_content()
            assert other in body and "/u/" in body, body
            assert demo_email(live_server, other) not in body  # no address handed out

        # 3. The board: open a lead at "Møde" and move it to "Genbrugt (tilpasning)"
        page.get_by_role("navigation", name="Opfølgning").get_by_role(
            "link", name="Tavle").click()
        expect(page.get_by_role("heading", level=1, name="Tavle")).to_be_visible()
        expect(page.locator(".lead-card.overdue").first).to_be_visible()  # stands out
        step_check(page, shot, "followup-03-board")
        meeting = page.get_by_role("region", name=re.compile(r"^Møde"))
        meeting.locator(".lead-card", has_text=LEAD_PERSON).get_by_role("link").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Randers Kommune")
        move = page.get_by_role("region", name="Flyt leadet")
        move.get_by_label("Ny fase").select_option(label="Genbrugt (tilpasning)")
        move.get_by_label("Note").fill("Kører nu med Svendborgs model, tilpasset aftenvagten.")
        move.get_by_role("button", name="Flyt").click()
        expect(page.locator(".flash-success")).to_contain_text("Genbrugt (tilpasning)")
        history = page.get_by_role("region", name="Historik")
        expect(history.locator(".move").first).to_have_text("Møde → Genbrugt (tilpasning)")
        expect(history).to_contain_text("Kontaktet → Møde")  # earlier moves are kept
        step_check(page, shot, "followup-04-adopted")

        # 4. The report page, then its PDF
        page.get_by_role("navigation", name="Opfølgning").get_by_role(
            "link", name="Rapport").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Rapport: {EVENT_TITLE}")
        expect(page.locator("svg.chart").first).to_be_visible()
        step_check(page, shot, "followup-05-report")
        href = page.get_by_role("link", name="Hent som PDF").get_attribute("href")
        response = context.request.get(href)
        assert response.ok and response.headers["content-type"] == "application/pdf"
        pdf = tmp_path / "rapport.pdf"
        pdf.write_bytes(response.body())
        subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "70", "-png", str(pdf),
                        str(tmp_path / "page")], check=True, timeout=60)
        png = next(tmp_path.glob("page*.png"))
        SCREENSHOT_DIR.mkdir(exist_ok=True)
        shutil.copy(png, SCREENSHOT_DIR / "followup-06-report-pdf-page1.png")
        assert png.stat().st_size > 10_000  # a real page, not a blank one
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True,
                              timeout=60).stdout.decode()
        for words in (f"Rapport: {EVENT_TITLE}", "Efter type organisation", "Efter region",
                      "Hvad er den største barriere", "Skærmbesøg i hjemmeplejen",
                      "Genbrugsrate", "Genbrugt (tilpasning)"):
            assert words in text, words
    finally:
        context.close()
