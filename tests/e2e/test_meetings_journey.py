"""Two phones book a meeting at the event: A opens a recommendation and asks B for a
slot, B says yes from the mail link, both see time and table in "my day", the calendar
feed holds one entry; B moves the meeting and the feed still holds one (same UID, higher
SEQUENCE). Then an exhibitor scans A's badge (typing the code), the lead appears in the
follow-up, and a participant without consent cannot be scanned. axe-core on the new
pages."""

from __future__ import annotations

import re

from icalendar import Calendar
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_wcag import BLOCKING, axe_violations
from tests.support.e2e import (
    DESKTOP,
    EVENT_PATH,
    PHONE,
    demo_db,
    demo_email,
    sign_in_as_admin,
    step_check,
)

# Demo participants (eventhub/demo.py): Trine is in the directory and agreed to be
# scanned, and is recommended to meet Anders; Søren is in the directory but did not
# agree to scanning.
ASKER = "Trine Nygaard"
MEETS = "Anders Lund"
NO_SCAN = "Søren Kjær"
EXHIBITOR = "udstiller@example.com"
MAGIC_LINK_RE = re.compile(r"https?://\S+/login/link/\S+")
MEETING_LINK_RE = re.compile(r"https?://\S+(/e/\S+/meetings/link/\S+)")


