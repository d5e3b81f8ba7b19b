"""Three months after the event: the check-ins go out (``eventhub run-scheduled --at``),
a participant answers on her phone through the link in the mail without signing in and
records her organization's experience; the community manager sees the lead move (marked
as reported by the participant) in the workspace and the solution's trail change."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.support.e2e import (
    DESKTOP,
    REPO_ROOT,
    mail_files,
    phone_context,
    sign_in_as_admin,
    step_check,
)


def _run_checkins(live_server) -> None:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update(EVENTHUB_INSTANCE=str(live_server.instance_dir),
               MAIL_FOLDER=str(live_server.mail_dir), BASE_URL=live_server.base_url)
    script = Path(sys.executable).parent / "eventhub"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "eventhub.cli"]
    done = subprocess.run([*command, "run-scheduled", "--at", "2027-03-10T17:00"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert re.search(r"adoption-checkins: [1-9]", done.stdout), done.stdout
    done = subprocess.run([*command, "send-mail"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def _checkin_mail(live_server):
    from tests.support.e2e import _read_mail

    for path in sorted(mail_files(live_server.mail_dir)):
        msg = _read_mail(path)
        if str(msg["Subject"]).startswith("Har I taget"):
            return msg
    raise AssertionError("no check-in mail in " + str(live_server.mail_dir))


def test_participant_answers_on_her_phone_and_the_manager_sees_the_lead_move(
        browser: Browser, live_server, shot):
    _run_checkins(live_server)
    mail = _checkin_mail(live_server)
    body = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"(/community/checkin/\S+)", body).group(1)
    solution = re.search(r"Har I taget (.+) i brug\?", str(mail["Subject"]))
    solution = solution.group(1) if solution else None

    # The participant, on her phone, signed in nowhere.
    context = phone_context(browser, live_server.base_url)
    page = context.new_page()
    try:
        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_contain_text("taget det i brug")
        step_check(page, shot, "community-01-checkin-phone")
        form = page.locator("section.panel form").first
        name = page.locator("section.panel h2").first.inner_text()
        form.get_by_label("Ja, men tilpasset til os").check()
        form.get_by_role("button", name="Send svar").click()
        expect(page.locator(".flash-success")).to_contain_text("Tak for dit svar")
        step_check(page, shot, "community-02-answered-phone")
        section = page.locator("section.panel", has=page.get_by_role("heading", name=name))
        section.get_by_label("Omfang (fx antal borgere eller enheder)").fill("25 borgere")
        section.get_by_role("button", name="Gem erfaringen").click()
        expect(page.locator(".flash-success")).to_contain_text("Jeres erfaring")
        page.goto(link[:-4] + "xxxx")
        expect(page.locator("main")).to_contain_text("Linket er ikke gyldigt")
    finally:
        context.close()
    assert solution is None or solution == name

    # The community manager, on a laptop.
    desk = browser.new_context(base_url=live_server.base_url, viewport=DESKTOP, locale="da-DK")
    desk.set_default_timeout(15_000)
    page = desk.new_page()
    try:
        sign_in_as_admin(page, live_server)
        page.goto("/community/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Community:")
        expect(page.get_by_role("region", name="Genbrug sammenlignet med "
                                "Innovationsbarometeret")).to_contain_text("16 %")
        step_check(page, shot, "community-03-workspace-desktop")
        page.get_by_label("Løsning", exact=True).select_option(label=name)
        page.get_by_label("Fase", exact=True).select_option(label="Genbrugt (tilpasning)")
        page.get_by_role("button", name="Vis").click()
        rows = page.locator("table tbody tr").filter(has_text="Genbrugt (tilpasning)")
        expect(rows.first).to_be_visible()
        rows.first.get_by_role("link").first.click()
        expect(page.locator("#lead-stage")).to_have_text("Genbrugt (tilpasning)")
        expect(page.locator(".history")).to_contain_text("Meldt af deltageren")
        step_check(page, shot, "community-04-lead-desktop")
        page.get_by_role("link", name=f"Sporet for {name}").click()
        adoptions = page.get_by_role("region", name="Genbrug", exact=True)
        expect(adoptions).to_contain_text("Genbrugt (tilpasning)")
        step_check(page, shot, "community-05-trail-desktop")
        page.set_viewport_size({"width": 390, "height": 844})
        step_check(page, shot, "community-06-trail-phone")
    finally:
        desk.close()
