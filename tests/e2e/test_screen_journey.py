"""The room's screen, the presenter's remote and phones at a big session.

- A phone with eight polls open holds exactly one result stream, votes on each within
  two seconds, sees polls appear and go without a reload, and leaves by a link at once.
- The remote moves the room's screen (1920 × 1080) through a word cloud with phrases, a
  ranking answered by keyboard, and a quiz with its leaderboard, while two phones
  answer. Screenshots go to tests/e2e/screenshots/.
- axe-core finds no serious or critical violation on the screen, the remote and the
  join page with the ranking control.

Runs on the shared demo server; it adds its own polls to the demo event.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support.e2e import (
    EVENT_SLUG,
    REPO_ROOT,
    demo_db,
    phone_context,
    shot,
    sign_in_as_admin,
)

POLLS = f"/manage/e/{EVENT_SLUG}/polls"
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Counts the EventSource objects a page makes, and how many are open.
COUNT_STREAMS = """
(() => {
  const Original = window.EventSource;
  window.__streams = [];
  window.EventSource = class extends Original {
    constructor(...args) { super(...args); window.__streams.push(this); }
  };
})();
"""


def snap(page: Page, name: str) -> None:
    """The viewport as the room (or the phone) sees it, and the whole page beside it."""
    page.screenshot(path=str(shot(page, f"screen-{name}").with_name(f"screen-{name}-view.png")))


@pytest.fixture(scope="module")
def organizer(browser: Browser, live_server) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live_server.base_url,
                                  viewport={"width": 1280, "height": 900}, locale="da-DK")
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in_as_admin(page, live_server)
    page.close()
    yield context
    context.close()


@pytest.fixture(scope="module")
def join(live_server) -> str:
    with demo_db(live_server) as conn:
        return conn.execute("SELECT join_code FROM events WHERE slug = ?",
                            (EVENT_SLUG,)).fetchone()[0]


def new_poll(page: Page, question: str, kind: str, options: str = "", **fields) -> int:
    """A poll made with the organizer's form; returns its id."""
    page.goto(f"{POLLS}/new")
    page.get_by_label("Spørgsmål", exact=True).fill(question)
    page.get_by_label("Type").select_option(kind)
    if options:
        page.get_by_label("Svarmuligheder").fill(options)
    for label, value in fields.items():
        field = page.get_by_label(label)
        if isinstance(value, bool):
            field.set_checked(value)
        elif field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(str(value))
    page.get_by_role("button", name="Gem").click()
    expect(page.locator(".flash-success")).to_contain_text("Afstemningen er gemt")
    href = page.get_by_role("link", name=question, exact=True).last.get_attribute("href")
    return int(href.rstrip("/").rsplit("/", 1)[1])


def act(page: Page, poll_id: int, action: str) -> None:
    """Open or close a poll from the list, as the organizer clicks it."""
    page.goto(f"{POLLS}/")
    page.locator(f"form[action$='/polls/{poll_id}/{action}'] button").click()
    expect(page.locator(".flash-error")).to_have_count(0)


def test_a_phone_holds_one_stream_with_eight_polls_open(browser, organizer, join,
                                                        live_server):
    admin = organizer.new_page()
    ids = [new_poll(admin, f"Stream-spørgsmål {n}", "single", "Ja\nNej\nMåske",
                    **{"Telefonerne ser resultatet": "always"}) for n in range(1, 9)]
    for poll_id in ids:
        act(admin, poll_id, "open")
    context = phone_context(browser, live_server.base_url)
    context.add_init_script(COUNT_STREAMS)
    phone = context.new_page()
    phone.goto(f"/j/{join}")
    for n, poll_id in enumerate(ids):
        section = phone.locator(f"#poll-{poll_id}")
        section.get_by_label(["Ja", "Nej", "Måske"][n % 3]).check()
        started = time.monotonic()
        section.get_by_role("button", name="Stem").click()
        expect(section.locator("[data-vote-status]")).to_have_text("Tak for din stemme!",
                                                                  timeout=2000)
        assert time.monotonic() - started < 2.0, f"vote {n + 1} took too long"
    # one stream for the whole page, still open; its tally reaches the phone's bars
    assert phone.evaluate("window.__streams.length") == 1
    assert phone.evaluate("window.__streams[0].readyState") == 1
    expect(phone.locator(f"#poll-{ids[0]} tbody tr").first.locator("td").nth(1)
           ).to_have_text("1", timeout=5000)
    snap(phone, "phone-eight-polls-390")

    # a poll opening and one closing: the page follows without a reload
    phone.evaluate("window.__stay = 1")
    extra = new_poll(admin, "Stream-spørgsmål 9", "single", "Ja\nNej")
    act(admin, extra, "open")
    expect(phone.locator(f"#poll-{extra}")).to_be_visible(timeout=5000)
    act(admin, ids[0], "close")
    expect(phone.locator(f"#poll-{ids[0]}")).to_have_count(0, timeout=5000)
    assert phone.evaluate("window.__stay") == 1
    assert phone.evaluate("window.__streams.length") == 1

    # following a link away is not held up by the stream
    started = time.monotonic()
    phone.get_by_role("link", name="Arrangementer").first.click()
    expect(phone).not_to_have_url(re.compile(r"/j/"), timeout=2000)
    assert time.monotonic() - started < 2.0
    for poll_id in ids[1:] + [extra]:
        act(admin, poll_id, "close")
    admin.close()
    context.close()


