"""WCAG 2.1 AA, checked by machines on every main page, plus keyboard-only journeys.

- axe-core (npm, ``node_modules/axe-core/axe.min.js``) is injected with Playwright into
  Debian's Chromium on each page at phone (390 × 844) and desktop (1280 × 800) width:
  no serious or critical violation may remain. The page's CSP forbids inline scripts,
  so the test contexts use Playwright's ``bypass_csp``; production CSP is unchanged.
- The Nu HTML Checker (npm ``vnu-jar``, run with java) reads the same pages' HTML:
  no errors.
- Voting and check-in are done with the keyboard only, and the focused control shows a
  visible focus indicator.

Runs after the other journeys (file order) on the same demo server: it registers one
more participant and casts one vote.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.door import open_door
from tests.support.e2e import EVENT_SLUG, PHONE, REPO_ROOT, demo_db, sign_in_as_admin

AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = REPO_ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
DESKTOP = {"width": 1280, "height": 800}
WIDTHS = {"phone": PHONE, "desktop": DESKTOP}
BLOCKING = ("serious", "critical")
EMAIL = "wcag.tester@odense.example.dk"



@pytest.fixture(scope="module", autouse=True)
def checkers_installed() -> None:
    if not AXE.exists() or not VNU.exists():
        pytest.fail("axe-core and vnu-jar are missing: run `npm ci` in the repository",
                    pytrace=False)


@pytest.fixture(scope="module")
def demo(live_server) -> dict:
    """Ids and codes of the demo event, read from its database."""
    with demo_db(live_server) as conn:
        event_id, join_code = conn.execute(
            "SELECT id, join_code FROM events WHERE slug = ?", (EVENT_SLUG,)).fetchone()
        session_id = conn.execute("SELECT id FROM sessions WHERE event_id = ? ORDER BY "
                                  "starts_at LIMIT 1", (event_id,)).fetchone()[0]
        poll_id = conn.execute("SELECT id FROM polls WHERE event_id = ? AND status = 'open' "
                               "AND kind = 'single' ORDER BY position LIMIT 1",
                               (event_id,)).fetchone()[0]
        speaker_id = conn.execute("SELECT id FROM event_speakers WHERE event_id = ? "
                                  "ORDER BY id LIMIT 1", (event_id,)).fetchone()[0]
        room_id = conn.execute("SELECT id FROM rooms WHERE event_id = ? ORDER BY id LIMIT 1",
                               (event_id,)).fetchone()[0]
        listed, scan_token = conn.execute(
            "SELECT id, scan_token FROM registrations WHERE event_id = ? AND "
            "directory_consent_at IS NOT NULL ORDER BY id LIMIT 1", (event_id,)).fetchone()
    return {"event_id": event_id, "join": join_code, "session": session_id, "poll": poll_id,
            "speaker": speaker_id, "room": room_id, "listed": listed,
            "scan_token": scan_token}


@pytest.fixture(scope="module")
def states(browser: Browser, live_server, tmp_path_factory) -> dict:
    """Signed-in storage states: the demo admin, and a participant who registered and
    joined the network directory."""
    folder = tmp_path_factory.mktemp("states")
    context = browser.new_context(base_url=live_server.base_url, viewport=DESKTOP)
    page = context.new_page()
    sign_in_as_admin(page, live_server)
    context.storage_state(path=folder / "admin.json")
    context.close()

    context = browser.new_context(base_url=live_server.base_url, viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"/e/{EVENT_SLUG}/register")
    page.get_by_label("Navn", exact=True).fill("Wenche Tester")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Organisation", exact=True).fill("Odense Kommune")
    page.get_by_role("group", name="Deltager du i frokosten?").get_by_label("Ja").check()
    page.get_by_role("button", name=re.compile("Tilmeld")).click()
    expect(page).to_have_url(re.compile(r"/r/[^/?]+\?new=1"))
    receipt = page.url.split(live_server.base_url, 1)[1]
    # In the network directory, so the meeting picker offers slots.
    page.goto(f"/e/{EVENT_SLUG}/directory/me")
    page.get_by_label("Vis mig i netværket for dette arrangement").check()
    page.get_by_role("button", name="Gem", exact=True).click()
    expect(page.get_by_text("Du er synlig for de andre deltagere")).to_be_visible()
    context.storage_state(path=folder / "participant.json")
    context.close()
    return {"admin": str(folder / "admin.json"), "participant": str(folder / "participant.json"),
            "anonymous": None, "receipt": receipt}


def main_pages(demo: dict, states: dict) -> list[tuple[str, str, str]]:
    """(name, path, who) for every main page."""
    slug, manage = EVENT_SLUG, f"/manage/e/{EVENT_SLUG}"
    return [
        ("home", "/", "anonymous"),
        ("event", f"/e/{slug}", "anonymous"),
        ("register", f"/e/{slug}/register", "anonymous"),
        ("receipt", states["receipt"], "participant"),
        ("programme", f"/e/{slug}/programme", "anonymous"),
        ("programme-grid", f"/e/{slug}/programme?view=grid", "anonymous"),
        ("session", f"/e/{slug}/programme/{demo['session']}", "participant"),
        ("my-day", f"/e/{slug}/my-day", "participant"),
        ("poll-join", f"/j/{demo['join']}", "participant"),
        ("my-data", states["receipt"].split("?")[0] + "/my-data", "participant"),
        ("directory", f"/e/{slug}/directory", "participant"),
        ("privacy-notice", f"/e/{slug}/privacy", "anonymous"),
        ("accessibility", "/tilgaengelighed", "anonymous"),
        ("sign-in", "/login", "anonymous"),
        ("account", "/account", "admin"),
        ("manage-home", "/manage/", "admin"),
        ("manage-event", manage, "admin"),
        ("manage-edit", f"{manage}/edit", "admin"),
        ("manage-registrations", f"{manage}/registrations", "admin"),
        ("manage-questions", f"{manage}/questions", "admin"),
        ("manage-programme", f"{manage}/programme/", "admin"),
        ("manage-polls", f"{manage}/polls/", "admin"),
        ("presenter", f"{manage}/polls/{demo['poll']}/present", "admin"),
        ("room-screen", f"{manage}/polls/screen", "admin"),
        ("remote", f"{manage}/polls/remote", "admin"),
        ("manage-log", f"{manage}/log", "admin"),
        ("check-in", f"{manage}/checkin", "admin"),
        ("solutions", f"{manage}/solutions/", "admin"),
        ("follow-up", f"{manage}/followup/", "admin"),
        ("follow-up-report", f"{manage}/followup/report", "admin"),
        ("speakers", f"/e/{slug}/speakers", "anonymous"),
        ("speaker", f"/e/{slug}/speakers/{demo['speaker']}", "anonymous"),
        ("my-events", "/my-events", "admin"),
        ("manage-publish", f"{manage}/publish", "admin"),
        ("manage-unpublish", f"{manage}/unpublish", "admin"),
        ("manage-clone", f"{manage}/clone", "admin"),
        ("manage-pictures", f"{manage}/pictures", "admin"),
        ("manage-speakers", f"{manage}/programme/speakers/", "admin"),
        ("manage-speaker", f"{manage}/programme/speakers/{demo['speaker']}", "admin"),
        ("manage-room", f"{manage}/programme/rooms/{demo['room']}", "admin"),
        ("manage-room-delete", f"{manage}/programme/rooms/{demo['room']}/delete", "admin"),
        ("community", "/community/", "admin"),
        ("open-data", "/community/open-data/", "anonymous"),
        ("meetings", f"/e/{slug}/meetings", "participant"),
        ("meeting-picker", f"/e/{slug}/meetings/new/{demo['listed']}", "participant"),
        ("badge-code", f"/s/{demo['scan_token']}", "anonymous"),
        ("manage-meetings", f"{manage}/meetings/", "admin"),
        ("manage-meetings-setup", f"{manage}/meetings/setup", "admin"),
        ("manage-exhibitors", f"{manage}/meetings/exhibitors", "admin"),
        ("manage-mail", f"{manage}/mail", "admin"),
        ("manage-mail-text", f"{manage}/mail/texts/reminder/da", "admin"),
        ("manage-mail-preview", f"{manage}/mail/preview/reminder", "admin"),
        ("manage-messages", f"{manage}/mail/messages", "admin"),
    ]


def _context(browser: Browser, live_server, states, who: str, viewport: dict):
    context = browser.new_context(
        base_url=live_server.base_url, viewport=viewport, bypass_csp=True, locale="da-DK",
        storage_state=states[who], is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    context.set_default_timeout(15_000)
    return context


AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " :: " + n.failureSummary)}));
}"""


