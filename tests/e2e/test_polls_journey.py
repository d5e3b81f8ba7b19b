"""Live polls: a projector (organizer, desktop) and phones (participants) side by side.

The projector shows the presenter view of a poll; a phone joins by code and votes; the
projector's chart, table and voter count change within a second or two, without a
reload. Then the word cloud, the moderated Q&A, and closing a poll from the keyboard.

The tests share one demo server and run in file order: the last two close and reopen
poll (1) and sign the projector out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.support.e2e import (
    DESKTOP,
    EVENT_PATH,
    EVENT_SLUG,
    phone_context,
    sign_in_as_admin,
    step_check,
)

MANAGE_POLLS = f"/manage/e/{EVENT_SLUG}/polls/"
CHOICE_Q = "Hvad er den største barriere for at genbruge andre kommuners løsninger?"
WORDS_Q = "Ét til tre ord: hvad skal der til for at en løsning spreder sig?"
QA_Q = "Spørgsmål til keynoten"
QUESTION = "Hvad kostede løsningen?"
LIVE = 3000  # ms: a vote must reach the projector well within this
PHONE_LIVE = 8000  # ms: phones redraw clouds and questions from the page, every ~4 s


# Fixtures: one projector and one phone for the whole module ---------------------------


@pytest.fixture(scope="module")
def projector(browser: Browser, live_server) -> Iterator[Page]:
    """A desktop browser signed in as the demo admin (password login)."""
    context = browser.new_context(base_url=live_server.base_url, viewport=DESKTOP, locale="da-DK")
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in_as_admin(page, live_server)
    yield page
    context.close()


@pytest.fixture(scope="module")
def phone_ctx(browser: Browser, live_server) -> Iterator[BrowserContext]:
    context = phone_context(browser, live_server.base_url)
    yield context
    context.close()


@pytest.fixture(scope="module")
def phone(phone_ctx: BrowserContext) -> Page:
    return phone_ctx.new_page()


@pytest.fixture(scope="module")
def join_code(phone: Page) -> str:
    """The code, found the participant's way: event page → "Afstemninger" → /j/<CODE>."""
    phone.goto(EVENT_PATH)
    phone.get_by_role("main").get_by_role("link", name=re.compile(r"^Afstemninger")).click()
    expect(phone).to_have_url(re.compile(r"/j/[A-Z0-9]+$"))
    return phone.url.rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def present_urls(projector: Page) -> dict[str, str]:
    """Question → presenter view URL, from the "Præsentér" links on the polls page."""
    projector.goto(MANAGE_POLLS)
    expect(projector.get_by_role("heading", level=1, name="Afstemninger")).to_be_visible()
    urls = {}
    for question in (CHOICE_Q, WORDS_Q, QA_Q):
        row = projector.get_by_role("row").filter(has_text=question)
        link = row.get_by_role("link", name=re.compile(r"^Præsentér"))
        href = link.get_attribute("href")
        assert href and re.search(r"/polls/\d+/present$", href), href
        urls[question] = href
    return urls


# Helpers ------------------------------------------------------------------------------


def _present(projector: Page, url: str, question: str, join_code: str) -> None:
    """Open a presenter view and mark the window, so a reload would be noticed."""
    projector.goto(url)
    expect(projector.get_by_role("heading", level=1, name=question)).to_be_visible()
    join = projector.get_by_role("complementary", name="Sådan deltager du")
    expect(join.locator(".join-code")).to_have_text(join_code)
    expect(join.get_by_role("img", name="QR-kode til afstemningen")).to_be_visible()
    _mark(projector)


def _mark(page: Page) -> None:
    page.evaluate("window.__noReload = 'still here'")


def _assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__noReload") == "still here", "the page was reloaded"


def _poll(page: Page, question: str) -> Locator:
    """A poll's section on the phone's join page (a region named by its question)."""
    return page.get_by_role("region", name=question, exact=True)


