"""A participant's home: signed in by a link on mail, a participant lands on "Mine
arrangementer" with each event's ticket, my day, polls and directory; the staff keep
their account page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from eventhub.extensions import db
from tests.support.client import Client
from tests.support.factories import (
    make_event,
    make_registration,
    make_session,
    make_user,
)
from tests.support.mail import delivered_mails, link_in
from tests.support.plain_words import visible_text

EMAIL = "mette.holm@aarhus.example.dk"


def sign_in_by_link(app, mail_dir, email: str, next_url: str = "") -> tuple[Client, str]:
    """Ask for a link, open it from the mail, press the button: (client, where to)."""
    client = Client(app, app.response_class)
    assert client.post("/login/link", data={"email": email, "next": next_url}
                       ).status_code == 200
    mail = [m for m in delivered_mails(app, mail_dir) if m["To"] == email][-1]
    response = client.post(link_in(mail), data={})
    assert response.status_code == 302
    return client, response.headers["Location"]


def _text(response) -> str:
    return " ".join(visible_text(response.get_data(as_text=True))[0])


def _events(app):
    now = datetime.now(UTC)
    coming = make_event(app, "kommende", title="Del & Genbrug 2027",
                        starts_at=now + timedelta(days=30),
                        ends_at=now + timedelta(days=30, hours=7))
    past = make_event(app, "forbi", title="Del & Genbrug 2025",
                      starts_at=now - timedelta(days=300),
                      ends_at=now - timedelta(days=300, hours=-7))
    draft = make_event(app, "kladde", title="Hemmelig kladde", status="draft")
    cancelled = make_event(app, "afmeldt", title="Afmeldt dag")
    start = now + timedelta(days=30)
    make_session(app, coming, "Velkommen", start, start + timedelta(hours=1))
    with app.app_context():
        from eventhub.polls.models import Poll

        db.session.add(Poll(event_id=coming, question="Hvad nu?", status="open"))
        db.session.commit()
    for event_id in (coming, past, draft):
        make_registration(app, event_id, EMAIL, "Mette Holm")
    make_registration(app, cancelled, EMAIL, "Mette Holm", status="cancelled")
    return coming


def test_a_participant_lands_on_their_events(app, mail_dir):
    _events(app)
    client, where = sign_in_by_link(app, mail_dir, EMAIL)
    assert where == "/my-events"
    page = client.get(where)
    text = _text(page)
    assert "Mine arrangementer" in text
    assert text.index("Kommende") < text.index("Del & Genbrug 2027") < \
        text.index("Tidligere") < text.index("Del & Genbrug 2025")
    assert "Hemmelig kladde" not in text and "Afmeldt dag" not in text
    html = page.get_data(as_text=True)
    with app.app_context():
        from eventhub.events.models import Event
        from eventhub.registration.models import Registration

        event = db.session.scalar(select(Event).where(Event.slug == "kommende"))
        reg = db.session.scalar(select(Registration).where(
            Registration.event_id == event.id))
        code, join = reg.ticket_code, event.join_code
    for link in (f"/t/{code}", "/e/kommende/my-day", f"/j/{join}", "/e/kommende/directory",
                 f"/r/{reg.manage_token}"):
        assert f'href="{link}"' in html, link
    assert "Afstemninger (1 åben)" in text
    assert 'href="/my-events"' in html  # "Mine arrangementer" in the menu
    # From home to "my day": the signed-in participant is known at the event.
    my_day = client.get("/e/kommende/my-day").get_data(as_text=True)
    assert "/e/kommende/agenda/" in my_day  # her own calendar feed: she is known


def test_a_link_to_a_page_still_goes_there(app, mail_dir):
    _events(app)
    _client, where = sign_in_by_link(app, mail_dir, EMAIL, "/e/kommende/directory")
    assert where == "/e/kommende/directory"


def test_staff_keep_their_account_page(app, mail_dir):
    org = make_user(app, "arrangoer@example.com")
    make_event(app, "dag", organizer_id=org)
    make_registration(app, make_event(app, "andet"), "arrangoer@example.com", "Anna")
    client, where = sign_in_by_link(app, mail_dir, "arrangoer@example.com")
    assert where == "/account"
    assert 'href="/manage/"' in client.get(where).get_data(as_text=True)


def test_someone_with_no_registration_gets_the_account_page(app, mail_dir):
    _client, where = sign_in_by_link(app, mail_dir, "ny@example.com")
    assert where == "/account"


def test_the_home_needs_sign_in(client):
    response = client.get("/my-events")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_home_in_english(app, mail_dir):
    _events(app)
    client, where = sign_in_by_link(app, mail_dir, EMAIL)
    text = _text(client.get(where + "?lang=en"))
    assert "My events" in text and "Ticket" in text and "My day" in text