def axe_violations(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_RUN)


@pytest.mark.parametrize("width", list(WIDTHS))
def test_axe_finds_no_serious_or_critical_violations(browser, live_server, demo, states,
                                                     width):
    found = []
    contexts = {}
    try:
        for name, path, who in main_pages(demo, states):
            if who not in contexts:
                contexts[who] = _context(browser, live_server, states, who, WIDTHS[width])
            page = contexts[who].new_page()
            response = page.goto(path, wait_until="load")
            assert response.status == 200, (name, path, response.status)
            for v in axe_violations(page):
                if v["impact"] in BLOCKING:
                    found.append(f"{name} ({width}) {v['impact']} {v['id']}: {v['help']}\n    "
                                 + "\n    ".join(v["nodes"]))
            page.close()
    finally:
        for context in contexts.values():
            context.close()
    assert not found, "\n".join(found)


def test_nu_html_checker_reports_no_errors(browser, live_server, demo, states, tmp_path):
    assert shutil.which("java"), "the Nu HTML Checker needs java (default-jre-headless)"
    files = {}
    for who in ("anonymous", "participant", "admin"):
        context = _context(browser, live_server, states, who, DESKTOP)
        for name, path, owner in main_pages(demo, states):
            if owner != who:
                continue
            response = context.request.get(path)
            assert response.status == 200, (name, path)
            file = tmp_path / f"{name}.html"
            file.write_bytes(response.body())
            files[str(file)] = name
        context.close()
    done = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json",
                           *files], capture_output=True, text=True, timeout=300)
    messages = json.loads(done.stderr or done.stdout or '{"messages": []}')["messages"]
    errors = [f"{files.get(m.get('url', '').removeprefix('file:'), m.get('url'))}:"
              f"{m.get('lastLine')}: {m.get('message')} [{m.get('extract', '').strip()[:120]}]"
              for m in messages if m.get("type") == "error"]
    assert not errors, "\n".join(errors)