def test_the_remote_moves_the_room_screen_while_two_phones_answer(browser, organizer, join,
                                                                 live_server):
    admin = organizer.new_page()
    cloud = new_poll(admin, "Hvad mangler for at genbruge?", "wordcloud",
                     **{"Svar pr. deltager (ordsky)": 3,
                        "Telefonerne ser resultatet": "always"})
    ranking = new_poll(admin, "Hvilken løsning vil I genbruge først?", "ranking",
                       "Skærmbesøg\nMedicinrobot\nSensorgulve")
    quiz = new_poll(admin, "Hvor mange kommuner har Danmark?", "quiz", "5\n*98\n275",
                    **{"Tidsgrænse i sekunder (quiz)": 120})

    screen = organizer.new_page()
    screen.set_viewport_size({"width": 1920, "height": 1080})
    screen.goto(f"{POLLS}/screen")
    expect(screen.locator(".screen-code")).to_have_text(join)
    for chrome in ("Log ud", "Mine arrangementer"):
        expect(screen.get_by_text(chrome)).to_have_count(0)
    snap(screen, "room-join-1920")
    screen.set_viewport_size({"width": 1280, "height": 720})
    snap(screen, "room-join-1280x720")
    screen.set_viewport_size({"width": 1920, "height": 1080})

    remote = organizer.new_page()
    remote.goto(f"{POLLS}/remote")
    phones = [phone_context(browser, live_server.base_url) for _ in range(2)]
    pages = [ctx.new_page() for ctx in phones]

    # 1. the word cloud, with phrases
    remote.locator("li", has_text="Hvad mangler for at genbruge?").get_by_role(
        "button", name="Vis på skærmen").click()
    remote.get_by_role("button", name="Åbn afstemningen").click()
    expect(screen.locator(".screen-question")).to_have_text("Hvad mangler for at genbruge?")
    expect(screen.get_by_text("Ingen svar endnu")).to_be_visible()  # the empty cloud
    snap(screen, "room-wordcloud-empty-1920")
    pages[0].goto(f"/j/{join}")
    expect(pages[0].locator(f"#poll-{cloud}").get_by_text("Ingen svar endnu")).to_be_visible()
    pages[0].locator(f"#poll-{cloud}").scroll_into_view_if_needed()
    snap(pages[0], "phone-wordcloud-empty-390")
    answers = (["Manglende data", "Tid"], ["  manglende   DATA "])
    for page, entries in zip(pages, answers, strict=True):
        page.goto(f"/j/{join}")
        section = page.locator(f"#poll-{cloud}")
        for i, entry in enumerate(entries, start=1):
            section.get_by_label(f"Svar {i}", exact=True).fill(entry)
        section.get_by_role("button", name="Send svar").click()
        expect(section.locator("[data-vote-status]")).to_have_text("Tak for din stemme!")
    expect(screen.locator("svg.cloud text", has_text="manglende data")).to_be_visible()
    expect(screen.locator("svg.cloud text")).to_have_count(2)
    snap(screen, "room-wordcloud-1920")
    snap(pages[0], "phone-wordcloud-390")

    # 2. the ranking, by keyboard
    remote.get_by_role("button", name="Næste ▶").click()
    remote.get_by_role("button", name="Åbn afstemningen").click()
    expect(screen.locator(".screen-question")).to_have_text(
        "Hvilken løsning vil I genbruge først?")
    for page in pages:
        page.goto(f"/j/{join}")
        section = page.locator(f"#poll-{ranking}")
        # Sensorgulve to the top: focus its "Op" button and press Enter twice
        up = section.locator(".ranking-item", has_text="Sensorgulve").get_by_role(
            "button", name="Op")
        up.focus()
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
        expect(section.locator(".ranking-label").first).to_have_text("Sensorgulve")
        expect(section.locator("[data-ranking-status]")).to_have_text(
            "Sensorgulve er nu nummer 1 af 3.")
        assert page.evaluate("document.activeElement.textContent").strip().endswith("Op")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        section.get_by_role("button", name="Send svar").focus()
        page.keyboard.press("Enter")
        expect(section.locator("[data-vote-status]")).to_have_text("Tak for din stemme!")
    snap(pages[1], "phone-ranking-390")
    remote.get_by_role("button", name="Vis resultatet").click()
    expect(screen.locator("svg.chart .bar-label").first).to_have_text("Sensorgulve")
    expect(screen.locator("svg.chart .bar-value").first).to_have_text("6 p")
    snap(screen, "room-ranking-1920")

    # 3. the quiz, with a leaderboard of nicknames
    remote.get_by_role("button", name="Næste ▶").click()
    remote.get_by_role("button", name="Åbn afstemningen").click()
    expect(screen.locator(".screen-timer")).to_contain_text("s")
    for page, nick, answer in zip(pages, ("Lynet", "Kommunegeek"), ("98", "275"), strict=True):
        page.goto(f"/j/{join}")
        section = page.locator(f"#poll-{quiz}")
        section.get_by_label(answer, exact=True).check()
        section.get_by_label("Kaldenavn til pointtavlen (valgfrit)").fill(nick)
        section.get_by_role("button", name="Send svar").click()
        expect(section.locator("[data-vote-status]")).to_have_text("Tak for din stemme!")
    snap(pages[0], "phone-quiz-390")
    remote.get_by_role("button", name="Vis resultatet").click()
    board = screen.locator(".leaderboard li")
    expect(board.first).to_contain_text("Lynet")
    expect(board).to_have_count(2)
    expect(screen.locator("svg.chart .bar-label", has_text="✓ 98")).to_be_visible()
    snap(screen, "room-quiz-1920")
    remote.get_by_role("button", name="Lyst tema").click()
    expect(screen.locator("body")).to_have_class(re.compile("theme-light"))
    snap(screen, "room-quiz-light-1920")
    snap(remote, "remote-1280")
    remote.set_viewport_size({"width": 390, "height": 844})
    snap(remote, "remote-390")
    overflow = remote.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, "the remote scrolls sideways on a phone"
    remote.set_viewport_size({"width": 1280, "height": 900})

    # 4. Q&A: a phone asks with its name; the remote sees it waiting (without a reload)
    # and approves it; the screen shows it then, without any controls.
    qa = new_poll(admin, "Spørgsmål til panelet", "qa", **{
        "Deltagerne må skrive deres navn ved spørgsmålet (ellers anonymt)": True})
    remote.goto(f"{POLLS}/remote")
    remote.locator("li", has_text="Spørgsmål til panelet").get_by_role(
        "button", name="Vis på skærmen").click()
    remote.get_by_role("button", name="Åbn afstemningen").click()
    remote.evaluate("window.__stay = 1")
    pages[0].goto(f"/j/{join}")
    section = pages[0].locator(f"#poll-{qa}")
    section.get_by_label("Dit spørgsmål").fill("Hvem betaler for driften?")
    section.get_by_label("Dit navn (valgfrit)").fill("Mette")
    section.get_by_role("button", name="Send spørgsmål").click()
    queue = remote.locator("#remote-queue")
    expect(queue).to_contain_text("1 venter", timeout=5000)
    assert remote.evaluate("window.__stay") == 1
    expect(screen.locator(".screen-question")).to_have_text("Spørgsmål til panelet")
    expect(screen.get_by_text("Hvem betaler for driften?")).to_have_count(0)
    queue.get_by_role("button", name="Godkend").click()
    expect(screen.locator(".qa-list")).to_contain_text("Hvem betaler for driften? – Mette")
    expect(screen.get_by_role("button")).to_have_count(0)
    snap(screen, "room-qa-1920")

    for poll_id in (cloud, ranking, quiz, qa):
        act(admin, poll_id, "close")
    for ctx in phones:
        ctx.close()
    admin.close()
    remote.close()
    screen.close()


