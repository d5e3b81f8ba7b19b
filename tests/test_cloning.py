"""Next year's edition in one form: the demo's Del & Genbrug 2026 cloned into 2027.

Every row that should be copied is (questions, rooms, tracks, sessions moved by whole
days with their clock times, speakers, polls closed and without votes, the solutions on
the programme, staff roles); every column of every row the clone made is read, and none
holds anything personal of the source's participants."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from eventhub.extensions import db
from eventhub.timeutil import to_local
from tests.support.client import login
from tests.support.factories import make_user, set_password_for
from tests.support.plain_words import visible_text

SOURCE = "del-genbrug-2026"
ORGANIZER = "arrangoer@example.com"
NEW_DAY = date(2027, 12, 9)  # a Thursday, like 10 December 2026
FORM = {"title": "Del & Genbrug 2027", "slug": "del-genbrug-2027",
        "starts_on": NEW_DAY.isoformat(), "with_staff": "y"}


@pytest.fixture
def demo(app, client):
    from eventhub.demo import load_demo
    from eventhub.registration.models import Answer, Question, Registration

    with app.app_context():
        load_demo()
        diet = db.session.scalar(select(Question).where(Question.kind == "short_text"))
        mette = db.session.scalar(select(Registration).where(Registration.name == "Mette Holm"))
        db.session.add(Answer(registration_id=mette.id, question_id=diet.id,
                              question_label=diet.label, value="Glutenfri, tak – Mette"))
        db.session.commit()
    set_password_for(app, ORGANIZER)
    login(client, ORGANIZER)
    return client


def all_rows(app) -> dict[str, set[tuple]]:
    """Every row of every table, as tuples of its values (JSON values as text)."""
    def plain(value):
        return repr(value) if isinstance(value, list | dict) else value

    with app.app_context():
        return {table.name: {tuple(plain(v) for v in row)
                             for row in db.session.execute(select(table))}
                for table in db.metadata.sorted_tables}


def _event(slug: str):
    from eventhub.events.models import Event

    return db.session.scalar(select(Event).where(Event.slug == slug))


def _personal_needles(app) -> list[str]:
    """What the source holds about its participants: addresses, names (of those who did
    not speak: a speaker's name is part of the public programme), ticket codes, personal
    links, answers, votes' voter keys, profiles, contact messages, lead notes."""
    from eventhub.directory.models import ContactRequest, Profile
    from eventhub.followup.models import LeadEntry
    from eventhub.polls.models import Vote
    from eventhub.programme.models import Speaker
    from eventhub.registration.models import Answer, Registration

    with app.app_context():
        speakers = set(db.session.scalars(select(Speaker.registration_id).where(
            Speaker.registration_id.is_not(None))))
        needles = []
        for reg in db.session.scalars(select(Registration)):
            needles += [reg.email, reg.ticket_code, reg.manage_token]
            if reg.id not in speakers:
                needles.append(reg.name)
        needles += [a.as_text() for a in db.session.scalars(select(Answer))
                    if isinstance(a.value, str) and a.value]  # typed; choices are options
        needles += list(db.session.scalars(select(Vote.voter_key)))
        for profile in db.session.scalars(select(Profile)):
            needles += [t for t in (profile.bio, profile.can_help_with, profile.looking_for) if t]
        needles += [m for m in db.session.scalars(select(ContactRequest.message)) if m]
        needles += [t for t in db.session.scalars(select(LeadEntry.text)) if t]
    # A word someone typed that is also the event's own public text (a profile that
    # looks for "Skærmbesøg", a solution's name) says nothing about them.
    public = " ".join(str(v) for table in PUBLIC_TABLES for row in all_rows(app)[table]
                      for v in row)
    return [n for n in needles if n and len(n) >= 4 and n not in public]


PUBLIC_TABLES = ("events", "questions", "sessions", "speakers", "polls", "poll_options",
                 "solutions", "rooms", "tracks")


def test_clone_copies_what_it_should_moves_dates_and_no_personal_data(app, demo):
    before = all_rows(app)
    needles = _personal_needles(app)
    assert len(needles) > 60

    page = demo.get(f"/manage/e/{SOURCE}/clone").get_data(as_text=True)
    assert 'value="Del &amp; Genbrug 2027"' in page  # the suggestion: next year
    response = demo.post(f"/manage/e/{SOURCE}/clone", data=FORM)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/manage/e/del-genbrug-2027")

    after = all_rows(app)
    new_rows = {table: rows - before[table] for table, rows in after.items()}
    for table, rows in new_rows.items():
        for row in rows:
            for value in row:
                text = str(value) if value is not None else ""
                hits = [n for n in needles if n in text]
                assert not hits, f"{table}: {hits} in {row}"
    for table in ("registrations", "answers", "votes", "qa_questions", "agenda_entries",
                  "signups", "profiles", "interests", "contact_requests", "followup_leads",
                  "followup_lead_entries", "outbox_mails"):
        assert not new_rows.get(table), table
    _same_programme(app)
    _same_settings(app)


def _same_programme(app) -> None:
    from eventhub.directory.models import Presentation
    from eventhub.polls.models import CLOSED, Poll, Vote
    from eventhub.programme.models import EventSpeaker, Room, Session, Track
    from eventhub.registration.models import Question

    with app.app_context():
        old, new = _event(SOURCE), _event("del-genbrug-2027")
        days = (NEW_DAY - to_local(old.starts_at).date()).days

        def rows(model, *cols, ev):
            return sorted(tuple(getattr(r, c) for c in cols) for r in db.session.scalars(
                select(model).where(model.event_id == ev.id)))

        for model, cols in ((Room, ("name", "capacity", "position")),
                            (Track, ("name", "colour", "position")),
                            (EventSpeaker, ("name", "job_title", "organization", "bio")),
                            (Question, ("label", "kind", "required", "position"))):
            assert rows(model, *cols, ev=old) == rows(model, *cols, ev=new) != [], model

        def programme(ev):
            out = []
            for s in db.session.scalars(select(Session).where(Session.event_id == ev.id)):
                start, end = to_local(s.starts_at), to_local(s.ends_at)
                out.append((s.title, s.kind, start.time(), end.time(), start.date(),
                            s.room.name if s.room else None,
                            s.track.name if s.track else None, s.signup_capacity,
                            tuple((sp.name, sp.organization) for sp in s.speakers)))
            return sorted(out, key=str)

        moved = [row[:4] + (row[4] + timedelta(days=days),) + row[5:]
                 for row in programme(old)]
        assert sorted(moved, key=str) == programme(new)
        assert len(programme(new)) == 15
        new_sessions = list(db.session.scalars(select(Session).where(
            Session.event_id == new.id)))
        assert all(sp.registration_id is None and sp.person.event_id == new.id
                   for s in new_sessions for sp in s.speakers)
        assert all(p.registration_id is None for p in db.session.scalars(
            select(EventSpeaker).where(EventSpeaker.event_id == new.id)))

        def polls(ev):
            return sorted((p.question, p.kind, tuple(o.label for o in p.options),
                           db.session.get(Session, p.session_id).title if p.session_id
                           else None)
                          for p in db.session.scalars(select(Poll).where(Poll.event_id == ev.id)))

        assert polls(old) == polls(new) != []
        new_polls = list(db.session.scalars(select(Poll).where(Poll.event_id == new.id)))
        assert {p.status for p in new_polls} == {CLOSED}
        assert db.session.scalar(select(func.count()).select_from(Vote).where(
            Vote.poll_id.in_([p.id for p in new_polls]))) == 0

        def solutions(ev):
            return sorted((p.session.title, p.solution_id, len(p.presenters))
                          for p in db.session.scalars(select(Presentation).join(
                              Session, Session.id == Presentation.session_id).where(
                              Session.event_id == ev.id)))

        assert solutions(old) == solutions(new) != []


def _same_settings(app) -> None:
    from eventhub.events.models import EventRole

    with app.app_context():
        old, new = _event(SOURCE), _event("del-genbrug-2027")
        assert new.status == "draft" and new.join_code != old.join_code
        assert (new.venue, new.capacity, new.description, new.privacy_notice) == \
            (old.venue, old.capacity, old.description, old.privacy_notice)
        days = (NEW_DAY - to_local(old.starts_at).date()).days
        for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
            was, now = to_local(getattr(old, name)), to_local(getattr(new, name))
            assert now.date() == was.date() + timedelta(days=days), name
            assert now.time() == was.time(), name  # the clock time, across summer time
        assert new.retention_until == old.retention_until + timedelta(days=days)
        assert new.series_id is not None and new.series_id == old.series_id

        def roles(ev):
            return set(db.session.execute(select(EventRole.user_id, EventRole.role).where(
                EventRole.event_id == ev.id)).all())

        assert roles(old) <= roles(new)


def test_editions_are_linked_on_the_public_pages(app, demo):
    demo.post(f"/manage/e/{SOURCE}/clone", data=FORM)
    staff_view = " ".join(visible_text(demo.get("/e/del-genbrug-2027").get_data(
        as_text=True))[0])
    assert "Udgaver: Del & Genbrug 2026 Del & Genbrug 2027" in staff_view
    # The public sees only published editions: the draft is not linked yet.
    public = " ".join(visible_text(app.test_client().get(f"/e/{SOURCE}").get_data(
        as_text=True))[0])
    assert "Udgaver" not in public
    with app.app_context():
        _event("del-genbrug-2027").status = "published"
        db.session.commit()
    public = app.test_client().get(f"/e/{SOURCE}").get_data(as_text=True)
    assert 'href="/e/del-genbrug-2027"' in public


@pytest.mark.parametrize("changes,message", [
    ({"starts_on": (date.today() - timedelta(days=1)).isoformat()},
     "Den nye udgave skal ligge i fremtiden"),
    ({"starts_on": date.today().isoformat()}, "Den nye udgave skal ligge i fremtiden"),
    ({"starts_on": "i morgen"}, "Skriv datoen som dd-mm-åååå."),
    ({"starts_on": ""}, "Vælg den nye udgaves første dag."),
    ({"slug": SOURCE}, "er allerede brugt"),
    ({"title": ""}, "Skriv en titel."),
])
def test_clone_refuses_bad_input_keeps_it_and_saves_nothing(app, demo, changes, message):
    before = all_rows(app)
    response = demo.post(f"/manage/e/{SOURCE}/clone", data={**FORM, **changes})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    if changes.get("title", None) != "":
        assert 'value="Del &amp; Genbrug 2027"' in page  # what was typed is kept
    after = all_rows(app)
    assert {t: r - before[t] for t, r in after.items() if r - before[t]} == {}


def test_only_organizers_of_the_source_clone(app, demo, client):
    make_user(app, "fremmed@example.com", password="korrekt-hest-batteri")
    other = app.test_client()
    from tests.support.client import Client

    other = Client(app, app.response_class)
    login(other, "fremmed@example.com")
    assert other.get(f"/manage/e/{SOURCE}/clone").status_code == 403
    assert other.post(f"/manage/e/{SOURCE}/clone", data=FORM).status_code == 403
    with app.app_context():
        assert _event("del-genbrug-2027") is None
