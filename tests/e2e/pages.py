"""Shared pieces of the browser journeys: the demo event, phone contexts, and a step
check that screenshots the page and fails if it scrolls sideways."""

from __future__ import annotations

from playwright.sync_api import Browser, Page

EVENT_SLUG = "del-genbrug-2026"
EVENT_PATH = f"/e/{EVENT_SLUG}"
EVENT_TITLE = "Del & Genbrug 2026"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


# Elements in <main> whose right edge is past the viewport, described for the report.
OFFENDERS_JS = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  for (const el of document.querySelectorAll("main *")) {
    if (el.getBoundingClientRect().right <= width + 0.5) continue;
    const parent = el.parentElement;
    found.push({
      tag: el.tagName.toLowerCase(),
      parent: parent.tagName.toLowerCase() + (parent.className ? "." + parent.className : ""),
    });
  }
  return found;
}"""


def step_check(page: Page, shot, name: str) -> None:
    """Screenshot the step and check the page does not scroll sideways on the phone."""
    shot(page, name)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow <= 0:
        return
    offenders = page.evaluate(OFFENDERS_JS)
    raise AssertionError(
        f"{name}: page is {overflow}px wider than the phone screen; overflowing: {offenders}"
    )


def phone_context(browser: Browser, base_url: str):
    context = browser.new_context(
        base_url=base_url,
        viewport=PHONE,
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        locale="da-DK",
    )
    context.set_default_timeout(10_000)
    return context