def _table_cell(page: Page, label: str, column: int) -> Locator:
    """A cell in the results table's row whose first cell is exactly ``label``."""
    first = page.locator("td:first-child", has_text=re.compile("^" + re.escape(label) + "$"))
    row = page.locator("[data-results] tbody tr").filter(has=first)
    return row.locator("td").nth(column)


def _both(projector: Page, phone: Page, shot, name: str) -> None:
    step_check(projector, shot, f"polls-{name}-projector")
    step_check(phone, shot, f"polls-{name}-phone")


# The journeys -------------------------------------------------------------------------


def test_phone_vote_moves_the_projector_chart_live(
    projector: Page, phone: Page, present_urls, join_code: str, shot
):
    # Projector: the presenter view of the single-choice poll, 12 demo votes.
    _present(projector, present_urls[CHOICE_Q], CHOICE_Q, join_code)
    navigations: list[str] = []
    projector.on("framenavigated", lambda frame: navigations.append(frame.url))
    voters = projector.locator("[data-voters-count]")
    expect(voters).to_have_text("12")
    expect(projector.locator(".voters")).to_have_text("Svar: 12")
    budget_row = _table_cell(projector, "Budget", 1)
    expect(budget_row).to_have_text("2")
    chart = projector.locator("svg.chart")
    expect(chart.locator("g.bar")).to_have_count(4)

    # Phone: the join page lists the open polls; pick "Budget".
    phone.goto(f"/j/{join_code}")
    expect(phone.get_by_role("heading", level=1, name="Afstemninger")).to_be_visible()
    poll = _poll(phone, CHOICE_Q)
    budget = poll.get_by_role("radio", name="Budget", exact=True)
    option_id = budget.get_attribute("value")
    bar = chart.locator(f'g.bar[data-option="{option_id}"]')
    expect(bar.locator(".bar-value")).to_have_text("2 (17 %)")
    width_before = float(bar.locator("rect").get_attribute("width"))
    _both(projector, phone, shot, "01-before-vote")

    _mark(phone)
    budget.check()
    poll.get_by_role("button", name="Stem").click()
    expect(poll.get_by_role("status")).to_have_text("Tak for din stemme!")
    _assert_not_reloaded(phone)  # the phone voted with fetch, no page load

    # Projector: table, bar and voter count follow without a reload.
    expect(budget_row).to_have_text("3", timeout=LIVE)
    expect(projector.locator(".voters")).to_have_text("Svar: 13", timeout=LIVE)
    expect(bar.locator(".bar-value")).to_have_text("3 (23 %)", timeout=LIVE)
    assert float(bar.locator("rect").get_attribute("width")) > width_before
    _assert_not_reloaded(projector)
    assert navigations == [], f"the projector navigated: {navigations}"

    # The phone's own chart follows the stream too.
    expect(poll.locator(f'g.bar[data-option="{option_id}"] .bar-value')).to_have_text(
        "3 (23 %)", timeout=LIVE
    )
    expect(poll.locator("[data-voters-count]")).to_have_text("13", timeout=LIVE)
    _both(projector, phone, shot, "02-after-vote")


def test_word_cloud_grows_on_the_projector(
    projector: Page, phone: Page, present_urls, join_code: str, shot
):
    _present(projector, present_urls[WORDS_Q], WORDS_Q, join_code)
    cloud = projector.locator("svg.chart.cloud")
    expect(cloud.locator("text.word", has_text="netværk")).to_have_count(1)
    expect(cloud.locator("text.word", has_text="tillid")).to_have_count(0)
    netvaerk = _table_cell(projector, "netværk", 1)
    expect(netvaerk).to_have_text("3")

    phone.goto(f"/j/{join_code}")
    poll = _poll(phone, WORDS_Q)
    _mark(phone)
    # An answer of up to three words stays one phrase in the cloud.
    poll.get_by_label("Svar 1").fill("Tillid og  mod")
    poll.get_by_role("button", name="Send svar").click()
    expect(poll.get_by_role("status")).to_have_text("Tak for din stemme!")
    _assert_not_reloaded(phone)

    expect(cloud.locator("text.word", has_text="tillid og mod")).to_have_count(1, timeout=LIVE)
    expect(_table_cell(projector, "tillid og mod", 1)).to_have_text("1", timeout=LIVE)
    expect(netvaerk).to_have_text("3")
    expect(projector.locator(".voters")).to_have_text("Svar: 7", timeout=LIVE)
    # "netværk" is still the biggest word.
    sizes = cloud.locator("text.word").evaluate_all(
        "els => els.map(e => [e.textContent, Number(e.getAttribute('font-size'))])"
    )
    assert max(sizes, key=lambda pair: pair[1])[0] == "netværk", sizes
    _assert_not_reloaded(projector)

    # The phone's own cloud catches up too (it re-reads the page every few seconds).
    expect(poll.locator("svg.chart.cloud text.word", has_text="tillid og mod")).to_have_count(
        1, timeout=PHONE_LIVE
    )
    _assert_not_reloaded(phone)
    _both(projector, phone, shot, "03-word-cloud")


