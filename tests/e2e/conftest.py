"""Browser harness: the real app in a subprocess, driven by Chromium through Playwright.

The server runs ``eventhub demo`` against a throwaway instance folder (SQLite database,
secret key, mail folder). Mail is delivered by the demo's worker thread as ``.eml``
files into ``<instance>/mail`` every ~2 seconds; ``wait_for_mail`` reads them back.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT = 60.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/e2e is an e2e test (``-m 'not e2e'`` skips them)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in item.path.resolve().parents:
            item.add_marker(pytest.mark.e2e)


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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_command(port: int) -> list[str]:
    """``eventhub demo …`` from the virtualenv, or ``python -m flask`` as a fallback."""
    args = ["demo", "--host", "127.0.0.1", "--port", str(port)]
    script = Path(sys.executable).parent / "eventhub"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo app on a free port with its own SQLite database and mail folder."""
    instance = tmp_path_factory.mktemp("eventhub-instance")
    mail_dir = instance / "mail"
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update(
        EVENTHUB_INSTANCE=str(instance),
        MAIL_FOLDER=str(mail_dir),
        BASE_URL=base_url,
        PYTHONUNBUFFERED="1",
    )
    log_file = instance / "server.log"
    with open(log_file, "wb") as log:
        process = subprocess.Popen(
            _server_command(port),
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(base_url + "/healthz"):
            if process.poll() is not None:
                pytest.fail(
                    f"eventhub demo exited with code {process.returncode}:\n"
                    + log_file.read_text(errors="replace"),
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"eventhub demo did not answer /healthz within {START_TIMEOUT:.0f} s:\n"
                    + log_file.read_text(errors="replace"),
                    pytrace=False,
                )
            time.sleep(0.25)
        yield LiveServer(base_url, mail_dir, instance, log_file)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# The browser --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def phone_page(browser, live_server: LiveServer):
    """A fresh phone-sized page (390 × 844, touch, Danish browser) with no cookies."""
    context = browser.new_context(
        base_url=live_server.base_url,
        viewport={"width": 390, "height": 844},
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        locale="da-DK",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


# Helpers ------------------------------------------------------------------------------


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


@pytest.fixture(name="shot")
def shot_fixture():
    """``shot(page, name)`` as a fixture, so tests need not import conftest."""
    return shot


@pytest.fixture(name="wait_for_mail")
def wait_for_mail_fixture():
    """``wait_for_mail(mail_dir, to_addr, after=..., timeout=...)`` as a fixture."""
    return wait_for_mail


@pytest.fixture(name="mail_files")
def mail_files_fixture():
    """``mail_files(mail_dir)``: the set of delivered files, for ``after=``."""
    return mail_files
