"""The organizer moves a session and cancels another (desktop); the participant who chose
both hears of both in one mail, sees them in the calendar feed, and after check-in
downloads the certificate of attendance (phone).

The live demo server runs no scheduler of its own (other journeys' edits stay quiet);
this journey runs ``eventhub run-scheduled`` once against the same database, with the
coalescing window set to nothing, and the server's outbox worker delivers the notice to
its mail folder.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from icalendar import Calendar
from playwright.sync_api import Browser, Page, expect

from tests.support.e2e import (
    DESKTOP,
    EVENT_PATH,
    REPO_ROOT,
    phone_context,
    sign_in_as_admin,
    step_check,
)

MANAGE = "/manage/e/del-genbrug-2026"
MAGIC_LINK_RE = re.compile(r"https?://\S+/login/link/\S+")
TICKET_RE = re.compile(r"https?://\S+/t/(\S+)")
MOVED = f"Erfaringsbar: velfærdsteknologi {secrets.token_hex(2)}"
CANCELLED = f"Ekstra værksted: sensorer {secrets.token_hex(2)}"


def _body(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def _sign_in_staff(page: Page, live_server) -> None:
    sign_in_as_admin(page, live_server)


def _new_session(page: Page, title: str, start: str, end: str) -> int:
    page.goto(f"{MANAGE}/programme/sessions/new")
    page.get_by_label("Titel", exact=True).fill(title)
    page.get_by_label("Start").fill(start)
    page.get_by_label("Slut").fill(end)
    page.get_by_role("button", name="Gem").click()
    if page.get_by_label(re.compile("Gem alligevel")).count():
        page.get_by_label(re.compile("Gem alligevel")).check()
        page.get_by_role("button", name="Gem").click()
    expect(page.get_by_text("Programpunktet er gemt.")).to_be_visible()
    href = page.get_by_role("link", name=title, exact=True).get_attribute("href")
    return int(href.rstrip("/").rsplit("/", 1)[1])


def _run_scheduler(live_server) -> None:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update(EVENTHUB_INSTANCE=str(live_server.instance_dir),
               MAIL_FOLDER=str(live_server.mail_dir), BASE_URL=live_server.base_url,
               CHANGE_NOTICE_WINDOW_SECONDS="0")
    script = Path(sys.executable).parent / "eventhub"
    done = subprocess.run([str(script), "run-scheduled"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_changes_reach_the_participant_and_the_certificate_follows_check_in(
    browser: Browser, live_server, shot, wait_for_mail, mail_files, tmp_path
):
    def step(on: Page, name: str) -> None:
        step_check(on, shot, name)

    desk = browser.new_context(base_url=live_server.base_url, viewport=DESKTOP,
                               locale="da-DK")
    desk.set_default_timeout(15_000)
    organizer = desk.new_page()
    _sign_in_staff(organizer, live_server)
    moved_id = _new_session(organizer, MOVED, "2026-12-10T14:00", "2026-12-10T14:30")
    gone_id = _new_session(organizer, CANCELLED, "2026-12-10T15:30", "2026-12-10T16:00")

    # the participant registers on the phone and puts both in "my day"
    phone = phone_context(browser, live_server.base_url)
    page = phone.new_page()
    address = f"karen.{secrets.token_hex(3)}@odense.example.dk"
    before = mail_files(live_server.mail_dir)
    page.goto(f"{EVENT_PATH}/register")
    page.get_by_label("Navn", exact=True).fill("Karen Kvist")
    page.get_by_label("E-mail", exact=True).fill(address)
    page.get_by_label("Organisation", exact=True).fill("Odense Kommune")
    page.get_by_role("group", name="Deltager du i frokosten?").get_by_role(
        "radio", name="Ja").check()
    page.get_by_role("button", name="Tilmeld mig").click()
    expect(page.get_by_role("heading", level=1, name=re.compile("Tak for din tilmelding"))
           ).to_be_visible()
    receipt = wait_for_mail(live_server.mail_dir, address, after=before)
    assert receipt["Reply-To"] == "mette.kjaer@delgenbrug.example.dk"
    assert receipt["List-Unsubscribe"] is None  # a receipt is not bulk mail
    ticket_code = TICKET_RE.search(_body(receipt)).group(1)
    for session_id in (moved_id, gone_id):
        page.goto(f"{EVENT_PATH}/programme/{session_id}")
        page.get_by_role("button", name=re.compile("Føj til min dag")).click()
        expect(page.get_by_role("button", name=re.compile("I min dag"))).to_be_visible()
    step(page, "comms-01-my-day-starred")

    # the organizer moves one (seeing who will be told) and cancels the other
    organizer.goto(f"{MANAGE}/programme/sessions/{moved_id}")
    expect(organizer.locator("#notice-count")).to_contain_text("1 person får besked")
    organizer.get_by_label("Start").fill("2026-12-10T15:00")
    organizer.get_by_label("Slut").fill("2026-12-10T15:30")
    step(organizer, "comms-02-organizer-moves-desktop")
    organizer.get_by_role("button", name="Gem").click()
    if organizer.get_by_label(re.compile("Gem alligevel")).count():
        organizer.get_by_label(re.compile("Gem alligevel")).check()
        organizer.get_by_role("button", name="Gem").click()
    expect(organizer.get_by_text("Programpunktet er gemt.")).to_be_visible()
    organizer.get_by_role("link", name=re.compile("Aflys " + re.escape(CANCELLED))).click()
    expect(organizer.locator("#notice-count")).to_contain_text("får besked på mail")
    step(organizer, "comms-02b-organizer-cancels-desktop")
    organizer.get_by_role("button", name="Aflys programpunktet").click()
    expect(organizer.get_by_text("Programpunktet er aflyst")).to_be_visible()
    organizer.goto(f"{MANAGE}/mail")
    step(organizer, "comms-03-mail-rules-desktop")

    before = mail_files(live_server.mail_dir)
    _run_scheduler(live_server)
    notice = wait_for_mail(live_server.mail_dir, address, after=before, timeout=30)
    text = _body(notice)
    assert notice["Subject"] == "Ændringer i Del & Genbrug 2026"
    assert f"«{MOVED}»: nu kl. 15:00–15:30 (før kl. 14:00–14:30)" in text
    assert f"«{CANCELLED}» er aflyst." in text
    assert notice["Reply-To"] == "mette.kjaer@delgenbrug.example.dk"
    names = {part.get_filename() for part in notice.iter_attachments()}
    assert {"opdateret.ics", "aflyst.ics"} <= names

    # the calendar feed shows both
    feed = Calendar.from_ical(page.request.get(f"{EVENT_PATH}/programme.ics").body())
    entries = {str(e["SUMMARY"]): e for e in feed.walk("VEVENT")}
    assert str(entries[CANCELLED]["STATUS"]) == "CANCELLED"
    assert entries[MOVED].decoded("DTSTART").strftime("%H:%M") == "15:00"

    # no certificate before check-in; the organizer checks Karen in
    token = re.search(r"/r/([^/\s]+)", _body(receipt)).group(1)
    early = page.goto(f"/r/{token}/certificate.pdf")
    assert early.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Intet deltagerbevis endnu")
    step(page, "comms-04-no-certificate-yet")
    organizer.goto(f"/t/{ticket_code}")
    organizer.get_by_role("button", name="Check ind").click()
    expect(organizer.get_by_role("button", name="Fortryd check-in")).to_be_visible()

    # Karen signs in by link on her phone and finds the certificate on her home page
    page.goto("/login")
    magic = page.get_by_role("region", name="Få et login-link på mail")
    magic.get_by_label("E-mail").fill(address)
    before = mail_files(live_server.mail_dir)
    magic.get_by_role("button", name="Send mig et link").click()
    link = MAGIC_LINK_RE.search(_body(wait_for_mail(live_server.mail_dir, address,
                                                    after=before))).group(0)
    page.goto(link)
    page.get_by_role("main").get_by_role("button", name="Log ind").click()
    page.goto("/my-events")
    certificate = page.get_by_role("link", name=re.compile("Deltagerbevis"))
    expect(certificate).to_be_visible()
    step(page, "comms-05-my-events-certificate")
    pdf = page.request.get(certificate.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "bevis.pdf"
    path.write_bytes(pdf.body())
    words = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                           check=True).stdout
    assert "Karen Kvist" in words and "Del & Genbrug 2026" in words
    assert MOVED in words and CANCELLED not in words  # what she attended, not the cancelled
    desk.close()
    phone.close()
