"""An organizer connects the event to another system: makes an API token (shown once),
uses it, revokes it, and registers a webhook receiver (an address inside the network is
refused with the typed address kept). Phone and desktop screenshots."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

from playwright.sync_api import Browser, expect

from tests.support.e2e import DESKTOP, EVENT_SLUG, PHONE, sign_in_as_admin, step_check

MANAGE = f"/manage/e/{EVENT_SLUG}"


def _api(base: str, secret: str) -> int:
    request = urllib.request.Request(f"{base}/api/v1/events/{EVENT_SLUG}/registrations?limit=5",
                                     headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response)["data"]
            return response.status
    except urllib.error.HTTPError as exc:
        assert exc.headers["Content-Type"] == "application/problem+json"
        return exc.code


def test_organizer_makes_uses_and_revokes_a_token_and_adds_a_webhook(
    browser: Browser, live_server, shot
):
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(base_url=live_server.base_url, viewport=viewport,
                                      locale="da-DK")
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            sign_in_as_admin(page, live_server)

            page.goto(MANAGE)
            page.get_by_role("region", name="Integrationer").get_by_role(
                "link", name="API-nøgler").click()
            expect(page.get_by_role("heading", level=1, name="API-nøgler")).to_be_visible()
            page.get_by_label("Navn").fill(f"CRM {name}")
            page.get_by_label("Leads").select_option("write")
            page.get_by_role("button", name="Opret nøgle").click()
            secret = page.locator("code.secret").inner_text().strip()
            assert secret.startswith("eh_")
            step_check(page, shot, f"api-01-token-{name}")
            assert _api(live_server.base_url, secret) == 200
            page.goto(f"{MANAGE}/api")  # shown once: gone when the page is opened again
            expect(page.locator("code.secret")).to_have_count(0)
            expect(page.get_by_role("row", name=re.compile(f"CRM {name}"))).to_contain_text(
                re.compile(r"\d{2}:\d{2}"))  # last use shown
            page.get_by_role("row", name=re.compile(f"CRM {name}")).get_by_role(
                "button", name=re.compile("Træk tilbage")).click()
            expect(page.get_by_text(f"Nøglen CRM {name} er trukket tilbage.")).to_be_visible()
            assert _api(live_server.base_url, secret) == 401

            page.goto(f"{MANAGE}/webhooks")
            page.get_by_label("Modtagerens adresse (URL)").fill("http://192.168.1.20/hook")
            page.get_by_role("button", name="Gem modtager").click()
            expect(page.get_by_role("alert")).to_contain_text("internt netværk")
            expect(page.get_by_label("Modtagerens adresse (URL)")).to_have_value(
                "http://192.168.1.20/hook")
            step_check(page, shot, f"api-02-webhook-refused-{name}")
            page.goto("/api/v1/docs")
            expect(page.get_by_role("heading", level=1)).to_contain_text("EventHub API")
            step_check(page, shot, f"api-03-reference-{name}")
        finally:
            context.close()
