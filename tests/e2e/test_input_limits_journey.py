"""An organizer pastes a programme with a date in year 1 and a participant list with a
huge field, on a phone and on a laptop: each gets its message in Danish, the typed text
stays, nothing is imported; the date fields tell the browser the years they take."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.support.e2e import DESKTOP, EVENT_PATH, PHONE, sign_in_as_admin, step_check

MANAGE = f"/manage{EVENT_PATH}"


def _signed_in(browser: Browser, live_server, viewport: dict):
    context = browser.new_context(base_url=live_server.base_url, viewport=viewport,
                                  locale="da-DK")
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in_as_admin(page, live_server)
    return context, page


def test_imports_and_date_fields_at_their_limits(browser: Browser, live_server, shot):
    for viewport, size in ((PHONE, "phone"), (DESKTOP, "desktop")):
        context, page = _signed_in(browser, live_server, viewport)
        try:
            page.goto(f"{MANAGE}/programme/import")
            programme = ("titel;start;slut\n"
                         "Åbning;0001-01-01 00:00;0001-01-01 01:00\n"
                         "Frokost;2026-12-10 12:00;2026-12-10 13:00\n")
            page.get_by_label("Indsæt CSV").fill(programme)
            page.get_by_role("button", name=re.compile("^Kontrollér")).click()
            report = page.get_by_role("region", name="Kontrol")
            expect(report).to_contain_text(
                'ugyldigt tidspunkt "0001-01-01 00:00": Datoen skal ligge mellem år 2000 '
                "og 2100.")
            expect(page.get_by_label("Indsæt CSV")).to_have_value(programme)
            step_check(page, shot, f"limits-programme-year-1-{size}")

            page.goto(f"{MANAGE}/registrations/import")
            people = ("navn;e-mail;stilling\nAnna Andersen;anna@example.com;Sygeplejerske\n"
                      f"Bo Bertelsen;bo@example.com;{'x' * 150_000}\n")
            page.get_by_label("Eller indsæt CSV").fill(people)
            page.get_by_role("button", name=re.compile("^Kontrollér")).click()
            expect(page.get_by_role("region", name="Kontrol")).to_contain_text(
                'Feltet "stilling" i række 3 er for langt (højst 10.000 tegn). Ret filen, '
                "og prøv igen.")
            expect(page.get_by_role("button", name=re.compile("Importér"))).to_have_count(0)
            step_check(page, shot, f"limits-registrations-long-field-{size}")

            page.goto(f"{MANAGE}/edit")
            start = page.get_by_label("Start", exact=True)
            expect(start).to_have_attribute("min", "2000-01-01T00:00")
            expect(start).to_have_attribute("max", "2100-12-31T23:59")
            expect(page.get_by_label("Persondata slettes efter")).to_have_attribute(
                "max", "2100-12-31")
        finally:
            context.close()
