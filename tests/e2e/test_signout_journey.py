"""An organizer signs in on a shared municipal PC and on a phone, forgets to sign out on
the PC, and signs it out from the phone; a copy of the PC's cookie opens nothing after.
And a sign-in link crafted to lead off the site leads to this site."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _context(browser: Browser, live_server, viewport: dict, user_agent: str | None = None):
    options = {"base_url": live_server.base_url, "viewport": viewport, "locale": "da-DK"}
    if user_agent:
        options["user_agent"] = user_agent
    if viewport is PHONE:
        options.update(is_mobile=True, has_touch=True)
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    return context


def _sign_in(page: Page, live_server, path: str = "/login") -> None:
    page.goto(path)
    form = page.get_by_role("region", name="Arrangører: log ind med adgangskode")
    form.get_by_label("E-mail").fill(live_server.admin_email)
    form.get_by_label("Adgangskode").fill(live_server.admin_password)
    form.get_by_role("button", name="Log ind").click()


def _opens_manage(page: Page, live_server) -> bool:
    page.goto("/manage/")
    return not page.url.startswith(live_server.url("/login"))


def _no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


def test_a_shared_pc_is_signed_out_from_the_phone(browser: Browser, live_server, shot):
    pc_context = _context(browser, live_server, DESKTOP,
                          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                          "(KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0")
    phone_context = _context(browser, live_server, PHONE,
                             "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
                             "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
                             "Mobile/15E148 Safari/604.1")
    thief_context = _context(browser, live_server, DESKTOP)
    try:
        pc, phone, thief = (c.new_page() for c in (pc_context, phone_context, thief_context))
        _sign_in(pc, live_server)
        expect(pc.get_by_role("button", name="Log ud")).to_be_visible()
        _sign_in(phone, live_server)
        thief_context.add_cookies(pc_context.cookies())  # copied off the shared PC
        assert _opens_manage(thief, live_server)

        pc.goto("/account")
        section = pc.get_by_role("region", name="Her er du logget ind")
        expect(section.get_by_text("Edge på Windows")).to_be_visible()
        expect(section.get_by_text("Safari på iPhone")).to_be_visible()
        shot(pc, "signout-01-account-desktop")
        _no_sideways_scroll(pc)

        phone.goto("/account")
        section = phone.get_by_role("region", name="Her er du logget ind")
        expect(section.get_by_text("Denne browser")).to_be_visible()
        shot(phone, "signout-02-account-phone")
        _no_sideways_scroll(phone)
        section.get_by_role("button", name="Log ud på Edge på Windows").click()
        expect(phone.get_by_text("Den browser er logget ud.")).to_be_visible()
        expect(phone.get_by_role("region", name="Her er du logget ind")
               .get_by_text("Edge på Windows")).to_have_count(0)
        shot(phone, "signout-03-pc-signed-out-phone")

        assert not _opens_manage(pc, live_server)
        assert not _opens_manage(thief, live_server)
        assert _opens_manage(phone, live_server)

        # Signing out on the phone itself: a copy of its cookie is worthless too.
        copy_context = _context(browser, live_server, PHONE)
        copy_context.add_cookies(phone_context.cookies())
        phone.get_by_role("button", name="Log ud").first.click()
        expect(phone.get_by_text("Du er logget ud.")).to_be_visible()
        assert not _opens_manage(copy_context.new_page(), live_server)
        copy_context.close()
    finally:
        for context in (pc_context, phone_context, thief_context):
            context.close()


def test_a_crafted_next_leads_to_this_site(browser: Browser, live_server):
    for crafted in ("/%09/example.org", "/%5C%5Cexample.org", "//example.org",
                    "/%2F%2Fexample.org", "https:example.org"):
        context = _context(browser, live_server, DESKTOP)
        try:
            page = context.new_page()
            _sign_in(page, live_server, "/login?next=" + crafted)
            expect(page.get_by_role("button", name="Log ud")).to_be_visible()
            assert page.url.startswith(live_server.base_url + "/"), (crafted, page.url)
        finally:
            context.close()
