"""One person's data in every feature, made through the real pages (shared by the
"my data" and retention-purge tests). Domains that hold more about a person add a
filler to ``FILLERS``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from eventhub.extensions import db
from tests.support.client import Client, login
from tests.support.factories import PASSWORD, add_question, make_event, make_session, make_user
from tests.support.mail import delivered_mails

NAME = "Birgitte Bøgelund"
EMAIL = "birgitte.bogelund@horsens.example.dk"
JOB = "Sundhedsfaglig konsulent"
ANSWER = "Glutenfri frokost til Birgitte"
QA_TEXT = "Hvor lang tid tog implementeringen?"


@dataclass
class Person:
    client: Client
    token: str
    registration_id: int
    event_id: int
    slug: str
    ids: dict[str, int] = field(default_factory=dict)


def _poll(app, event_id: int, kind: str, **fields) -> int:
    from eventhub.polls.models import Poll, PollOption

    with app.app_context():
        poll = Poll(event_id=event_id, question=f"Spørgsmål {kind}", kind=kind, status="open",
                    options=[PollOption(label=o, position=i) for i, o in enumerate(
                        ("Ja", "Nej"))] if kind == "single" else [], **fields)
        db.session.add(poll)
        db.session.commit()
        return poll.id


def fill_person(app, mail_dir, slug: str = "dag", *, retention=None, other_voter=True
                ) -> Person:
    """An event with a question, a workshop and polls; NAME registers, answers, stars and
    signs up, votes, asks, gets mail, speaks; and another voter votes anonymously."""
    from eventhub.events.models import Event
    from eventhub.registration.models import Registration

    org = make_user(app, f"org-{slug}@example.com", password=PASSWORD)
    event_id = make_event(app, slug, title=f"Del og Genbrug {slug}", organizer_id=org,
                          retention_until=retention)
    question = add_question(app, event_id, "Kost")
    start = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    workshop = make_session(app, event_id, "Workshop om skærmbesøg", start,
                            start.replace(hour=10), signup_capacity=10)

    client = Client(app, app.response_class)
    done = client.post(f"/e/{slug}/register", data={
        "name": NAME, "email": EMAIL, "organization": "Horsens Kommune", "job_title": JOB,
        f"q_{question}": ANSWER, "directory_consent": "y"})
    assert done.status_code == 302, done.get_data(as_text=True)
    with app.app_context():
        reg = db.session.scalar(select(Registration).where(Registration.email == EMAIL,
                                                           Registration.event_id == event_id))
        token, reg_id = reg.manage_token, reg.id
        join = db.session.get(Event, event_id).join_code
    delivered_mails(app, mail_dir)  # the receipt is built and sent: name in its body
    client.get(f"/r/{token}")  # this browser now acts for the registration
    client.post(f"/e/{slug}/programme/{workshop}/star", data={})
    client.post(f"/e/{slug}/programme/{workshop}/signup", data={})
    client.get(f"/e/{slug}/my-day")

    # A speaker entry linked to the registration, and the organizer-side speaker list.
    staff = Client(app, app.response_class)
    login(staff, f"org-{slug}@example.com")
    staff.post(f"/manage/e/{slug}/programme/sessions/{workshop}", data={
        "title": "Workshop om skærmbesøg", "kind": "workshop",
        "starts_at": "2027-03-10T10:00", "ends_at": "2027-03-10T11:00",
        "signup_capacity": "10", "speaker_ids": [str(reg_id)], "confirm_warnings": "y"})

    single = _poll(app, event_id, "single", audience="registered")
    qa = _poll(app, event_id, "qa", audience="registered")
    client.get(f"/j/{join}")
    with app.app_context():
        from eventhub.polls.models import PollOption
        yes = db.session.scalar(select(PollOption.id).where(PollOption.poll_id == single,
                                                            PollOption.label == "Ja"))
    assert client.post(f"/j/{join}/polls/{single}/vote",
                       data={"choice": [str(yes)]}).status_code == 302
    assert client.post(f"/j/{join}/polls/{qa}/ask", data={"text": QA_TEXT}).status_code == 302
    if other_voter:
        with app.app_context():
            from eventhub.polls.models import Poll
            db.session.get(Poll, single).audience = "anyone"
            db.session.commit()
        phone = Client(app, app.response_class)
        phone.get(f"/j/{join}")
        phone.post(f"/j/{join}/polls/{single}/vote", data={"choice": [str(yes)]})
    person = Person(client, token, reg_id, event_id, slug,
                    {"workshop": workshop, "single": single, "qa": qa, "question": question})
    for filler in FILLERS:
        filler(app, person)
    return person


# Domains that hold more about a person append ``fn(app, person)`` here (directory:
# profile, interests, experiences, contact requests).
FILLERS: list[Callable] = []


def _other(app, person: Person) -> int:
    """A second participant at the event, for contact requests and introductions."""
    from eventhub.registration.models import Registration

    with app.app_context():
        other = Registration(event_id=person.event_id, email="kim.kollega@example.dk",
                             name="Kim Kollega")
        db.session.add(other)
        db.session.commit()
        return other.id


def _directory(app, person: Person) -> None:
    """Profile, an interest, contact requests both ways, contact person for an experience."""
    from eventhub.directory.models import (
        INTEREST_KINDS,
        ContactRequest,
        Experience,
        Interest,
        Profile,
        Solution,
    )
    from eventhub.registration.models import Registration

    other = person.ids.get("other") or person.ids.setdefault("other", _other(app, person))
    with app.app_context():
        reg = db.session.get(Registration, person.registration_id)
        solution = Solution(name="Skærmbesøg i hjemmeplejen", public=True)
        db.session.add(solution)
        db.session.flush()
        db.session.add_all([
            Profile(registration_id=reg.id, bio=f"{NAME} arbejder med skærmbesøg.",
                    can_help_with=f"Ring til {NAME}", looking_for=f"Skriv til {EMAIL}"),
            Interest(registration_id=reg.id, solution_id=solution.id,
                     kind=next(iter(INTEREST_KINDS))),
            ContactRequest(event_id=person.event_id, sender_id=reg.id, recipient_id=other,
                           message=f"Hej, jeg hedder {NAME} ({EMAIL})."),
            ContactRequest(event_id=person.event_id, sender_id=other, recipient_id=reg.id,
                           message=f"Kære {NAME}"),
            Experience(solution_id=solution.id, organization_id=reg.organization_id,
                       contact_registration_id=reg.id),
        ])
        db.session.commit()
        person.ids["solution"] = solution.id


def _followup(app, person: Person) -> None:
    """A lead with a note about the person, an introduction, an unsubscribe."""
    from eventhub.followup.models import Introduction, Lead, LeadEntry, Unsubscribe

    other = person.ids.get("other") or person.ids.setdefault("other", _other(app, person))
    with app.app_context():
        lead = Lead(event_id=person.event_id, registration_id=person.registration_id,
                    solution_id=person.ids.get("solution"), drop_reason=f"{NAME} sagde nej")
        db.session.add(lead)
        db.session.flush()
        db.session.add(LeadEntry(lead_id=lead.id, text=f"Ringede til {NAME} på {EMAIL}"))
        if person.ids.get("solution"):
            db.session.add(Introduction(event_id=person.event_id,
                                        solution_id=person.ids["solution"],
                                        seeker_id=person.registration_id, runner_id=other))
        db.session.add(Unsubscribe(registration_id=person.registration_id))
        db.session.commit()


try:
    import eventhub.directory.models  # noqa: F401
    FILLERS.append(_directory)
except ImportError:  # the directory is not built yet
    pass
try:
    import eventhub.followup.models  # noqa: F401
    FILLERS.append(_followup)
except ImportError:
    pass
