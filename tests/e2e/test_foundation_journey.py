"""A visitor on a phone: the event page, switching language, signing in by magic link."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import Page, expect

EVENT_PATH = "/e/del-genbrug-2026"
LINK_RE = re.compile(r"https?://\S+/login/link/\S+")


def _html(page: Page):
    return page.locator("html")


def _nav(page: Page):
    return page.get_by_role("banner").get_by_role("navigation")


def _step(page: Page, shot, name: str) -> None:
    """Screenshot the step and check the page does not scroll sideways on the phone."""
    shot(page, name)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: page is {overflow}px wider than the phone screen"


def test_visitor_switches_language_and_signs_in_by_magic_link(
    phone_page: Page, live_server, shot, wait_for_mail, mail_files
):
    page = phone_page

    # The event page is Danish by default.
    page.goto(EVENT_PATH)
    expect(_html(page)).to_have_attribute("lang", "da")
    expect(page.get_by_role("heading", level=1, name="Del & Genbrug 2026")).to_be_visible()
    _step(page, shot, "01-event-da")

    # English, and the choice is remembered on the next page.
    _nav(page).get_by_role("link", name="English").click()
    expect(_html(page)).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(re.escape(EVENT_PATH)))
    expect(_nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    _step(page, shot, "02-event-en")

    page.goto("/")
    expect(_html(page)).to_have_attribute("lang", "en")
    expect(_nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    _step(page, shot, "03-index-en")

    _nav(page).get_by_role("link", name="Dansk").click()
    expect(_html(page)).to_have_attribute("lang", "da")
    expect(_nav(page).get_by_role("link", name="Log ind")).to_be_visible()
    _step(page, shot, "04-index-da")

    # Ask for a login link.
    _nav(page).get_by_role("link", name="Log ind").click()
    expect(page.get_by_role("heading", level=1, name="Log ind")).to_be_visible()
    address = f"besoeg{secrets.token_hex(4)}@example.com"
    magic = page.get_by_role("region", name="Få et login-link på mail")
    magic.get_by_label("E-mail").fill(address)
    _step(page, shot, "05-login-filled")
    before = mail_files(live_server.mail_dir)
    magic.get_by_role("button", name="Send mig et link").click()
    expect(page.get_by_role("heading", level=1, name="Tjek din mail")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text=address)).to_be_visible()
    _step(page, shot, "06-magic-sent")

    # The mail carries a link; opening it does not sign in, the button does.
    msg = wait_for_mail(live_server.mail_dir, address, after=before)
    body = msg.get_body(preferencelist=("plain",)).get_content()
    found = LINK_RE.search(body)
    assert found, f"no /login/link/ URL in the mail:\n{body}"
    link = found.group(0)
    assert link.startswith(live_server.base_url + "/login/link/"), link

    page.goto(link)
    expect(page.get_by_role("heading", level=1, name="Log ind på EventHub")).to_be_visible()
    expect(_nav(page).get_by_role("link", name="Min konto")).to_have_count(0)
    expect(_nav(page).get_by_role("link", name="Log ind")).to_be_visible()
    _step(page, shot, "07-magic-confirm")

    page.get_by_role("main").get_by_role("button", name="Log ind").click()
    expect(_nav(page).get_by_role("link", name="Min konto")).to_be_visible()
    expect(_nav(page).get_by_role("button", name="Log ud")).to_be_visible()
    expect(_nav(page).get_by_role("link", name="Log ind")).to_have_count(0)
    _step(page, shot, "08-signed-in")

    # The link is single-use.
    page.goto(link)
    expect(page.get_by_role("heading", level=1, name="Linket er allerede brugt")).to_be_visible()
    _step(page, shot, "09-link-used")
