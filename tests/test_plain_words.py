"""No raw codes where people read: every page and export of the demo, in Danish and
English, as organizer, community manager and participant. A status, kind, stage or role
must show as its label; a time as a date in the reader's language, never as ISO."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from eventhub.extensions import db
from tests.support.client import Client, login
from tests.support.factories import set_password_for
from tests.support.plain_words import (
    crawl,
    csv_cells,
    internal_codes,
    iso_in,
    pdf_lines,
    raw_codes_in,
    visible_text,
    xlsx_cells,
)

SLUG = "del-genbrug-2026"
ORGANIZER, MANAGER = "arrangoer@example.com", "community@example.com"
PARTICIPANT = "mette.holm@aarhus.example.dk"

# Codes that are also ordinary words of the language, found in the demo's own texts
# (titles, descriptions) or in correct prose: shown inside a sentence they are words,
# shown alone they are still a finding (see raw_codes_in).
WORDS = {
    "da": {"data", "video", "case", "pitch", "pilot", "region", "workshop", "keynote",
           "quiz"},
    "en": {"data", "video", "case", "pitch", "pilot", "region", "workshop", "keynote",
           "open", "closed", "draft", "new", "other", "company", "scale", "single",
           "multiple", "talk", "break", "ready", "idea", "operation", "use", "learn",
           "contact", "meeting", "dropped", "contacted", "interest", "introduction",
           "manual", "sensors", "medication", "aids", "telemedicine", "rehabilitation",
           "all", "interested", "anyone", "registered", "pending", "approved",
           "rejected", "accepted", "declined", "published", "archived", "confirmed",
           "cancelled", "waitlisted", "scheduled", "participant", "speaker", "organizer",
           "checkin", "municipality", "knowledge", "considering", "piloting",
           "implemented", "scaled", "stopped", "wordcloud", "sent", "queued", "failed",
           "skipped", "proposed", "signed_up", "waiting", "copy", "adapted", "inspired",
           "testing", "no", "time", "technology", "economy", "ownership", "quiz", "ranking",
           "always", "never", "voted", "revealed", "scan", "table", "stand", "requested",
           "withdrawn"},
}
# What demo participants typed that happens to be a code: a word in the word cloud.
USER_WORDS = {"data"}


@pytest.fixture
def demo(app):
    from eventhub.demo import load_demo
    from eventhub.registration.models import Registration

    with app.app_context():
        load_demo()
        db.session.commit()
        token = db.session.scalar(select(Registration.manage_token).where(
            Registration.email == PARTICIPANT))
    for email in (ORGANIZER, MANAGER):
        set_password_for(app, email)
    _staff_activity(app)
    return token


def _staff_activity(app) -> None:
    """What the staff did, so the activity log has lines of every kind to show."""
    from eventhub.events.models import Event
    from eventhub.followup.models import Lead
    from eventhub.programme.models import Session
    from eventhub.registration.models import Question

    organizer = _staff(app, ORGANIZER)
    with app.app_context():
        lead = db.session.scalar(select(Lead.id).where(Lead.stage == "meeting").limit(1))
        event_id = db.session.scalar(select(Event.id).where(Event.slug == SLUG))
        question = db.session.scalar(select(Question.id).where(
            Question.event_id == event_id).order_by(Question.id).limit(1))
        session = db.session.scalars(select(Session.id).where(
            Session.event_id == event_id).order_by(Session.id)).all()[1]
    base = f"/manage/e/{SLUG}"
    steps = [
        (f"{base}/followup/leads/{lead}/move", {"stage": "adopted_adaptation", "note": ""}),
        (f"{base}/followup/mail", {"segment": "org_kind", "org_kind": "municipality",
                                   "subject": "Tak for sidst", "body": "Hej {navn}",
                                   "action": "send"}),
        (f"{base}/staff", {"email": "ny.kollega@example.com", "name": "Ny Kollega",
                           "role": "checkin"}),
        (f"{base}/questions/{question}/down", {}),
        (f"{base}/programme/sessions/{session}/cancel", {}),
        (f"{base}/followup/leads/import", {}),
    ]
    for path, data in steps:
        assert organizer.post(path, data=data).status_code == 302, path
    organizer.get(f"{base}/registrations.csv")
    organizer.get(f"{base}/badges.pdf")


def _participant(app, token: str) -> Client:
    """Mette Holm: her personal link in this browser, signed in by a link on mail."""
    from eventhub.accounts.services import create_magic_link

    client = Client(app, app.response_class)
    client.get(f"/r/{token}")
    with app.test_request_context():
        link = create_magic_link(PARTICIPANT)
        db.session.commit()
    path = link.split("localhost", 1)[-1]
    assert client.post(path, data={}).status_code == 302
    client.get(f"/r/{token}")
    return client


def _staff(app, email: str) -> Client:
    client = Client(app, app.response_class)
    assert login(client, email).status_code == 302
    return client


STARTS = {
    "organizer": ["/manage/", f"/manage/e/{SLUG}", f"/e/{SLUG}", "/account", "/",
                  f"/manage/e/{SLUG}/polls/remote", f"/manage/e/{SLUG}/polls/screen"],
    "manager": ["/manage/", f"/manage/e/{SLUG}", f"/manage/e/{SLUG}/followup/",
                f"/manage/e/{SLUG}/meetings/",
                f"/e/{SLUG}", "/", "/community/", f"/manage/e/{SLUG}/registrations",
                "/community/open-data/"],
    "participant": ["/my-events", "/", f"/e/{SLUG}", "/account", "/my-data", f"/e/{SLUG}/directory",
                    f"/e/{SLUG}/my-day", f"/e/{SLUG}/programme", f"/e/{SLUG}/meetings"],
}


def _findings(where: str, chunks: list[str], codes: set[str], lang: str, *,
              dates_too: bool) -> list[str]:
    found = [f"{where}: code {code!r} in {chunk[:140]!r}"
             for code, chunk in raw_codes_in(chunks, codes, WORDS[lang], USER_WORDS)]
    found += [f"{where}: ISO {iso!r} in {chunk[:140]!r}"
              for iso, chunk in iso_in(chunks, dates_too=dates_too)]
    return found


def _file_chunks(mimetype: str, body: bytes) -> list[str] | None:
    if mimetype == "text/csv":
        return csv_cells(body)
    if mimetype.endswith("spreadsheetml.sheet"):
        return xlsx_cells(body)
    if mimetype == "application/pdf":
        return pdf_lines(body)
    return None


@pytest.mark.parametrize("lang", ["da", "en"])
@pytest.mark.parametrize("who", ["organizer", "manager", "participant"])
def test_no_raw_codes_or_iso_times_where_people_read(app, demo, who, lang):
    client = {"organizer": lambda: _staff(app, ORGANIZER),
              "manager": lambda: _staff(app, MANAGER),
              "participant": lambda: _participant(app, demo)}[who]()
    client.get(f"/?lang={lang}")
    with app.app_context():
        codes = internal_codes()
    assert {"published", "municipality", "adopted_adaptation", "confirmed"} <= codes

    result = crawl(client, STARTS[who])
    assert not result.failures, result.failures
    assert len(result.pages) > {"organizer": 40, "manager": 20, "participant": 10}[who], \
        sorted(result.pages)
    findings: list[str] = []
    for path, html in result.pages.items():
        assert f'<html lang="{lang}"' in html, path
        chunks, _links = visible_text(html)
        findings += _findings(path, chunks, codes, lang, dates_too=True)
    exports = 0
    for path, (mimetype, body) in result.files.items():
        chunks = _file_chunks(mimetype, body)
        if chunks is None:
            continue
        exports += 1
        # A spreadsheet keeps sortable "2026-12-10 08:30"; no machine timestamps anywhere.
        findings += _findings(path, chunks, codes, lang, dates_too=mimetype == "application/pdf")
    if who == "organizer":
        assert exports >= 5, sorted(result.files)
        log = " ".join(visible_text(result.pages[f"/manage/e/{SLUG}/log"])[0])
        assert {"da": "Møde → Genbrugt (tilpasning)", "en": "Meeting → "}[lang] in log
        assert {"da": "(Kommune): ", "en": "(Municipality): "}[lang] in log
    findings = list(dict.fromkeys(findings))  # one line per page and finding
    assert findings == [], "\n".join(findings)


def test_counts_follow_the_number(app, client):
    """"1 nyt lead", "2 nye leads", "1 modtager", "Afstemninger (1 åben)"."""
    from eventhub.followup import auditlog
    from eventhub.polls.models import Poll
    from tests.support.factories import make_event

    with app.test_request_context():
        assert auditlog._imported("1 leads") == "1 nyt lead"
        assert auditlog._imported("2 leads") == "2 nye leads"
        assert auditlog._mail("all : 1").endswith(": 1 modtager")
        assert auditlog._mail("org_kind municipality: 4") == \
            "Alle deltagere fra en type organisation (Kommune): 4 modtagere"
        assert auditlog._move("lead #3: meeting → adopted_adaptation") == \
            "Lead #3: Møde → Genbrugt (tilpasning)"
    event_id = make_event(app, "dag")
    with app.app_context():
        db.session.add(Poll(event_id=event_id, question="Hvad nu?", status="open"))
        db.session.commit()
    page = client.get("/e/dag").get_data(as_text=True)
    assert "Afstemninger (1 åben)" in " ".join(visible_text(page)[0])
    english = client.get("/e/dag?lang=en").get_data(as_text=True)
    assert "Polls (1 open)" in " ".join(visible_text(english)[0])
