"""A staff member signs in through their organization's identity provider (a real
oidc-provider on loopback, its own login and consent pages) and lands on the staff pages;
signing out ends the EventHub session."""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest
from playwright.sync_api import Browser, expect

from tests.support.e2e import DESKTOP, PHONE, REPO_ROOT, healthy, server_command, step_check
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, Provider
from tests.support.production import free_port


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory):
    port, provider_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    provider = Provider(provider_port, [f"{base}/login/org/callback"]).start()
    instance = tmp_path_factory.mktemp("sso-instance")
    env = {**os.environ, "EVENTHUB_INSTANCE": str(instance), "BASE_URL": base,
           "MAIL_FOLDER": str(instance / "mail"), "PYTHONUNBUFFERED": "1",
           "OIDC_ISSUER": provider.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
           "OIDC_CLIENT_SECRET": CLIENT_SECRET}
    env.pop("DATABASE_URL", None)
    log = open(instance / "server.log", "wb")
    server = subprocess.Popen(server_command(port), cwd=REPO_ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not healthy(base + "/healthz"):
            assert server.poll() is None and time.monotonic() < deadline, \
                (instance / "server.log").read_text(errors="replace")
            time.sleep(0.25)
        yield base
    finally:
        server.terminate()
        server.wait(10)
        log.close()
        provider.stop()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_staff_sign_in_through_their_organization(browser: Browser, sso_server, shot,
                                                  viewport):
    context = browser.new_context(base_url=sso_server, viewport=viewport, locale="da-DK")
    context.set_default_timeout(15_000)
    page = context.new_page()
    name = "phone" if viewport is PHONE else "desktop"
    try:
        page.goto("/login")
        step_check(page, shot, f"sso-01-login-{name}")
        page.get_by_role("link", name="Log ind med din organisation").click()
        # The identity provider's own pages
        page.locator("input[name=login]").fill("anne")
        page.locator("input[name=password]").fill("hemmeligt")
        page.get_by_role("button", name="Sign-in").click()
        page.get_by_role("button", name="Continue").click()
        expect(page).to_have_url(re.compile(r"/manage/?$"))
        expect(page.get_by_text("Du er logget ind.")).to_be_visible()
        step_check(page, shot, f"sso-02-staff-home-{name}")
        page.get_by_role("button", name="Log ud").click()
        page.goto("/manage/")
        expect(page).to_have_url(re.compile(r"/login"))
    finally:
        context.close()