def _body(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def _personal_link(live_server, name: str) -> str:
    with demo_db(live_server) as conn:
        return "/r/" + conn.execute("SELECT manage_token FROM registrations WHERE name = ?",
                                    (name,)).fetchone()[0]


def _scan_token(live_server, name: str) -> str:
    with demo_db(live_server) as conn:
        return conn.execute("SELECT scan_token FROM registrations WHERE name = ?",
                            (name,)).fetchone()[0]


def _feed_entries(page: Page, uid: str | None = None) -> list:
    page.goto(EVENT_PATH + "/my-day")
    url = page.locator("#feed-url").input_value()
    cal = Calendar.from_ical(page.request.get(url).body())
    found = [e for e in cal.walk("VEVENT") if str(e["uid"]).startswith("meeting-")]
    return [e for e in found if uid is None or str(e["uid"]) == uid]


def _no_axe_findings(page: Page, name: str) -> None:
    found = [f"{name}: {v['impact']} {v['id']}: {v['help']} {v['nodes']}"
             for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert not found, "\n".join(found)


def _phone(browser: Browser, base_url: str):
    """A phone as tests/support/e2e.py makes one; CSP bypassed so axe-core can be injected
    (as tests/e2e/test_wcag.py does)."""
    context = browser.new_context(base_url=base_url, viewport=PHONE, device_scale_factor=1,
                                  is_mobile=True, has_touch=True, locale="da-DK",
                                  bypass_csp=True)
    context.set_default_timeout(20_000)
    return context


def _sign_in_by_link(page: Page, address: str, live_server, wait_for_mail, mail_files):
    page.goto("/login")
    magic = page.get_by_role("region", name="Få et login-link på mail")
    magic.get_by_label("E-mail").fill(address)
    before = mail_files(live_server.mail_dir)
    magic.get_by_role("button", name="Send mig et link").click()
    found = MAGIC_LINK_RE.search(_body(wait_for_mail(live_server.mail_dir, address,
                                                     after=before)))
    page.goto(found.group(0))
    page.get_by_role("main").get_by_role("button", name="Log ind").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Log ud")).to_be_visible()


def test_two_phones_book_a_meeting_and_an_exhibitor_scans_a_badge(
        browser: Browser, live_server, shot, wait_for_mail, mail_files):
    def step(on: Page, name: str) -> None:
        step_check(on, shot, f"meet-{name}")

    a_context, b_context, x_context = (_phone(browser, live_server.base_url)
                                       for _ in range(3))
    contexts = [a_context, b_context, x_context]
    try:
        a = a_context.new_page()
        a.goto(_personal_link(live_server, ASKER))

        # 1. A opens a recommendation and asks for a meeting.
        a.goto(EVENT_PATH + "/directory")
        meet = a.get_by_role("region", name="Folk du bør møde")
        other_name = MEETS
        step(a, "00-a-recommendations")
        meet.get_by_role("link", name=other_name).click()
        expect(a.get_by_role("heading", level=1, name=other_name)).to_be_visible()
        step(a, "01-a-person-page")
        a.get_by_role("link", name="Book et møde").click()
        expect(a.get_by_role("heading", level=1,
                             name=f"Book et møde med {other_name}")).to_be_visible()
        _no_axe_findings(a, "picker")
        slot = a.get_by_role("radio").first
        slot.check()
        when = a.locator("label.choice").first.inner_text().strip()
        a.get_by_label("Hvad vil du gerne tale om? (valgfrit)").fill(
            "Hvordan kom I i gang med skærmbesøg?")
        step(a, "02-a-picker")
        b_email = demo_email(live_server, other_name)
        before = mail_files(live_server.mail_dir)
        a.get_by_role("button", name="Send forespørgsel").click()
        expect(a.locator(".flash-success")).to_contain_text(f"sendt til {other_name}")
        step(a, "03-a-requested")
        _no_axe_findings(a, "meeting")

        # 2. B opens the mail on another phone and says yes from its link.
        mail = wait_for_mail(live_server.mail_dir, b_email, after=before)
        assert f"{ASKER} vil gerne mødes med dig" in mail["Subject"]
        b = b_context.new_page()
        b.goto(MEETING_LINK_RE.search(_body(mail)).group(1))
        expect(b.get_by_role("heading", level=1, name=f"Møde med {ASKER}")).to_be_visible()
        step(b, "04-b-from-mail")
        b.get_by_role("button", name="Ja, vi mødes").click()
        expect(b.locator(".flash-success")).to_contain_text("Du har sagt ja")
        table = b.locator("dt:has-text('Sted') + dd").inner_text().split(",")[0].strip()
        assert table.startswith(("Bord", "Stand")), table
        step(b, "05-b-accepted")

        # 3. Both see time and table in "my day"; the feed holds one entry.
        b.goto(_personal_link(live_server, other_name))
        for who, page in (("a", a), ("b", b)):
            page.goto(EVENT_PATH + "/my-day")
            day = page.get_by_role("region", name="Mine møder")
            expect(day).to_contain_text(when.split("–")[0])
            expect(day).to_contain_text(table)
            step(page, f"06-{who}-my-day")
        entries = _feed_entries(a)
        assert len(entries) == 1, entries
        uid, sequence = str(entries[0]["uid"]), int(entries[0]["sequence"])

        # 4. B moves the meeting: still one entry, the same UID, a higher SEQUENCE.
        b.goto(EVENT_PATH + "/meetings")
        b.get_by_role("link", name=f"Møde med {ASKER}").click()
        move = b.get_by_role("combobox", name="Nyt tidspunkt")
        move.select_option(index=1)
        step(b, "07-b-move")
        b.get_by_role("button", name="Flyt mødet").click()
        expect(b.locator(".flash-success")).to_contain_text("Det nye tidspunkt er sendt")
        for page in (a, b):
            moved = _feed_entries(page)
            assert len(moved) == 1 and str(moved[0]["uid"]) == uid
            assert int(moved[0]["sequence"]) > sequence
        a.goto(EVENT_PATH + "/meetings")
        step(a, "08-a-meetings")
        _no_axe_findings(a, "my-meetings")

        # 5. An exhibitor scans A's badge by typing its code; a lead appears.
        x = x_context.new_page()
        _sign_in_by_link(x, EXHIBITOR, live_server, wait_for_mail, mail_files)
        x.goto(EVENT_PATH + "/scan")
        expect(x.get_by_role("heading", level=1, name="Scan badges")).to_be_visible()
        _no_axe_findings(x, "scanner")
        x.get_by_label("Koden fra navneskiltet").fill(_scan_token(live_server, ASKER))
        step(x, "09-x-scanner")
        x.get_by_role("button", name="Scan", exact=True).click()
        expect(x.get_by_role("heading", level=1, name=ASKER)).to_be_visible()
        x.get_by_role("radio", name="4").check()
        x.get_by_label("Noter").fill("Vil gerne låne to sensorer")
        x.get_by_label("Mærker, adskilt af komma").fill("pilot")
        step(x, "10-x-notes")
        _no_axe_findings(x, "scan-notes")
        x.get_by_role("button", name="Gem").click()
        expect(x.locator(".flash-success")).to_contain_text("Gemt i opfølgningen")

        # 6. Someone who did not agree cannot be scanned; nothing is stored.
        x.get_by_label("Koden fra navneskiltet").fill(_scan_token(live_server, NO_SCAN))
        x.get_by_role("button", name="Scan", exact=True).click()
        expect(x.get_by_role("alert")).to_contain_text(
            f"{NO_SCAN} har ikke givet samtykke")
        step(x, "11-x-no-consent")
        with demo_db(live_server) as conn:
            assert conn.execute(
                "SELECT count(*) FROM badge_scans s JOIN registrations r ON "
                "r.id = s.registration_id WHERE r.name = ?", (NO_SCAN,)).fetchone()[0] == 0

        # The community manager's follow-up holds the lead from the scan.
        staff = browser.new_context(base_url=live_server.base_url, viewport=DESKTOP,
                                    locale="da-DK", bypass_csp=True)
        contexts.append(staff)
        admin = staff.new_page()
        sign_in_as_admin(admin, live_server)
        admin.goto(f"/manage/e/{EVENT_PATH.rsplit('/', 1)[1]}/followup/leads")
        expect(admin.get_by_role("main")).to_contain_text(ASKER)
        admin.goto(f"/manage/e/{EVENT_PATH.rsplit('/', 1)[1]}/meetings/")
        expect(admin.get_by_role("main")).to_contain_text(f"{ASKER} & {other_name}")
        step(admin, "12-staff-schedule")
        _no_axe_findings(admin, "staff-schedule")
        for path, name in (("setup", "13-staff-setup"), ("exhibitors", "14-staff-exhibitors")):
            admin.goto(f"/manage/e/{EVENT_PATH.rsplit('/', 1)[1]}/meetings/{path}")
            step(admin, name)
            _no_axe_findings(admin, name)
        pdf = admin.request.get(f"/manage/e/{EVENT_PATH.rsplit('/', 1)[1]}"
                                "/meetings/schedule.pdf")
        assert pdf.ok and pdf.body().startswith(b"%PDF")
    finally:
        for context in contexts:
            context.close()