def test_question_is_moderated_then_upvoted_once(
    projector: Page, phone: Page, present_urls, join_code: str, shot
):
    _present(projector, present_urls[QA_Q], QA_Q, join_code)
    expect(projector.get_by_text("Ingen godkendte spørgsmål endnu.")).to_be_visible()

    # Phone: ask a question; it waits for the moderator.
    phone.goto(f"/j/{join_code}")
    poll = _poll(phone, QA_Q)
    poll.get_by_label("Dit spørgsmål").fill(QUESTION)
    poll.get_by_role("button", name="Send spørgsmål").click()
    expect(phone.locator(".flashes")).to_contain_text(
        "Tak! Dit spørgsmål vises, når ordstyreren har godkendt det."
    )
    expect(_poll(phone, QA_Q).locator(".qa-list")).not_to_contain_text(QUESTION)
    _mark(phone)

    # The projector never shows a question before it is approved ...
    _mark(projector)
    expect(projector.locator(".qa-list")).not_to_contain_text(QUESTION)

    # ... the moderator approves it on a page of their own (a second tab).
    moderator = projector.context.new_page()
    moderator.goto(present_urls[QA_Q].replace("/present", "/moderate"))
    moderation = moderator.get_by_role("region", name=re.compile(r"^Venter på godkendelse"))
    expect(moderation.get_by_role("heading")).to_have_text("Venter på godkendelse (1)")
    waiting = moderation.get_by_role("listitem").filter(has_text=QUESTION)
    expect(waiting).to_have_count(1)
    _both(moderator, phone, shot, "04-question-waiting")
    waiting.get_by_role("button", name="Godkend").click()
    expect(moderator.get_by_role("region", name=re.compile(r"^Venter på godkendelse"))
           ).to_have_count(0)
    moderator.close()

    # The projector shows it by itself, without a reload.
    approved = projector.locator(".qa-list li").filter(has_text=QUESTION)
    expect(approved).to_have_count(1, timeout=LIVE)
    expect(approved.locator(".qa-votes")).to_have_text("▲ 0")
    _assert_not_reloaded(projector)

    # Phone: the approved question turns up by itself, with a "Stem op" button ...
    question = _poll(phone, QA_Q).locator(".qa-list li").filter(has_text=QUESTION)
    expect(question).to_have_count(1, timeout=PHONE_LIVE)
    _assert_not_reloaded(phone)
    # ... and is still there after a reload.
    phone.reload()
    expect(question).to_have_count(1)
    upvote = question.get_by_role("button", name=f"Stem op – {QUESTION}")
    upvote.click()
    question = _poll(phone, QA_Q).locator(".qa-list li").filter(has_text=QUESTION)
    expect(question.locator(".qa-votes")).to_have_text("▲ 1")
    expect(phone.locator(".flashes")).to_have_count(0)

    # The projector hears about the upvote on the stream.
    _mark(projector)
    expect(approved.locator(".qa-votes")).to_have_text("▲ 1", timeout=LIVE)
    _assert_not_reloaded(projector)

    # A second upvote from the same phone does not count.
    question.get_by_role("button", name=f"Stem op – {QUESTION}").click()
    expect(phone.locator(".flashes")).to_contain_text(
        "Du har allerede givet spørgsmålet en stemme."
    )
    question = _poll(phone, QA_Q).locator(".qa-list li").filter(has_text=QUESTION)
    expect(question.locator(".qa-votes")).to_have_text("▲ 1")
    _both(projector, phone, shot, "05-question-upvoted")


