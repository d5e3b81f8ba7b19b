"""Browser harness: the real app in a subprocess, driven by Chromium through Playwright.

The server runs ``eventhub demo`` against a throwaway instance folder (SQLite database,
secret key, mail folder). Mail is delivered by the demo's worker thread as ``.eml``
files into ``<instance>/mail`` every ~2 seconds; ``wait_for_mail`` reads them back.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.e2e import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO_ROOT,
    START_TIMEOUT,
    LiveServer,
    healthy,
    mail_files,
    phone_context,
    server_command,
    shot,
    wait_for_mail,
)
from tests.support.production import free_port


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/e2e is an e2e test (``-m 'not e2e'`` skips them)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in item.path.resolve().parents:
            item.add_marker(pytest.mark.e2e)


# The live server ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo app on a free port with its own SQLite database and mail folder."""
    instance = tmp_path_factory.mktemp("eventhub-instance")
    mail_dir = instance / "mail"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update(
        EVENTHUB_INSTANCE=str(instance),
        MAIL_FOLDER=str(mail_dir),
        BASE_URL=base_url,
        PYTHONUNBUFFERED="1",
        # Every journey signs in from 127.0.0.1 on this one server: the per-address
        # sign-in limits (tested in tests/test_security.py) would answer 429 midway.
        RATELIMIT_LOGIN="300 per minute",
        RATELIMIT_MAGIC_LINK="300 per minute",
    )
    log_file = instance / "server.log"
    with open(log_file, "wb") as log:
        process = subprocess.Popen(
            server_command(port),
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not healthy(base_url + "/healthz"):
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
    context = phone_context(browser, live_server.base_url)
    page = context.new_page()
    yield page
    context.close()


# Helpers as fixtures -----------------------------------------------------------------


@pytest.fixture(name="shot")
def shot_fixture():
    """``shot(page, name)``: a full-page screenshot in tests/e2e/screenshots/."""
    return shot


@pytest.fixture(name="wait_for_mail")
def wait_for_mail_fixture():
    """``wait_for_mail(mail_dir, to_addr, after=..., timeout=...)`` as a fixture."""
    return wait_for_mail


@pytest.fixture(name="mail_files")
def mail_files_fixture():
    """``mail_files(mail_dir)``: the set of delivered files, for ``after=``."""
    return mail_files
