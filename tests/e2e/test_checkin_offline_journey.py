"""The door with no network: check-in staff keep checking people in with the venue's
Wi-Fi gone (no mode to switch), and everything arrives once it is back.

Runs against the shared demo server; it checks in demo participants nobody else uses
and adds one registration on the waiting list.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import time
from datetime import UTC, datetime

from playwright.sync_api import Browser, Page, expect

from tests.support.door import open_door, sign_in_by_magic_link, sign_in_with_password
from tests.support.e2e import DESKTOP, EVENT_SLUG, phone_context, step_check

CHECKIN_PAGE = f"/manage/e/{EVENT_SLUG}/checkin"
CHECKIN_EMAIL = "checkin@example.com"
WAITLISTED = "venteliste.door@example.dk"


def _db(live_server) -> sqlite3.Connection:
    return sqlite3.connect(live_server.instance_dir / "eventhub.sqlite")


def _people(live_server, status: str = "confirmed") -> list[tuple[int, str, str]]:
    """(id, name, ticket code) of the demo event's registrations with ``status`` that
    are not checked in, by name."""
    with _db(live_server) as conn:
        return conn.execute(
            "SELECT r.id, r.name, r.ticket_code FROM registrations r JOIN events e "
            "ON e.id = r.event_id WHERE e.slug = ? AND r.status = ? AND r.checked_in_at "
            "IS NULL AND r.email LIKE '%.example.dk' ORDER BY r.name",
            (EVENT_SLUG, status)).fetchall()


def _waitlisted(live_server) -> str:
    """A registration on the waiting list (the demo has none): its ticket code."""
    code = secrets.token_urlsafe(20)
    with _db(live_server) as conn:
        conn.execute(
            "INSERT INTO registrations (event_id, name, email, job_title, status, badge_role, "
            "ticket_code, manage_token, created_at, updated_at, waitlisted_at, source) "
            "SELECT id, 'Vera Venteliste', ?, '', 'waitlisted', 'participant', ?, ?, "
            "datetime('now'), datetime('now'), datetime('now'), 'web' FROM events "
            "WHERE slug = ?", (WAITLISTED, code, secrets.token_urlsafe(32), EVENT_SLUG))
    return code


def _check_ins(live_server, registration_ids) -> dict[int, tuple]:
    """registration id → (checked in at, received at, offline, device number)."""
    marks = ",".join("?" * len(registration_ids))
    with _db(live_server) as conn:
        rows = conn.execute(
            "SELECT c.registration_id, c.checked_in_at, c.received_at, c.offline, d.number "
            f"FROM check_ins c LEFT JOIN check_in_devices d ON d.id = c.device_id "
            f"WHERE c.registration_id IN ({marks})", list(registration_ids)).fetchall()
    as_ms = lambda text: datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000  # noqa: E731
    return {reg: (as_ms(at), as_ms(received), bool(off), number)
            for reg, at, received, off, number in rows}


def _type_code(page: Page, code: str) -> None:
    field = page.get_by_label("Billetkode eller navn")
    field.fill(code)
    field.press("Enter")


def _page_requests(live_server) -> int:
    """How many times the server was asked for the check-in page itself."""
    log = live_server.log_file.read_text(errors="replace")
    return log.count(f'"method": "GET", "path": "{CHECKIN_PAGE}"')


def test_checking_in_with_no_network_and_sending_it_all_afterwards(
        browser: Browser, live_server, shot):
    def step(on: Page, name: str) -> None:
        step_check(on, shot, name)

    people = _people(live_server)[:4]
    cancelled = _people(live_server, "cancelled")[0]
    waitlisted = _waitlisted(live_server)
    context = phone_context(browser, live_server.base_url)
    try:
        page = context.new_page()
        sign_in_with_password(page, live_server.admin_email, live_server.admin_password)
        open_door(page, EVENT_SLUG)
        expect(page.get_by_role("status").filter(has_text="Online")).to_be_visible()
        step(page, "door-01-online-list-on-device")

        # The Wi-Fi goes. Reloading the page still works: the service worker has it.
        context.set_offline(True)
        asked = _page_requests(live_server)
        response = page.reload()
        assert response is not None and response.from_service_worker
        assert _page_requests(live_server) == asked, "the offline reload reached the server"
        expect(page.get_by_role("status").filter(has_text="Offline")).to_be_visible()
        step(page, "door-02-offline-after-reload")

        # Three by typed code, one by name: each is checked in on the device at once.
        made = {}
        for reg_id, name, code in people[:3]:
            before = page.evaluate("Date.now()")
            _type_code(page, code)
            expect(page.get_by_role("status").filter(
                has_text=f"{name} er checket ind kl.")).to_be_visible()
            made[reg_id] = (before, page.evaluate("Date.now()"))
        expect(page.get_by_text("3 venter på at blive sendt")).to_be_visible()
        step(page, "door-03-three-by-code")

        reg_id, name, _code = people[3]
        page.get_by_label("Billetkode eller navn").fill(name.split()[0])
        page.get_by_role("button", name="Find billet").click()
        before = page.evaluate("Date.now()")
        step(page, "door-04-search-by-name")
        page.get_by_role("button", name=f"Check ind: {name}").click()
        expect(page.get_by_role("status").filter(
            has_text=f"{name} er checket ind kl.")).to_be_visible()
        made[reg_id] = (before, page.evaluate("Date.now()"))
        expect(page.get_by_text("4 venter på at blive sendt")).to_be_visible()
        step(page, "door-05-four-waiting")

        # What cannot be checked in says so at once, with no network.
        _type_code(page, secrets.token_urlsafe(20))
        expect(page.get_by_role("alert").filter(has_text="Ukendt billet")).to_be_visible()
        step(page, "door-06-unknown-code")
        _type_code(page, cancelled[2])
        expect(page.get_by_role("alert").filter(
            has_text="Afmeldt – kan ikke checkes ind.")).to_be_visible()
        step(page, "door-07-cancelled")
        _type_code(page, waitlisted)
        expect(page.get_by_role("alert").filter(
            has_text="På venteliste – kan ikke checkes ind.")).to_be_visible()
        step(page, "door-08-waitlisted")
        _type_code(page, people[0][2])  # scanned twice at the door
        expect(page.get_by_role("alert").filter(
            has_text=re.compile(r"Allerede checket ind \d\d:\d\d \(enhed \w+\)"))).to_be_visible()
        step(page, "door-09-scanned-twice")
        time.sleep(2)  # so the time of sending differs clearly from the times of scanning

        # The network is back: the queue goes up by itself.
        context.set_offline(False)
        expect(page.get_by_text("Alt er sendt")).to_be_visible(timeout=15_000)
        expect(page.get_by_role("status").filter(has_text="Online")).to_be_visible()
        stored = _check_ins(live_server, made)
        assert sorted(stored) == sorted(made), stored
        for reg, (at, received, offline, device) in stored.items():
            first, last = made[reg]
            assert offline and device is not None, (reg, stored[reg])
            assert first - 1000 <= at <= last + 1000, (reg, at, made[reg])  # the scan's time
            assert received >= at + 1500, (reg, at, received)  # sent later
        page.locator("summary", has_text="Dørens status").click()
        step(page, "door-10-all-sent")
        page.set_viewport_size(DESKTOP)
        shot(page, "door-11-all-sent-desktop")
    finally:
        context.close()


def test_one_ticket_on_two_offline_devices_is_one_check_in_and_the_later_one_is_told(
        browser: Browser, live_server, shot):
    reg_id, name, code = _people(live_server)[4]
    first = phone_context(browser, live_server.base_url)  # staff at door 1
    second = phone_context(browser, live_server.base_url)  # staff at door 2
    try:
        b = second.new_page()
        sign_in_by_magic_link(b, live_server, CHECKIN_EMAIL)
        b_letters = open_door(b, EVENT_SLUG)
        a = first.new_page()
        sign_in_with_password(a, live_server.admin_email, live_server.admin_password)
        a_letters = open_door(a, EVENT_SLUG)
        assert a_letters != b_letters

        first.set_offline(True)
        second.set_offline(True)
        _type_code(b, code)  # door 2 lets them in first …
        expect(b.get_by_role("status").filter(has_text=f"{name} er checket ind")).to_be_visible()
        b_time = b.locator("[data-door-result] .notice").inner_text().rsplit(" ", 1)[1][:5]
        time.sleep(1.2)
        _type_code(a, code)  # … and a minute later the same ticket at door 1
        expect(a.get_by_role("status").filter(has_text=f"{name} er checket ind")).to_be_visible()
        step_check(a, shot, "door-20-device-a-offline")

        # Door 1 gets its network back first, then door 2, whose scan was earlier.
        first.set_offline(False)
        expect(a.get_by_text("Alt er sendt")).to_be_visible(timeout=15_000)
        second.set_offline(False)
        expect(b.get_by_text("Alt er sendt")).to_be_visible(timeout=15_000)

        warning = a.locator("[data-door-warnings]").get_by_text(
            f"{name}: allerede checket ind {b_time} (enhed {b_letters})")
        expect(warning).to_be_visible(timeout=15_000)
        step_check(a, shot, "door-21-device-a-warned")
        step_check(b, shot, "door-22-device-b")
        stored = _check_ins(live_server, [reg_id])
        assert len(stored) == 1
        with _db(live_server) as conn:
            b_number = conn.execute(
                "SELECT number FROM check_in_devices d JOIN check_ins c ON c.device_id = d.id "
                "WHERE c.registration_id = ?", (reg_id,)).fetchone()[0]
            duplicates = conn.execute("SELECT count(*) FROM check_in_duplicates WHERE "
                                      "registration_id = ?", (reg_id,)).fetchone()[0]
        assert b_number == ord(b_letters) - ord("A") + 1 and duplicates == 1
    finally:
        first.close()
        second.close()


DOOR_DATA_JS = """async () => ({
  databases: (await indexedDB.databases()).map((d) => d.name)
    .filter((n) => n.startsWith("eventhub-checkin")),
  caches: (await caches.keys()).filter((k) => k.startsWith("eventhub-checkin")),
  workers: (await navigator.serviceWorker.getRegistrations()).length,
})"""


def test_signing_out_sends_what_waits_and_removes_the_door_data(
        browser: Browser, live_server, shot):
    reg_id, name, code = _people(live_server)[0]
    context = phone_context(browser, live_server.base_url)
    try:
        page = context.new_page()
        sign_in_with_password(page, live_server.admin_email, live_server.admin_password)
        letters = open_door(page, EVENT_SLUG)
        assert page.evaluate(DOOR_DATA_JS)["databases"] == [f"eventhub-checkin:{EVENT_SLUG}"]
        context.set_offline(True)
        _type_code(page, code)
        expect(page.get_by_text("1 venter på at blive sendt")).to_be_visible()

        # Signing out while it cannot be sent: asked first, and staying keeps it.
        with page.expect_event("dialog") as asked:
            page.get_by_role("button", name="Log ud").click()
        assert asked.value.message == ("1 check-ins er ikke sendt endnu og går tabt, hvis du "
                                       "logger ud nu. Log ud alligevel?")
        asked.value.dismiss()
        expect(page.get_by_text("1 venter på at blive sendt")).to_be_visible()
        step_check(page, shot, "door-30-sign-out-stayed")

        # Online again: signing out sends it, signs the device out, and the phone forgets.
        context.set_offline(False)
        page.get_by_role("button", name="Log ud").click()
        expect(page.get_by_text("Du er logget ud.")).to_be_visible()
        assert reg_id in _check_ins(live_server, [reg_id])
        with _db(live_server) as conn:
            signed_out = conn.execute(
                "SELECT signed_out_at FROM check_in_devices d JOIN events e ON e.id = "
                "d.event_id WHERE e.slug = ? AND d.number = ?",
                (EVENT_SLUG, ord(letters) - ord("A") + 1)).fetchone()[0]
        assert signed_out is not None
        assert page.evaluate(DOOR_DATA_JS) == {"databases": [], "caches": [], "workers": 0}
        step_check(page, shot, "door-31-signed-out")
    finally:
        context.close()
