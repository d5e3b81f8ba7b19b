"""Retention: `eventhub purge-expired` anonymizes everything about the people of events
past their retention date. One person's data goes into every feature, the purge runs,
and then every column of every table in the metadata is read: their name and email
appear nowhere. Figures (votes, seats) still add up; other events are untouched."""

from datetime import date, timedelta

from sqlalchemy import func, select

from eventhub.audit import AuditEntry
from eventhub.db import utcnow
from eventhub.extensions import db
from eventhub.polls.models import QAQuestion, Vote
from eventhub.programme.models import Signup
from eventhub.registration.models import Registration
from tests.support.client import Client
from tests.support.factories import make_event
from tests.support.mail import delivered_mails
from tests.support.privacy_data import EMAIL, NAME, fill_person

KEEP_NAME, KEEP_EMAIL = "Keld Kontrolgruppe", "keld.kontrol@example.dk"


def every_value(app) -> list[tuple[str, str, str]]:
    """(table, column, text) for every non-empty value of every table in the metadata."""
    found = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is not None:
                        found.append((table.name, column, str(value)))
    return found


def traces(app, *needles: str) -> list[tuple[str, str]]:
    needles = [n.casefold() for n in needles]
    return [(table, column) for table, column, text in every_value(app)
            if any(n in text.casefold() for n in needles)]


def counts(app) -> tuple[int, int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m))
                     for m in (Vote, QAQuestion, Signup, Registration))


def test_purge_leaves_no_trace_of_the_person(app, runner, mail_dir):
    expired = date.today() - timedelta(days=1)
    person = fill_person(app, mail_dir, "gammel", retention=expired)
    # The same person also asked for a sign-in link (no event): a user, a link, a mail.
    Client(app, app.response_class).post("/login/link", data={"email": EMAIL})
    delivered_mails(app, mail_dir)
    # Someone at a live event, whose data must stay.
    keep = Client(app, app.response_class)
    make_event(app, "levende", retention_until=date.today() + timedelta(days=365))
    assert keep.post("/e/levende/register", data={
        "name": KEEP_NAME, "email": KEEP_EMAIL, "organization": "Vejle Kommune"}
        ).status_code == 302

    local_part = EMAIL.split("@")[0]
    assert traces(app, NAME, EMAIL, local_part)  # the scan does find them before
    before = counts(app)

    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert "gammel" in result.output and "levende" not in result.output

    assert traces(app, NAME, EMAIL, local_part) == []
    assert counts(app) == before  # every vote, question, seat and registration still counted
    assert traces(app, KEEP_NAME, KEEP_EMAIL)  # the live event is untouched
    with app.app_context():
        assert db.session.scalar(select(Vote.id).where(Vote.voter_key.startswith("a:"),
                                                       Vote.poll_id == person.ids["single"])
                                 ) is None  # anonymous phones' cookie ids are cut too
        people = db.session.scalar(select(func.count()).select_from(Registration).where(
            Registration.event_id == person.event_id))
        assert db.session.scalar(select(AuditEntry.target).where(
            AuditEntry.action == "privacy.purge")) == str(people)

    again = runner.invoke(args=["purge-expired"])  # nothing left to do
    assert "registrations anonymized: 0" in again.output


def test_purge_waits_for_the_retention_date(app, runner, mail_dir):
    fill_person(app, mail_dir, "snart", retention=utcnow().date())  # today: not yet past
    result = runner.invoke(args=["purge-expired"])
    assert "Events: none" in result.output
    assert traces(app, NAME, EMAIL)


def test_staff_accounts_survive_the_purge(app, runner, mail_dir):
    fill_person(app, mail_dir, "gammel", retention=date(2020, 1, 1))
    runner.invoke(args=["purge-expired"])
    from eventhub.accounts.models import User

    with app.app_context():
        assert db.session.scalar(select(User.email).where(
            User.email == "org-gammel@example.com"))
