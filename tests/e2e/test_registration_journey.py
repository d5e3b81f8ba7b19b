"""A participant registers on a phone, gets the ticket by mail, and is checked in by staff."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import Browser, Page, expect

from tests.support.door import open_door
from tests.support.e2e import EVENT_PATH, EVENT_SLUG, EVENT_TITLE, phone_context, step_check

CHECKIN_EMAIL = "checkin@example.com"
MAGIC_LINK_RE = re.compile(r"https?://\S+/login/link/\S+")




def _link(body: str, base_url: str, prefix: str) -> str:
    found = re.search(re.escape(base_url + prefix) + r"[A-Za-z0-9_-]+", body)
    assert found, f"no {base_url}{prefix}… link in the mail:\n{body}"
    return found.group(0)


def _sign_in_by_magic_link(page: Page, live_server, wait_for_mail, mail_files, step) -> None:
    """Check-in staff ask for a login link, read the mail, open it and press "Log ind"."""
    page.goto("/login")
    expect(page.get_by_role("heading", level=1, name="Log ind")).to_be_visible()
    magic = page.get_by_role("region", name="Få et login-link på mail")
    magic.get_by_label("E-mail").fill(CHECKIN_EMAIL)
    step(page, "reg-10-staff-login")
    before = mail_files(live_server.mail_dir)
    magic.get_by_role("button", name="Send mig et link").click()
    expect(page.get_by_role("heading", level=1, name="Tjek din mail")).to_be_visible()

    msg = wait_for_mail(live_server.mail_dir, CHECKIN_EMAIL, after=before)
    body = msg.get_body(preferencelist=("plain",)).get_content()
    found = MAGIC_LINK_RE.search(body)
    assert found, f"no /login/link/ URL in the mail:\n{body}"
    page.goto(found.group(0))
    expect(page.get_by_role("heading", level=1, name="Log ind på EventHub")).to_be_visible()
    page.get_by_role("main").get_by_role("button", name="Log ind").click()
    nav = page.get_by_role("banner").get_by_role("navigation")
    expect(nav.get_by_role("button", name="Log ud")).to_be_visible()
    step(page, "reg-11-staff-signed-in")


def _scan_ticket(page: Page, code: str, step, name: str) -> None:
    """Type the code on the event's check-in page (the door app, its list on the phone)."""
    expect(page.get_by_role("heading", level=1, name="Check-in")).to_be_visible()
    page.get_by_label("Billetkode eller navn").fill(code)
    step(page, name)
    page.get_by_role("button", name="Find billet").click()


def test_participant_registers_gets_ticket_and_is_checked_in(
    browser: Browser, phone_page: Page, live_server, shot, wait_for_mail, mail_files
):
    def step(on: Page, name: str) -> None:
        step_check(on, shot, name)

    page = phone_page
    name = f"Deltager {secrets.token_hex(3)}"
    address = f"deltager{secrets.token_hex(4)}@example.com"

    # 1. The visitor registers from the event page.
    page.goto(EVENT_PATH)
    expect(page.get_by_role("heading", level=1, name=EVENT_TITLE)).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Tilmeld dig").click()
    expect(page).to_have_url(re.compile(re.escape(EVENT_PATH + "/register")))
    expect(page.get_by_role("heading", level=1, name="Tilmeld dig")).to_be_visible()

    page.get_by_label("Navn", exact=True).fill(name)
    page.get_by_label("E-mail", exact=True).fill(address)

    organization = page.get_by_label("Organisation", exact=True)
    organization.press_sequentially("Svendborg")
    expect(organization).to_have_attribute("list", "organizations")
    expect(
        page.locator('datalist#organizations > option[value="Svendborg Kommune"]')
    ).to_have_count(1)
    suggestions = organization.evaluate(
        "el => Array.from(el.list.options).map(o => o.value)"
        ".filter(v => v.toLowerCase().includes(el.value.toLowerCase()))"
    )
    assert "Svendborg Kommune" in suggestions, suggestions
    organization.fill("Svendborg Kommune")
    page.get_by_label("Stilling").fill("Digitaliseringskonsulent")
    # The demo event asks one required question of its own.
    page.get_by_role("group", name="Deltager du i frokosten?").get_by_role(
        "radio", name="Ja"
    ).check()

    consent = page.get_by_role("checkbox", name=re.compile("netværksoversigt"))
    expect(consent).not_to_be_checked()
    step(page, "reg-01-register-form")

    before = mail_files(live_server.mail_dir)
    page.get_by_role("button", name="Tilmeld mig").click()
    expect(
        page.get_by_role("heading", level=1, name=re.compile("Tak for din tilmelding"))
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Status: Bekræftet")).to_be_visible()
    expect(page.get_by_text("Nej, du vises ikke")).to_be_visible()
    step(page, "reg-02-receipt")

    # 2. The confirmation mail carries the ticket, the calendar entry and both links.
    msg = wait_for_mail(live_server.mail_dir, address, after=before)
    assert msg["Subject"] == f"Du er tilmeldt {EVENT_TITLE}", msg["Subject"]
    attachments = {part.get_filename() for part in msg.iter_attachments()}
    assert {"billet-qr.png", "arrangement.ics"} <= attachments, attachments
    body = msg.get_body(preferencelist=("plain",)).get_content()
    ticket_link = _link(body, live_server.base_url, "/t/")
    personal_link = _link(body, live_server.base_url, "/r/")
    code = ticket_link.rsplit("/t/", 1)[1]

    page.goto(personal_link)
    expect(page.get_by_role("heading", level=1, name="Din tilmelding")).to_be_visible()

    page.goto(ticket_link)
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    qr = page.get_by_role("img", name=re.compile("QR-kode"))
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "QR image did not load"
    expect(page.get_by_text(re.compile(r"^Checket ind"))).to_have_count(0)
    step(page, "reg-03-ticket")

    # 3. Check-in staff sign in on their own phone and check the participant in.
    staff_context = phone_context(browser, live_server.base_url)
    try:
        staff = staff_context.new_page()
        _sign_in_by_magic_link(staff, live_server, wait_for_mail, mail_files, step)

        open_door(staff, EVENT_SLUG)
        _scan_ticket(staff, code, step, "reg-12-checkin-code")
        card = staff.locator("[data-door-result]").get_by_role("article")
        expect(card.get_by_role("heading", name=name)).to_be_visible()
        expect(card.get_by_text("Svendborg Kommune")).to_be_visible()
        expect(
            staff.get_by_role("status").filter(has_text=f"{name} er checket ind kl.")
        ).to_be_visible()
        expect(staff.get_by_text("Alt er sendt")).to_be_visible()  # the server has it
        step(staff, "reg-14-checked-in")

        # The same code typed again: staff are warned, and there is nothing to press.
        _scan_ticket(staff, code, step, "reg-15-checkin-code-again")
        warning = staff.get_by_role("alert").filter(has_text="Allerede checket ind")
        expect(warning).to_be_visible()
        expect(warning).to_have_class(re.compile(r"\bnotice-warn\b"))
        expect(staff.get_by_role("button", name=re.compile("^Check ind"))).to_have_count(0)
        step(staff, "reg-16-already-checked-in")
    finally:
        staff_context.close()

    # 4. The participant's ticket now says so.
    page.reload()
    expect(page.get_by_text(re.compile(r"^Checket ind"))).to_be_visible()
    step(page, "reg-04-ticket-checked-in")
