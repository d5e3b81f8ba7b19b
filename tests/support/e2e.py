"""Shared pieces of the browser journeys (tests/e2e): the demo server they run against,
its mail folder, Chromium, the demo event, phone contexts, screenshots, and a step check
that fails if a page scrolls sideways."""

from __future__ import annotations

import email
import email.policy
import re
import sqlite3
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # (importing playwright is left to the browser tests themselves)
    from playwright.sync_api import Browser, Page

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "tests" / "e2e" / "screenshots"  # (git ignores it)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT = 60.0  # seconds for the demo server to answer /healthz

# The demo event -----------------------------------------------------------------------

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


def sign_in_as_admin(page: Page, live_server: LiveServer, path: str = "/login") -> None:
    """Sign the demo's admin in with the staff form on ``path`` and wait to leave it."""
    from playwright.sync_api import expect

    page.goto(path)
    form = page.get_by_role("region", name="Arrangører: log ind med adgangskode")
    form.get_by_label("E-mail").fill(live_server.admin_email)
    form.get_by_label("Adgangskode").fill(live_server.admin_password)
    form.get_by_role("button", name="Log ind").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


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


# The live server ----------------------------------------------------------------------


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    mail_dir: Path
    instance_dir: Path
    log_file: Path

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    @property
    def admin_password(self) -> str:
        """The demo admin's password, from the "Admin login: …" line ``eventhub demo`` prints."""
        log = self.log_file.read_text(errors="replace")
        found = ADMIN_LOGIN_RE.search(log)
        if found is None:
            pytest.fail(f"no 'Admin login' line in the server log:\n{log}", pytrace=False)
        return found.group("password")

    @property
    def admin_email(self) -> str:
        found = ADMIN_LOGIN_RE.search(self.log_file.read_text(errors="replace"))
        return found.group("email") if found else "admin@example.com"


ADMIN_LOGIN_RE = re.compile(r"Admin login: (?P<email>\S+)\s+password: (?P<password>\S+)")


def server_command(port: int) -> list[str]:
    """``eventhub demo …`` from the virtualenv, or ``python -m flask`` as a fallback."""
    args = ["demo", "--host", "127.0.0.1", "--port", str(port)]
    script = Path(sys.executable).parent / "eventhub"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def demo_db(live_server: LiveServer) -> Iterator[sqlite3.Connection]:
    """The demo server's SQLite database, read-only; closed again afterwards."""
    path = live_server.instance_dir / "eventhub.sqlite"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        yield conn


def demo_email(live_server: LiveServer, name: str) -> str:
    """The address of the demo participant called ``name``."""
    with demo_db(live_server) as conn:
        row = conn.execute(
            "SELECT r.email FROM registrations r JOIN events e ON e.id = r.event_id"
            " WHERE e.slug = ? AND r.name = ?",
            (EVENT_SLUG, name),
        ).fetchone()
    if row is None:
        pytest.fail(f"demo participant {name!r} not found in {live_server.instance_dir}",
                    pytrace=False)
    return row[0]


# Screenshots and mail ----------------------------------------------------------------


def shot(page, name: str) -> Path:
    """Save a full-page screenshot as ``tests/e2e/screenshots/<name>.png``."""
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def mail_files(mail_dir: Path) -> set[Path]:
    """The delivered ``.eml`` files in ``mail_dir`` (pass as ``after=`` to wait_for_mail)."""
    return set(mail_dir.glob("*.eml")) if mail_dir.is_dir() else set()


def _read_mail(path: Path) -> EmailMessage:
    with open(path, "rb") as fh:
        return email.message_from_binary_file(fh, policy=email.policy.default)


def _addressed_to(msg: EmailMessage, to_addr: str) -> bool:
    recipients = getaddresses(msg.get_all("To", []) + msg.get_all("Cc", []))
    return any(addr.lower() == to_addr.lower() for _, addr in recipients)


def wait_for_mail(
    mail_dir: Path, to_addr: str, after: Iterable[Path] = (), timeout: float = 20
) -> EmailMessage:
    """The newest mail to ``to_addr`` not among ``after``, waiting up to ``timeout`` s."""
    seen = set(after)
    deadline = time.monotonic() + timeout
    while True:
        # File names start with a UTC timestamp and the outbox id: sorting is age order.
        for path in sorted(mail_files(mail_dir) - seen, reverse=True):
            msg = _read_mail(path)
            if _addressed_to(msg, to_addr):
                return msg
        if time.monotonic() > deadline:
            found = sorted(p.name for p in mail_files(mail_dir))
            pytest.fail(f"no mail to {to_addr} within {timeout:.0f} s; mail folder: {found}")
        time.sleep(0.25)
