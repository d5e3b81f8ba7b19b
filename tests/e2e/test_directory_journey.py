"""A participant signs in by link on a phone, joins the directory, marks a solution, opens a
recommendation and asks for contact; the recipient accepts from the mail and both get the
other's address by mail."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.support.e2e import EVENT_PATH, demo_email, phone_context, step_check

DIRECTORY = EVENT_PATH + "/directory"
MAGIC_LINK_RE = re.compile(r"https?://\S+/login/link/\S+")
# Demo participants: Line has not opted in to the directory; Søren has, and his
# municipality (Odense) has implemented the night-time fall sensor.
SENDER = "Line Vestergaard"
RECIPIENT = "Søren Kjær"
SOLUTION = "Natlig faldsensor"
REASON = "Odense Kommune har implementeret Natlig faldsensor, som du vil vide mere om"


def _body(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def _sign_in_by_link(page: Page, address: str, live_server, wait_for_mail, mail_files, step):
    page.goto("/login")
    magic = page.get_by_role("region", name="Få et login-link på mail")
    magic.get_by_label("E-mail").fill(address)
    step(page, "dir-01-login")
    before = mail_files(live_server.mail_dir)
    magic.get_by_role("button", name="Send mig et link").click()
    expect(page.get_by_role("heading", level=1, name="Tjek din mail")).to_be_visible()
    found = MAGIC_LINK_RE.search(_body(wait_for_mail(live_server.mail_dir, address, after=before)))
    assert found, "no /login/link/ URL in the sign-in mail"
    page.goto(found.group(0))
    page.get_by_role("main").get_by_role("button", name="Log ind").click()
    nav = page.get_by_role("banner").get_by_role("navigation")
    expect(nav.get_by_role("button", name="Log ud")).to_be_visible()


def test_participant_finds_someone_who_has_done_it_and_they_connect(
    browser: Browser, live_server, shot, wait_for_mail, mail_files
):
    def step(on: Page, name: str) -> None:
        step_check(on, shot, name)

    line = demo_email(live_server, SENDER)
    soeren = demo_email(live_server, RECIPIENT)
    sender_context = phone_context(browser, live_server.base_url)
    recipient_context = phone_context(browser, live_server.base_url)
    try:
        page = sender_context.new_page()

        # 1. Line signs in with a link from her mail and opens the directory.
        _sign_in_by_link(page, line, live_server, wait_for_mail, mail_files, step)
        page.goto(DIRECTORY)
        expect(page.get_by_role("heading", level=1, name="Netværk")).to_be_visible()
        expect(page.get_by_text("Du er ikke synlig for andre.")).to_be_visible()
        step(page, "dir-02-directory-not-listed")

        # 2. She opts in on "my profile" and says what she is looking for.
        page.get_by_role("link", name="Vær med i netværket").click()
        expect(page.get_by_role("heading", level=1, name="Min profil i netværket")).to_be_visible()
        consent = page.get_by_role("checkbox", name="Vis mig i netværket for dette arrangement")
        expect(consent).not_to_be_checked()
        consent.check()
        page.get_by_label("Jeg leder efter").fill("Sensorer, der forebygger fald om natten")
        step(page, "dir-03-profile-opt-in")
        page.get_by_role("button", name="Gem", exact=True).click()
        expect(page.get_by_text("Du er nu synlig i netværket.")).to_be_visible()
        expect(page.get_by_role("checkbox", name=re.compile("Vis mig i netværket"))).to_be_checked()
        step(page, "dir-04-profile-saved")

        # 3. She searches for the solution and marks "want to know more".
        page.goto(DIRECTORY)
        page.get_by_role("searchbox", name="Søg").fill("faldsensor")
        page.get_by_role("search").get_by_role("button", name="Søg").click()
        expect(page.get_by_role("heading", level=2, name="Resultater")).to_be_visible()
        step(page, "dir-05-search-results")
        page.get_by_role("region", name="Løsninger").get_by_role("link", name=SOLUTION).click()
        expect(page.get_by_role("heading", level=1, name=SOLUTION)).to_be_visible()
        learn = page.get_by_role("button", name="Vil vide mere", exact=True)
        expect(learn).to_have_attribute("aria-pressed", "false")
        learn.click()
        expect(page.get_by_text("Noteret: Vil vide mere.")).to_be_visible()
        expect(page.get_by_role("button", name="✓ Vil vide mere")).to_have_attribute(
            "aria-pressed", "true")
        step(page, "dir-06-solution-marked")

        # 4. "People you should meet" suggests someone from a municipality that runs it.
        page.goto(DIRECTORY)
        meet = page.get_by_role("region", name="Folk du bør møde")
        suggestion = meet.get_by_role("listitem").filter(
            has=page.get_by_role("link", name=RECIPIENT))
        expect(suggestion).to_contain_text(REASON)
        step(page, "dir-07-people-to-meet")
        suggestion.get_by_role("link", name=RECIPIENT).click()
        expect(page.get_by_role("heading", level=1, name=RECIPIENT)).to_be_visible()
        assert soeren not in page.content()

        # 5. She sends a contact request; his address stays hidden.
        contact = page.get_by_role("region", name=f"Kontakt {RECIPIENT}")
        message = ("Hej Søren\nVi overvejer faldsensorer på vores plejecentre. "
                   "Har du tid til en snak om jeres erfaringer?")
        contact.get_by_label("Besked").fill(message)
        step(page, "dir-08-contact-form")
        before_request = mail_files(live_server.mail_dir)
        contact.get_by_role("button", name="Send kontaktanmodning").click()
        expect(page.get_by_role("heading", level=1, name="Mine kontakter")).to_be_visible()
        expect(page.get_by_text(f"Din anmodning er sendt til {RECIPIENT}.")).to_be_visible()
        sent = page.get_by_role("region", name="Sendt")
        expect(sent.get_by_role("listitem").filter(has_text=RECIPIENT)).to_contain_text(
            "Afventer svar")
        assert soeren not in page.content()
        step(page, "dir-09-request-sent")

        # 6. Søren gets the request by mail, without Line's address, and accepts from the link.
        request_mail = wait_for_mail(live_server.mail_dir, soeren, after=before_request)
        assert request_mail["Subject"] == f"{SENDER} vil gerne i kontakt med dig", \
            request_mail["Subject"]
        body = _body(request_mail)
        assert "Vi overvejer faldsensorer" in body
        assert line not in body
        answer = re.search(re.escape(live_server.base_url + DIRECTORY + "/contact/")
                           + r"[A-Za-z0-9_-]+", body)
        assert answer, f"no answer link in the mail:\n{body}"

        recipient = recipient_context.new_page()
        recipient.goto(answer.group(0))
        expect(recipient.get_by_role("heading", level=1,
                                     name=f"Kontaktanmodning fra {SENDER}")).to_be_visible()
        expect(recipient.get_by_text("Vi overvejer faldsensorer")).to_be_visible()
        assert line not in recipient.content()
        step(recipient, "dir-10-recipient-answer")
        before_accept = mail_files(live_server.mail_dir)
        recipient.get_by_role("button", name="Ja, del vores adresser").click()
        expect(recipient.get_by_text(
            "Du har sagt ja. I har begge fået den andens e-mailadresse på mail.")).to_be_visible()
        step(recipient, "dir-11-recipient-accepted")

        # 7. Both get a mail with the other's address.
        to_line = wait_for_mail(live_server.mail_dir, line, after=before_accept)
        to_soeren = wait_for_mail(live_server.mail_dir, soeren, after=before_accept)
        assert to_line["Subject"] == f"I er forbundet: {RECIPIENT}", to_line["Subject"]
        assert to_soeren["Subject"] == f"I er forbundet: {SENDER}", to_soeren["Subject"]
        assert soeren in _body(to_line)
        assert line in _body(to_soeren)

        # 8. Line's contacts page now shows Søren's address.
        page.reload()
        sent = page.get_by_role("region", name="Sendt")
        item = sent.get_by_role("listitem").filter(has_text=RECIPIENT)
        expect(item).to_contain_text("Accepteret")
        expect(item.get_by_role("link", name=soeren)).to_have_attribute("href", f"mailto:{soeren}")
        step(page, "dir-12-contacts-accepted")
    finally:
        sender_context.close()
        recipient_context.close()
