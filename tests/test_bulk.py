"""Bulk actions on the registrations list: tick some (or take all that match the filter),
choose check in, cancel (with or without mail), approve, resend the ticket or export;
a confirmation says how many change and which are left and why; the log has it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from eventhub.extensions import db
from eventhub.mail import OutboxMail
from eventhub.registration.models import Registration
from tests.support.client import login
from tests.support.factories import PASSWORD, make_event, make_registration, make_user
from tests.support.plain_words import csv_cells, visible_text

BULK = "/manage/e/dag/registrations/bulk"


@pytest.fixture
def regs(app, client):
    org = make_user(app, "org@example.com", password=PASSWORD)
    event_id = make_event(app, "dag", organizer_id=org)
    ids = {}
    for name, status in (("Anna", "confirmed"), ("Bent", "confirmed"), ("Carla", "pending"),
                         ("Dorte", "cancelled"), ("Erik", "confirmed")):
        ids[name], _token = make_registration(app, event_id, f"{name.lower()}@example.dk",
                                              name, status)
    other = make_event(app, "andet")
    ids["fremmed"], _token = make_registration(app, other, "fremmed@example.dk", "Fremmed")
    login(client, "org@example.com")
    return ids


def _text(response) -> str:
    return " ".join(visible_text(response.get_data(as_text=True))[0])


def _status(app, reg_id: int) -> tuple[str, bool]:
    with app.app_context():
        reg = db.session.get(Registration, reg_id)
        return reg.status, reg.checked_in_at is not None


def _mails(app, kind: str) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(OutboxMail.to_addr).where(
            OutboxMail.kind == kind)))


def test_the_list_offers_ticks_and_actions(client, regs):
    page = client.get("/manage/e/dag/registrations").get_data(as_text=True)
    assert page.count('name="ids"') == 5
    for label in ("Check ind", "Afmeld og send mail om det", "Afmeld uden at sende mail",
                  "Godkend", "Send bekræftelse med billet igen", "Eksportér som CSV"):
        assert label in page
    assert "Alle 5, der matcher filteret" in page


def test_confirmation_counts_what_changes_and_what_is_left(app, client, regs):
    ids = [str(regs[n]) for n in ("Anna", "Carla", "Dorte", "fremmed")]
    page = client.post(BULK, data={"action": "approve", "scope": "ids", "ids": ids})
    assert page.status_code == 200
    text = _text(page)
    assert "Godkend: 1 tilmelding." in text
    assert "2 tilmeldinger forbliver, som de er" in text
    assert "Anna: afventer ikke godkendelse" in text and "Fremmed" not in text
    assert _status(app, regs["Carla"]) == ("pending", False)  # nothing yet

    done = client.post(BULK, data={"action": "approve", "scope": "ids", "ids": ids,
                                   "confirm": "y"})
    assert done.status_code == 302
    assert _status(app, regs["Carla"])[0] == "confirmed"
    assert _status(app, regs["Anna"])[0] == "confirmed"
    assert _status(app, regs["fremmed"])[0] == "confirmed"  # another event: untouched
    log = _text(client.get("/manage/e/dag/log"))
    assert "Handling på flere tilmeldinger" in log and "Godkend: 1 tilmelding" in log


def test_check_in_all_that_match_the_filter(app, client, regs):
    form = {"action": "checkin", "scope": "all", "status": "confirmed", "q": "",
            "query": "status=confirmed"}
    assert "Check ind: 3 tilmeldinger." in _text(client.post(BULK, data=form))
    done = client.post(BULK, data={**form, "confirm": "y", "scope": "ids",
                                   "ids": [str(regs[n]) for n in ("Anna", "Bent", "Erik")]})
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/registrations?status=confirmed")
    for name in ("Anna", "Bent", "Erik"):
        assert _status(app, regs[name]) == ("confirmed", True)
    assert _status(app, regs["Carla"]) == ("pending", False)


def test_cancel_with_and_without_mail(app, client, regs):
    client.post(BULK, data={"action": "cancel_quietly", "scope": "ids", "confirm": "y",
                            "ids": [str(regs["Anna"])]})
    assert _status(app, regs["Anna"])[0] == "cancelled"
    assert _mails(app, "cancelled") == []
    client.post(BULK, data={"action": "cancel", "scope": "ids", "confirm": "y",
                            "ids": [str(regs["Bent"]), str(regs["Erik"])]})
    assert _mails(app, "cancelled") == ["bent@example.dk", "erik@example.dk"]


def test_resend_tickets(app, client, regs):
    client.post(BULK, data={"action": "resend", "scope": "ids", "confirm": "y",
                            "ids": [str(regs["Anna"]), str(regs["Dorte"])]})
    assert _mails(app, "registration") == ["anna@example.dk"]  # not the cancelled one


def test_export_the_selection(app, client, regs):
    response = client.post(BULK, data={"action": "export", "scope": "ids",
                                       "ids": [str(regs["Bent"]), str(regs["fremmed"])]})
    assert response.mimetype == "text/csv"
    cells = csv_cells(response.get_data())
    assert "Bent" in cells and "Anna" not in cells and "Fremmed" not in cells


def test_nothing_ticked_or_an_unknown_action_is_said_plainly(app, client, regs):
    response = client.post(BULK, data={"action": "approve", "scope": "ids"})
    assert response.status_code == 302
    assert "Vælg mindst én tilmelding." in _text(client.get("/manage/e/dag/registrations"))
    response = client.post(BULK, data={"action": "slet-alt", "scope": "ids",
                                       "ids": [str(regs["Anna"])], "confirm": "y"})
    assert response.status_code == 302
    assert "Vælg en handling." in _text(client.get("/manage/e/dag/registrations"))
    assert _status(app, regs["Anna"])[0] == "confirmed"


def test_only_organizers(app, client, regs):
    client.post("/logout", data={})
    make_user(app, "p@example.com", password=PASSWORD)
    login(client, "p@example.com")
    response = client.post(BULK, data={"action": "cancel_quietly", "scope": "ids",
                                       "ids": [str(regs["Anna"])], "confirm": "y"})
    assert response.status_code == 403
    assert _status(app, regs["Anna"])[0] == "confirmed"