def test_keyboard_closes_the_poll_for_phones(
    projector: Page,
    phone: Page,
    browser: Browser,
    live_server,
    present_urls,
    join_code: str,
    shot,
):
    """Runs last: it closes poll (1), and reopens it at the end."""
    # A second phone whose stream has dropped (asleep, bad wifi): it still shows the form.
    late_ctx = phone_context(browser, live_server.base_url)
    try:
        late = late_ctx.new_page()
        late.route("**/stream", lambda route: route.abort())
        late.goto(f"/j/{join_code}")
        late_poll = _poll(late, CHOICE_Q)
        expect(late_poll.get_by_role("button", name="Stem")).to_be_visible()

        # The first phone follows the stream live.
        phone.goto(f"/j/{join_code}")
        expect(_poll(phone, CHOICE_Q)).to_be_visible()
        _mark(phone)

        _present(projector, present_urls[CHOICE_Q], CHOICE_Q, join_code)
        status = projector.locator("[data-status]")
        expect(status).to_have_class(re.compile(r"\bbadge-open\b"))
        projector.keyboard.press("c")
        expect(status).to_have_class(re.compile(r"\bbadge-closed\b"))
        expect(status).to_have_text("Lukket")

        # The live phone reloads by itself and no longer offers the closed poll.
        expect(_poll(phone, CHOICE_Q)).to_have_count(0, timeout=LIVE)
        expect(_poll(phone, WORDS_Q)).to_be_visible()

        # The phone that missed it votes anyway and is told the poll is closed.
        _mark(late)
        late_poll.get_by_role("radio", name="Budget", exact=True).check()
        late_poll.get_by_role("button", name="Stem").click()
        message = late_poll.get_by_role("status")
        expect(message).to_have_text("Afstemningen er lukket.")
        expect(message).to_have_class(re.compile(r"\berror\b"))
        _assert_not_reloaded(late)
        step_check(projector, shot, "polls-06-closed-projector")
        step_check(late, shot, "polls-06-closed-phone")
    finally:
        late_ctx.close()

    # Leave the demo as it was: "o" opens the poll again.
    projector.keyboard.press("o")
    expect(projector.locator("[data-status]")).to_have_class(re.compile(r"\bbadge-open\b"))
    expect(projector.locator(".voters")).to_have_text("Svar: 13")


def test_projector_keeps_results_when_signed_out(
    projector: Page, browser: Browser, live_server, present_urls, join_code: str
):
    """Runs last: signs the projector out. A lapsed session must not put the login page
    into the results slot; the last results stay up."""
    _present(projector, present_urls[CHOICE_Q], CHOICE_Q, join_code)
    projector.context.clear_cookies()
    voter = phone_context(browser, live_server.base_url)
    try:
        page = voter.new_page()
        page.goto(f"/j/{join_code}")
        poll = _poll(page, CHOICE_Q)
        poll.get_by_role("radio", name="Ledelsens prioriteringer", exact=True).check()
        poll.get_by_role("button", name="Stem").click()
        expect(poll.get_by_role("status")).to_have_text("Tak for din stemme!")
        expect(poll.locator("[data-voters-count]")).to_have_text("14", timeout=LIVE)
    finally:
        voter.close()
    projector.wait_for_timeout(1000)  # the snapshot reached the projector too
    slot = projector.locator("[data-results-slot]")
    expect(slot.locator("h1")).to_have_count(0)
    expect(slot.locator("svg.chart g.bar")).to_have_count(4)
    expect(slot.locator(".voters")).to_have_text("Svar: 13")
    _assert_not_reloaded(projector)
