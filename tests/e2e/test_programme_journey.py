"""A participant builds "my day" on a phone: filter, star, sign up, copy the calendar link.

Also takes desktop screenshots of the programme list, the room grid and a session page.
"""

from __future__ import annotations

import re
import secrets

from icalendar import Calendar
from playwright.sync_api import Browser, Page, expect

from tests.support.e2e import DESKTOP, EVENT_PATH, EVENT_TITLE, step_check

PROGRAMME_PATH = f"{EVENT_PATH}/programme"

NEW_TRACK = "Nye løsninger"
DRIFT_ONLY = "Skærmbesøg i hjemmeplejen: 40.000 besøg senere"
SENSORS = "Sensorer mod fald om natten"
WORKSHOP_MAST = "Workshop: Gevinstrealisering med MAST"
WORKSHOP_NIH = "Workshop: Fra 'ikke opfundet her' til 'godt fundet der'"

def _register(page: Page, name: str, address: str) -> None:
    """Register for the demo event; the browser then remembers the participant."""
    page.goto(f"{EVENT_PATH}/register")
    expect(page.get_by_role("heading", level=1, name="Tilmeld dig")).to_be_visible()
    page.get_by_label("Navn", exact=True).fill(name)
    page.get_by_label("E-mail", exact=True).fill(address)
    page.get_by_label("Organisation", exact=True).fill("Odense Kommune")
    page.get_by_role("group", name="Deltager du i frokosten?").get_by_role(
        "radio", name="Ja"
    ).check()
    page.get_by_role("button", name="Tilmeld mig").click()
    expect(
        page.get_by_role("heading", level=1, name=re.compile("Tak for din tilmelding"))
    ).to_be_visible()


def _star_name(label: str, title: str) -> re.Pattern[str]:
    """The star button's accessible name: its label, a dash, then the session title."""
    return re.compile(re.escape(label) + r"\s+– " + re.escape(title) + "$")


def _star(page: Page, title: str) -> None:
    """Press "☆ Føj til min dag" on a session card and wait for "★ I min dag"."""
    add = page.get_by_role("button", name=_star_name("Føj til min dag", title))
    expect(add).to_have_attribute("aria-pressed", "false")
    add.click()
    starred = page.get_by_role("button", name=_star_name("I min dag", title))
    expect(starred).to_be_visible()
    expect(starred).to_have_attribute("aria-pressed", "true")
    expect(starred).to_contain_text("★ I min dag")