def _has_visible_focus(page: Page) -> bool:
    return page.evaluate("""() => {
      const el = document.activeElement;
      if (!el || el === document.body) return false;
      const s = getComputedStyle(el);
      const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
      return outline || (s.boxShadow && s.boxShadow !== "none");
    }""")


def _tab_to(page: Page, locator, limit: int = 80) -> None:
    """Press Tab until ``locator`` has the focus, checking each stop shows its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("el => el === document.activeElement"):
            assert _has_visible_focus(page), "the focused control shows no focus indicator"
            return
    raise AssertionError(f"Tab never reached {locator}")


def test_voting_by_keyboard_only(browser, live_server, demo, states):
    context = _context(browser, live_server, states, "anonymous", PHONE)
    page = context.new_page()
    page.goto(f"/j/{demo['join']}")
    poll = page.locator(f"#poll-{demo['poll']}")
    first_choice = poll.locator("input[name=choice]").first
    _tab_to(page, first_choice)
    page.keyboard.press("Space")
    expect(first_choice).to_be_checked()
    _tab_to(page, poll.get_by_role("button", name=re.compile("Stem")))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Tak for din stemme!")).to_be_visible()
    context.close()


def test_check_in_by_keyboard_only(browser, live_server, states):
    with demo_db(live_server) as conn:
        code = conn.execute("SELECT ticket_code FROM registrations WHERE email = ?",
                            (EMAIL,)).fetchone()[0]
    context = _context(browser, live_server, states, "admin", PHONE)
    page = context.new_page()
    open_door(page, EVENT_SLUG)
    field = page.get_by_label(re.compile("Billetkode"))
    _tab_to(page, field)
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    done = page.get_by_role("status").filter(has_text="Wenche Tester er checket ind kl.")
    expect(done).to_be_visible()
    # Back one stop from the field: the result's "Fortryd", with its focus showing.
    page.keyboard.press("Shift+Tab")
    undo = page.get_by_role("button", name="Fortryd")
    expect(undo).to_be_focused()
    assert _has_visible_focus(page), "the focused control shows no focus indicator"
    page.keyboard.press("Enter")
    expect(page.get_by_text("Check-in for Wenche Tester er fortrudt.")).to_be_visible()
    # By name: search, Tab to the person's button, Enter.
    _tab_to(page, field)
    page.keyboard.type("Wenche")
    page.keyboard.press("Enter")
    _tab_to(page, page.get_by_role("button", name="Check ind: Wenche Tester"))
    page.keyboard.press("Enter")
    expect(done).to_be_visible()
    context.close()