def test_a_phone_that_has_answered_sees_its_results_not_a_request_to_answer(
        browser, organizer, join, live_server):
    """Results "once you have answered": right after "Tak for din stemme!" the phone shows
    the results, even when it answered another poll a moment before (refreshes caused by
    other people's votes are paced; the phone's own answer is not), and never says
    "Resultatet vises, når du har svaret." below its thanks."""
    admin = organizer.new_page()
    first = new_poll(admin, "Hvor længe har I brugt skærmbesøg?", "single", "Kort\nLænge")
    ranking = new_poll(admin, "Hvad skal I genbruge næst?", "ranking",
                       "Medicinrobot\nSensorgulve\nSkærmbesøg")
    for poll_id in (first, ranking):
        act(admin, poll_id, "open")
    context = phone_context(browser, live_server.base_url)
    phone = context.new_page()
    phone.goto(f"/j/{join}")
    one = phone.locator(f"#poll-{first}")
    one.get_by_label("Kort", exact=True).check()
    one.get_by_role("button", name="Stem").click()
    expect(one.locator("[data-vote-status]")).to_have_text("Tak for din stemme!")
    section = phone.locator(f"#poll-{ranking}")
    note = section.get_by_text("Resultatet vises, når du har svaret.")
    expect(note).to_be_visible()
    section.get_by_role("button", name="Send svar").click()
    expect(section.locator("[data-vote-status]")).to_have_text("Tak for din stemme!")
    expect(note).to_be_hidden(timeout=500)  # at once, not some seconds later
    expect(section.locator("[data-results] tbody tr")).to_have_count(3, timeout=2000)
    expect(section.locator("[data-results] tbody tr").first).to_contain_text("Medicinrobot")
    section.scroll_into_view_if_needed()
    snap(phone, "phone-ranking-answered-390")
    for poll_id in (first, ranking):
        act(admin, poll_id, "close")
    context.close()
    admin.close()


AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    resultTypes: ["violations"]});
  return result.violations.filter(v => ["serious", "critical"].includes(v.impact))
    .map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
}"""


def test_axe_on_the_screen_the_remote_and_the_ranking_control(browser, organizer, join,
                                                              live_server):
    admin = organizer.new_page()
    ranking = new_poll(admin, "Rangér til tilgængelighed", "ranking", "A\nB\nC")
    act(admin, ranking, "open")
    admin.close()
    context = browser.new_context(base_url=live_server.base_url, bypass_csp=True,
                                  storage_state=organizer.storage_state(),
                                  viewport={"width": 1920, "height": 1080}, locale="da-DK")
    phone = browser.new_context(base_url=live_server.base_url, bypass_csp=True,
                                viewport={"width": 390, "height": 844}, locale="da-DK")
    found = []
    for ctx, path in ((context, f"{POLLS}/screen"), (context, f"{POLLS}/remote"),
                      (phone, f"/j/{join}")):
        page = ctx.new_page()
        assert page.goto(path).status == 200
        page.add_script_tag(path=str(AXE))
        found += [f"{path}: {v}" for v in page.evaluate(AXE_RUN)]
        page.close()
    admin = organizer.new_page()
    act(admin, ranking, "close")
    admin.close()
    context.close()
    phone.close()
    assert not found, "\n".join(found)


def test_a_quiz_whose_time_is_up_can_no_longer_be_answered(browser, organizer, join,
                                                           live_server):
    admin = organizer.new_page()
    quiz = new_poll(admin, "Hvor mange regioner har Danmark?", "quiz", "*5\n14",
                    **{"Tidsgrænse i sekunder (quiz)": 5})
    act(admin, quiz, "open")
    context = phone_context(browser, live_server.base_url)
    phone = context.new_page()
    try:
        phone.goto(f"/j/{join}")
        section = phone.locator(f"#poll-{quiz}")
        send = section.get_by_role("button", name="Send svar")
        expect(send).to_be_enabled()
        expect(section.locator(".quiz-timer")).to_have_text("Tiden er gået.", timeout=9000)
        expect(send).to_be_disabled()
        expect(section.get_by_label("5", exact=True)).to_be_disabled()
    finally:
        context.close()
        act(admin, quiz, "close")
        admin.close()