def test_participant_builds_my_day_and_subscribes(phone_page: Page, live_server, shot):
    def step(name: str) -> None:
        step_check(page, shot, name)

    page = phone_page
    page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=live_server.base_url
    )
    name = f"Deltager {secrets.token_hex(3)}"
    address = f"program{secrets.token_hex(4)}@example.com"

    # 1. Register: from now on this browser is the participant.
    _register(page, name, address)
    step("prog-01-registered")

    # 2. The event page leads to the programme.
    page.goto(EVENT_PATH)
    expect(page.get_by_role("heading", level=1, name=EVENT_TITLE)).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Se programmet").click()
    expect(page).to_have_url(re.compile(re.escape(PROGRAMME_PATH) + r"$"))
    expect(page.get_by_role("heading", level=1, name="Program")).to_be_visible()
    expect(page.get_by_role("link", name=DRIFT_ONLY)).to_be_visible()
    step("prog-02-programme")

    # 3. Filter on one track: a Drift-only session goes, a "Nye løsninger" one stays.
    filters = page.get_by_role("form", name="Filtrér programmet")
    filters.get_by_label("Spor").select_option(label=NEW_TRACK)
    filters.get_by_role("button", name="Vis").click()
    expect(page).to_have_url(re.compile(r"[?&]track=\d+"))
    expect(page.get_by_label("Spor")).to_have_value(re.compile(r"^\d+$"))
    expect(page.get_by_role("link", name=DRIFT_ONLY)).to_have_count(0)
    expect(page.get_by_role("link", name=WORKSHOP_MAST)).to_have_count(0)
    expect(page.get_by_role("link", name=SENSORS)).to_be_visible()
    step("prog-03-filtered")

    # 4. Star two sessions; the filter survives the round trip.
    _star(page, SENSORS)
    expect(page).to_have_url(re.compile(r"[?&]track=\d+"))
    expect(page.get_by_role("link", name=DRIFT_ONLY)).to_have_count(0)
    _star(page, WORKSHOP_NIH)
    expect(page.get_by_role("button", name=_star_name("I min dag", SENSORS))).to_be_visible()
    step("prog-04-starred")

    # 5. Sign up for the other workshop (in the other track, at the same time).
    filters = page.get_by_role("form", name="Filtrér programmet")
    filters.get_by_label("Spor").select_option(label="Alle spor")
    filters.get_by_role("button", name="Vis").click()
    page.get_by_role("link", name=WORKSHOP_MAST, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=WORKSHOP_MAST)).to_be_visible()
    signup = page.get_by_role("region", name="Tilmelding til workshoppen")
    expect(signup).to_contain_text("af 30 pladser er taget")
    step("prog-05-workshop")
    signup.get_by_role("button", name="Tilmeld mig workshoppen").click()
    expect(
        page.get_by_role("status").filter(has_text=f"Du er tilmeldt {WORKSHOP_MAST}")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Tilmeld mig workshoppen")).to_have_count(0)
    expect(page.get_by_role("button", name="Afmeld workshoppen")).to_be_visible()
    # A sign-up is starred too.
    expect(page.get_by_role("button", name="I min dag")).to_have_attribute("aria-pressed", "true")
    step("prog-06-signed-up")

    # 6. "Min dag" lists all three, and warns that the two workshops clash.
    page.get_by_role("main").get_by_role("link", name="Program", exact=True).click()
    page.get_by_role("main").get_by_role("link", name="Min dag", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Min dag")).to_be_visible()
    chosen = page.get_by_role("main").get_by_role("list").first
    for title in (SENSORS, WORKSHOP_MAST, WORKSHOP_NIH):
        expect(chosen.get_by_role("link", name=title, exact=True)).to_be_visible()
    expect(chosen.get_by_role("link", name=DRIFT_ONLY)).to_have_count(0)
    expect(chosen.get_by_role("listitem").filter(has_text=WORKSHOP_MAST)).to_contain_text(
        "Tilmeldt"
    )
    clash = page.get_by_role("alert").filter(has_text="ligger samtidig")
    expect(clash).to_have_count(1)
    expect(clash).to_contain_text(WORKSHOP_MAST)
    expect(clash).to_contain_text(WORKSHOP_NIH)
    step("prog-07-my-day")

    # 7. The calendar: a webcal:// subscribe link and a copy button for the https link.
    subscribe = page.get_by_role("link", name="Abonnér i kalenderen")
    assert subscribe.get_attribute("href").startswith("webcal://"), subscribe.get_attribute("href")
    feed_input = page.get_by_label("Eller kopiér linket")
    feed_url = feed_input.input_value()
    assert f"{EVENT_PATH}/agenda/" in feed_url, feed_url
    assert feed_url.startswith(live_server.base_url), feed_url
    assert subscribe.get_attribute("href") == "webcal://" + feed_url.split("://", 1)[1]

    copy = page.get_by_role("button", name="Kopiér linket")
    expect(copy).to_be_visible()
    expect(copy).to_have_attribute("type", "button")
    status = page.locator(".copy-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_text("")
    copy.click()
    expect(status).to_have_text("Linket er kopieret")
    step("prog-08-copied")
    assert page.evaluate("navigator.clipboard.readText()") == feed_url

    # 8. The feed itself needs no login: the chosen sessions are in it.
    response = page.request.get(feed_url)
    assert response.ok, response.status
    assert response.headers["content-type"].startswith("text/calendar"), response.headers
    calendar = Calendar.from_ical(response.body())
    summaries = {str(c.get("SUMMARY")) for c in calendar.walk("VEVENT")}
    assert {SENSORS, WORKSHOP_NIH, WORKSHOP_MAST} <= summaries, summaries
    assert DRIFT_ONLY not in summaries, summaries


def test_programme_pages_on_a_desktop(browser: Browser, live_server, shot):
    context = browser.new_context(base_url=live_server.base_url, viewport=DESKTOP, locale="da-DK")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()

        page.goto(PROGRAMME_PATH)
        expect(page.get_by_role("heading", level=1, name="Program")).to_be_visible()
        expect(page.get_by_role("link", name=SENSORS)).to_be_visible()
        step_check(page, shot, "prog-desktop-01-list")

        page.get_by_role("link", name="Oversigt over lokaler").click()
        expect(page).to_have_url(re.compile(r"[?&]view=grid"))
        expect(page.get_by_role("heading", level=1, name="Program efter lokale")).to_be_visible()
        grid = page.get_by_role("table")
        for room in ("Store Sal", "Lokale 2"):
            expect(grid.get_by_role("columnheader", name=room)).to_be_visible()
        expect(grid.get_by_role("link", name=WORKSHOP_MAST)).to_be_visible()
        step_check(page, shot, "prog-desktop-02-grid")

        grid.get_by_role("link", name=WORKSHOP_NIH).click()
        expect(page.get_by_role("heading", level=1, name=WORKSHOP_NIH)).to_be_visible()
        expect(page.get_by_text("Store Sal")).to_be_visible()
        step_check(page, shot, "prog-desktop-03-session")

        # Not registered: "Min dag" explains how to get in instead of failing.
        page.goto(f"{EVENT_PATH}/my-day")
        expect(page.get_by_role("heading", level=1, name="Min dag")).to_be_visible()
        expect(page.get_by_role("main").get_by_role("link", name="Log ind")).to_be_visible()
        step_check(page, shot, "prog-desktop-04-my-day-anonymous")
    finally:
        context.close()
