"""Every chart with nothing to show says why, in words, instead of an empty box."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eventhub.extensions import db
from eventhub.polls.models import Poll, PollOption
from tests.support.client import login
from tests.support.factories import PASSWORD, make_event, make_user
from tests.support.plain_words import visible_text


def _text(response) -> str:
    return " ".join(visible_text(response.get_data(as_text=True))[0])


def test_a_new_event_has_words_where_its_charts_would_be(app, client):
    org = make_user(app, "org@example.com", password=PASSWORD)
    past = datetime.now(UTC) - timedelta(days=10)
    event_id = make_event(app, "dag", organizer_id=org, starts_at=past,
                          ends_at=past + timedelta(hours=7))
    with app.app_context():
        db.session.add_all([
            Poll(event_id=event_id, question="Hvad virker?", kind="single", status="closed",
                 options=[PollOption(label="Ja", position=1)]),
            Poll(event_id=event_id, question="Ét ord", kind="wordcloud", status="closed")])
        db.session.commit()
    login(client, "org@example.com")

    dashboard = client.get("/manage/e/dag/followup/")
    assert "Ingen leads er endt med genbrug endnu" in _text(dashboard)
    assert 'class="chart months"' not in dashboard.get_data(as_text=True)

    report = client.get("/manage/e/dag/followup/report")
    text = _text(report)
    for why in ("Ingen er tilmeldt endnu", "Der er ingen leads endnu",
                "Ingen leads er endt med genbrug endnu", "Ingen har stemt i denne afstemning",
                "Ingen har givet et ord i denne afstemning"):
        assert why in text, why
    assert "<svg" not in report.get_data(as_text=True)

    results = client.get("/manage/e/dag/polls/")
    assert results.status_code == 200
    english = _text(client.get("/manage/e/dag/followup/report?lang=en"))
    assert "No lead has ended in reuse yet" in english
