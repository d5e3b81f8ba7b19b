"""The network directory: access, search, privacy, interests, experiences, contacts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from eventhub.db import utcnow
from eventhub.directory import services
from eventhub.directory.models import Experience, Interest, Presentation, Solution, SolutionCategory
from eventhub.events.models import COMMUNITY_MANAGER, Organization
from eventhub.extensions import db
from eventhub.programme.models import Speaker
from eventhub.registration.models import Registration
from tests.support.client import login
from tests.support.factories import PASSWORD, make_event, make_session, make_user
from tests.support.mail import body_of, delivered_mails


def _org(name: str) -> int:
    return db.session.scalar(select(Organization.id).where(Organization.name == name))


def _person(event_id, email, name, org, *, consent=True, job="Projektleder"):
    reg = Registration(event_id=event_id, email=email, name=name, job_title=job,
                       organization_id=_org(org), status="confirmed",
                       directory_consent_at=utcnow() if consent else None)
    db.session.add(reg)
    db.session.flush()
    return reg


@pytest.fixture
def world(app):
    """An event; Anna (Aarhus) and Bo (Svendborg) listed, Carl (Odense) not; Bo's
    municipality runs "Skærmbesøg", presented at a session."""
    organizer = make_user(app, "arr@example.com", password=PASSWORD)
    cm = make_user(app, "cm@example.com", password=PASSWORD)
    event_id = make_event(app, "netvaerk", organizer_id=organizer)
    from datetime import UTC, datetime
    session_id = make_session(app, event_id, "Skærmbesøg i hjemmeplejen",
                              datetime(2027, 3, 10, 9, 0, tzinfo=UTC),
                              datetime(2027, 3, 10, 10, 0, tzinfo=UTC))
    with app.app_context():
        from eventhub.events.models import EventRole
        db.session.add(EventRole(event_id=event_id, user_id=cm, role=COMMUNITY_MANAGER))
        anna = _person(event_id, "anna@aarhus.dk", "Anna Andersen", "Aarhus Kommune")
        bo = _person(event_id, "bo@svendborg.dk", "Bo Bertelsen", "Svendborg Kommune")
        carl = _person(event_id, "carl@odense.dk", "Carl Carlsen", "Odense Kommune",
                       consent=False)
        sol = Solution(name="Skærmbesøg", summary="Videobesøg i stedet for kørsel",
                       description="Borgeren får en tablet til planlagte skærmbesøg.")
        sol.category_rows = [SolutionCategory(category="video")]
        db.session.add(sol)
        db.session.flush()
        db.session.add(Experience(solution_id=sol.id, organization_id=bo.organization_id,
                                  status="implemented", scale="320 borgere",
                                  effect_economic="Sparer 12 minutters kørsel pr. besøg",
                                  contact_registration_id=bo.id))
        speaker = Speaker(session_id=session_id, name="Bo Bertelsen",
                          organization="Svendborg Kommune", registration_id=bo.id)
        db.session.add(speaker)
        db.session.flush()
        db.session.add(Presentation(session_id=session_id, solution_id=sol.id,
                                    presenters=[speaker]))
        db.session.commit()
        ids = dict(event=event_id, session=session_id, anna=anna.id, bo=bo.id, carl=carl.id,
                   solution=sol.id, organizer=organizer, cm=cm,
                   svendborg=bo.organization_id,
                   tokens={r.name.split()[0].lower(): r.manage_token for r in (anna, bo, carl)})
    return ids


def as_(client, world, who: str):
    """Open the person's personal link: this browser now acts for them."""
    assert client.get(f"/r/{world['tokens'][who]}").status_code == 200
    return client


def test_directory_is_for_the_events_participants_and_staff(app, client, world):
    page = client.get("/e/netvaerk/directory")
    assert page.status_code == 403
    assert "kun for arrangementets deltagere" in page.get_data(as_text=True)
    # A stranger is offered the sign-in link that brings them back here.
    assert "/login/link?next=/e/netvaerk/directory" in page.get_data(as_text=True)
    as_(client, world, "carl")  # a participant without consent may still look
    assert client.get("/e/netvaerk/directory").status_code == 200
    with app.app_context():
        event = db.session.get(Registration, world["carl"]).event
        event.directory_open_until = date.today() - timedelta(days=1)
        db.session.commit()
    closed = client.get("/e/netvaerk/directory")
    assert closed.status_code == 403 and "lukket" in closed.get_data(as_text=True)
    staff = app.test_client()
    login(staff, "cm@example.com")
    assert staff.get("/e/netvaerk/directory").status_code == 200


def test_search_finds_solutions_experiences_organizations_and_listed_people(
        app, client, world):
    as_(client, world, "anna")
    page = client.get("/e/netvaerk/directory?q=skærm").get_data(as_text=True)
    assert "Skærmbesøg" in page and "Svendborg Kommune" in page
    assert "Bo Bertelsen" in client.get("/e/netvaerk/directory?q=bertel").get_data(as_text=True)
    assert "Svendborg Kommune" in client.get(
        "/e/netvaerk/directory?q=svendb&kind=organization").get_data(as_text=True)
    # Filters: experience status and category narrow the same words.
    assert "Skærmbesøg" in client.get(
        "/e/netvaerk/directory?kind=experience&status=implemented").get_data(as_text=True)
    none = client.get("/e/netvaerk/directory?q=skærm&status=stopped&kind=experience")
    assert "Ingen resultater" in none.get_data(as_text=True)
    assert "Skærmbesøg" in client.get(
        "/e/netvaerk/directory?category=video&kind=solution").get_data(as_text=True)
    # An unknown filter value is a clear message, not an error.
    odd = client.get("/e/netvaerk/directory?category=nonsense")
    assert odd.status_code == 200 and "Vælg en af mulighederne" in odd.get_data(as_text=True)


def test_people_without_consent_never_appear_and_vanish_on_withdrawal(app, client, world):
    as_(client, world, "anna")
    pages = ["/e/netvaerk/directory?q=carl", "/e/netvaerk/directory?q=odense",
             "/e/netvaerk/directory?kind=person", "/e/netvaerk/directory",
             f"/e/netvaerk/directory/solutions/{world['solution']}",
             f"/e/netvaerk/directory/organizations/{_org_id(app, 'Odense Kommune')}"]
    for url in pages:
        assert "Carl" not in client.get(url).get_data(as_text=True), url
    assert client.get(f"/e/netvaerk/directory/people/{world['carl']}").status_code == 404
    assert "Bo Bertelsen" in client.get("/e/netvaerk/directory?kind=person").get_data(
        as_text=True)
    # Bo withdraws on his own profile page: gone from everything at once.
    bo = app.test_client()
    as_(bo, world, "bo")
    bo.post("/e/netvaerk/directory/me", data={"bio": "Hej"})  # consent box unticked
    for url in ["/e/netvaerk/directory?q=bertel", "/e/netvaerk/directory?kind=person",
                f"/e/netvaerk/directory/solutions/{world['solution']}",
                f"/e/netvaerk/directory/organizations/{world['svendborg']}"]:
        assert "Bo Bertelsen" not in client.get(url).get_data(as_text=True), url
    assert client.get(f"/e/netvaerk/directory/people/{world['bo']}").status_code == 404
    # The solution and the municipality's experience stay: they are not personal.
    page = client.get(f"/e/netvaerk/directory/solutions/{world['solution']}")
    assert "Svendborg Kommune" in page.get_data(as_text=True)


def _org_id(app, name):
    with app.app_context():
        return _org(name)


def test_no_page_shows_another_participants_email(app, client, world):
    as_(client, world, "anna")
    urls = ["/e/netvaerk/directory", "/e/netvaerk/directory?q=bo",
            "/e/netvaerk/directory?kind=person",
            f"/e/netvaerk/directory/people/{world['bo']}",
            f"/e/netvaerk/directory/solutions/{world['solution']}",
            f"/e/netvaerk/directory/organizations/{world['svendborg']}",
            "/e/netvaerk/directory/contacts", f"/e/netvaerk/programme/{world['session']}"]
    for url in urls:
        body = client.get(url).get_data(as_text=True)
        assert "bo@svendborg.dk" not in body and "carl@odense.dk" not in body, url


def test_contact_request_shares_addresses_only_on_accept(app, client, world, mail_dir):
    as_(client, world, "anna")
    sent = client.post(f"/e/netvaerk/directory/people/{world['bo']}/contact",
                       data={"message": "Må jeg høre om jeres skærmbesøg?",
                             "solution_id": str(world["solution"])})
    assert sent.status_code == 302
    contacts = client.get("/e/netvaerk/directory/contacts").get_data(as_text=True)
    assert "Afventer svar" in contacts and "bo@svendborg.dk" not in contacts
    mails = delivered_mails(app, mail_dir)
    to_bo = [m for m in mails if m["To"] == "bo@svendborg.dk"]
    assert len(to_bo) == 1
    text = body_of(to_bo[0])
    assert "Anna Andersen" in text and "anna@aarhus.dk" not in text
    assert "Skærmbesøg" in text
    import re
    link = re.search(r"http://localhost(/e/netvaerk/directory/contact/\S+)", text).group(1)
    # Bo answers from the mail, without signing in.
    bo = app.test_client()
    answer_page = bo.get(link).get_data(as_text=True)
    assert "Må jeg høre" in answer_page and "anna@aarhus.dk" not in answer_page
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', answer_page).group(1)
    assert bo.post(link, data={"answer": "accept", "csrf_token": token}).status_code == 302
    assert bo.post(link, data={"answer": "accept", "csrf_token": token}).status_code == 302
    mails = delivered_mails(app, mail_dir)
    accepted = [m for m in mails if "forbundet" in m["Subject"]]
    assert sorted(m["To"] for m in accepted) == ["anna@aarhus.dk", "bo@svendborg.dk"]
    to_anna = next(m for m in accepted if m["To"] == "anna@aarhus.dk")
    assert "bo@svendborg.dk" in body_of(to_anna)
    assert "bo@svendborg.dk" in client.get("/e/netvaerk/directory/contacts").get_data(
        as_text=True)


def test_contact_request_bad_input(app, client, world):
    as_(client, world, "anna")
    url = f"/e/netvaerk/directory/people/{world['bo']}/contact"
    empty = client.post(url, data={"message": "   "})
    assert empty.status_code == 422 and "Feltet skal udfyldes" in empty.get_data(as_text=True)
    long_text = "x" * 10_000
    big = client.post(url, data={"message": long_text})
    assert big.status_code == 422 and "Højst 1000 tegn" in big.get_data(as_text=True)
    assert client.post(f"/e/netvaerk/directory/people/{world['anna']}/contact",
                       data={"message": "Hej mig"}).status_code == 400
    assert "dig selv" in client.post(f"/e/netvaerk/directory/people/{world['anna']}/contact",
                                     data={"message": "Hej mig"}).get_data(as_text=True)
    assert client.post(f"/e/netvaerk/directory/people/{world['carl']}/contact",
                       data={"message": "Hej"}).status_code == 404
    assert client.post(url, data={"message": "Hej Bo"}).status_code == 302
    again = client.post(url, data={"message": "Hej igen, Bo"})
    assert again.status_code == 422
    body = again.get_data(as_text=True)
    assert "allerede en kontaktanmodning" in body and "Hej igen, Bo" in body  # typed kept
    with app.app_context():
        from eventhub.directory.models import ContactRequest
        assert db.session.query(ContactRequest).count() == 1


def test_interests_and_we_use_this_starts_an_experience_draft(app, client, world):
    as_(client, world, "anna")
    sol = world["solution"]
    client.post(f"/e/netvaerk/directory/solutions/{sol}/interest",
                data={"kind": "learn", "source": "session"})
    client.post(f"/e/netvaerk/directory/solutions/{sol}/interest", data={"kind": "learn"})
    used = client.post(f"/e/netvaerk/directory/solutions/{sol}/interest", data={"kind": "use"})
    assert used.status_code == 302 and used.location.endswith(f"/solutions/{sol}/experience")
    with app.app_context():
        kinds = sorted(i.kind for i in db.session.scalars(select(Interest)))
        assert kinds == ["learn", "use"]
        draft = db.session.scalar(select(Experience).where(
            Experience.organization_id == _org("Aarhus Kommune")))
        assert draft.draft
    # The draft is not shown until it is saved.
    assert ">Aarhus Kommune</a>" not in client.get(
        f"/e/netvaerk/directory/solutions/{sol}").get_data(as_text=True)
    saved = client.post(f"/e/netvaerk/directory/solutions/{sol}/experience",
                        data={"status": "piloting", "scale": "2 plejecentre",
                              "effect_patient": "Borgerne er glade"})
    assert saved.status_code == 302
    page = client.get(f"/e/netvaerk/directory/solutions/{sol}").get_data(as_text=True)
    assert ">Aarhus Kommune</a>" in page and "Borgerne er glade" in page
    bad = client.post(f"/e/netvaerk/directory/solutions/{sol}/experience",
                      data={"status": "piloting", "lessons": "y" * 6000,
                            "scale": "kept value"})
    assert bad.status_code == 422
    assert "Højst 5000 tegn" in bad.get_data(as_text=True)
    assert "kept value" in bad.get_data(as_text=True)
    assert client.post(f"/e/netvaerk/directory/solutions/{sol}/interest",
                       data={"kind": "hate"}).status_code == 400


def test_one_experience_per_organization_and_solution(app, world):
    with app.app_context():
        bo = db.session.get(Registration, world["bo"])
        sol = db.session.get(Solution, world["solution"])
        with pytest.raises(Exception) as exc:
            services.save_experience(None, bo.event, bo, sol, bo.organization_id,
                                     services.ExperienceData(status="scaled"))
        assert "allerede en erfaring" in exc.value.message
        # Only one's own organization (organizers may correct any).
        anna = db.session.get(Registration, world["anna"])
        with pytest.raises(Exception) as exc:
            services.save_experience(None, anna.event, anna, sol, bo.organization_id,
                                     services.ExperienceData(status="scaled"))
        assert exc.value.status_code == 403


def test_people_you_should_meet_gives_reasons(app, client, world):
    as_(client, world, "anna")
    client.post(f"/e/netvaerk/directory/solutions/{world['solution']}/interest",
                data={"kind": "learn"})
    page = client.get("/e/netvaerk/directory").get_data(as_text=True)
    assert "Folk du bør møde" in page
    assert "Svendborg Kommune har implementeret Skærmbesøg, som du vil vide mere om" in page
    assert "Bo Bertelsen" in page and "Carl" not in page
    # Bo sees Anna the other way round (his municipality runs what she asks about).
    bo = app.test_client()
    as_(bo, world, "bo")
    assert "Anna Andersen vil vide mere om Skærmbesøg, som I bruger" in bo.get(
        "/e/netvaerk/directory").get_data(as_text=True)


def test_session_page_lists_solutions_with_interest_buttons(app, client, world):
    page = client.get(f"/e/netvaerk/programme/{world['session']}").get_data(as_text=True)
    assert "Skærmbesøg" in page and "Præsenteres af" in page
    assert "Vil vide mere" not in page  # no buttons for a stranger
    as_(client, world, "anna")
    page = client.get(f"/e/netvaerk/programme/{world['session']}").get_data(as_text=True)
    assert "Vil vide mere" in page and "Vi bruger den" in page


def test_unknown_and_proposed_solutions(app, client, world):
    as_(client, world, "anna")
    assert client.get("/e/netvaerk/directory/solutions/999999").status_code == 404
    proposed = client.post("/e/netvaerk/directory/solutions/new",
                           data={"name": "Faldsensor", "summary": "Sensor i gulvet",
                                 "categories": ["sensors"], "maturity": "pilot",
                                 "website": "ftp://nope"})
    assert proposed.status_code == 422
    assert "https://" in proposed.get_data(as_text=True)
    client.post("/e/netvaerk/directory/solutions/new",
                data={"name": "Faldsensor", "summary": "Sensor i gulvet",
                      "categories": ["sensors"], "maturity": "pilot"})
    with app.app_context():
        sol = db.session.scalar(select(Solution).where(Solution.name == "Faldsensor"))
        assert sol.status == "proposed"
    assert client.get(f"/e/netvaerk/directory/solutions/{sol.id}").status_code == 404
    assert "Faldsensor" not in client.get("/e/netvaerk/directory?q=fald").get_data(
        as_text=True)
    organizer = app.test_client()
    login(organizer, "arr@example.com")
    assert "Faldsensor" in organizer.get("/manage/e/netvaerk/solutions/").get_data(
        as_text=True)
    organizer.post(f"/manage/e/netvaerk/solutions/{sol.id}/approve", data={})
    assert client.get(f"/e/netvaerk/directory/solutions/{sol.id}").status_code == 200
    assert "Faldsensor" in client.get("/e/netvaerk/directory?q=fald").get_data(as_text=True)
    # A participant cannot approve or open the catalogue's management.
    assert client.post(f"/manage/e/netvaerk/solutions/{sol.id}/publish",
                       data={}).status_code in (302, 403)


def test_public_solutions_show_no_people(app, client, world):
    sol = world["solution"]
    assert client.get(f"/solutions/{sol}").status_code == 404
    organizer = app.test_client()
    login(organizer, "arr@example.com")
    organizer.post(f"/manage/e/netvaerk/solutions/{sol}/publish", data={})
    page = client.get(f"/solutions/{sol}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Skærmbesøg" in body and "Svendborg Kommune" in body
    assert "Bo Bertelsen" not in body


def test_organizer_links_sessions_to_solutions(app, client, world):
    organizer = app.test_client()
    login(organizer, "arr@example.com")
    with app.app_context():
        speaker_id = db.session.scalar(select(Speaker.id))
        other = Solution(name="Medicinrobot")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    url = f"/manage/e/netvaerk/solutions/sessions/{world['session']}"
    assert "Medicinrobot" in organizer.get(url).get_data(as_text=True)
    organizer.post(url, data={"solutions": [str(other_id)],
                              f"presenters_{other_id}": [str(speaker_id)]})
    with app.app_context():
        shown = db.session.scalars(select(Presentation)).all()
        assert [(p.solution_id, [s.id for s in p.presenters]) for p in shown] == [
            (other_id, [speaker_id])]


def test_my_data_shows_directory_rows_and_deleting_forgets_them(app, client, world):
    from sqlalchemy import text

    from eventhub.directory.models import ContactRequest, Profile, SearchDoc
    from eventhub.privacy import services as privacy

    as_(client, world, "bo")
    client.post("/e/netvaerk/directory/me", data={"consent": "y", "bio": "Bo fra Svendborg"})
    anna = app.test_client()
    as_(anna, world, "anna")
    anna.post(f"/e/netvaerk/directory/people/{world['bo']}/contact",
              data={"message": "Hej Bo Bertelsen, lad os tale"}, follow_redirects=True)
    with app.app_context():
        bo = db.session.get(Registration, world["bo"])
        subject = privacy.subject_for_registration(bo)
        shown = {section.key: rows for section, rows in privacy.sections(subject)}
        assert shown["directory_profile"][0]["bio"] == "Bo fra Svendborg"
        assert shown["contact_requests"][0]["other"] == "Anna Andersen"
        assert shown["experience_contact"] == [{"solution": "Skærmbesøg",
                                                "organization": "Svendborg Kommune"}]
        privacy.delete_participation(subject, bo.id)
        db.session.commit()
        assert db.session.query(Profile).count() == 0
        assert not db.session.scalars(select(SearchDoc).where(
            SearchDoc.kind == "person", SearchDoc.ref_id == world["bo"])).all()
        assert db.session.scalar(select(ContactRequest.message)) == ""
        docs = " ".join(db.session.scalars(text("SELECT title || ' ' || body FROM search_docs")))
        assert "Bertelsen" not in docs
    assert "Bertelsen" not in anna.get("/e/netvaerk/directory?q=bertel").get_data(as_text=True)


def test_organizers_correct_any_experience_and_profiles_show_what_people_look_for(
        app, client, world):
    organizer = app.test_client()
    login(organizer, "arr@example.com")
    page = organizer.get(f"/e/netvaerk/directory/solutions/{world['solution']}")
    assert "Ret erfaringen" in page.get_data(as_text=True)
    url = (f"/e/netvaerk/directory/solutions/{world['solution']}/experience"
           f"?org={world['svendborg']}")
    assert organizer.post(url, data={"status": "scaled", "scale": "900 borgere"}
                          ).status_code == 302
    with app.app_context():
        exp = db.session.scalar(select(Experience))
        assert (exp.status, exp.scale) == ("scaled", "900 borgere")
    # A participant cannot edit another organization's experience.
    as_(client, world, "anna")
    assert client.post(url, data={"status": "stopped"}).status_code == 403
    client.post(f"/e/netvaerk/directory/solutions/{world['solution']}/interest",
                data={"kind": "learn"})
    bo = app.test_client()
    as_(bo, world, "bo")
    page = bo.get(f"/e/netvaerk/directory/people/{world['anna']}").get_data(as_text=True)
    assert "Vil gerne vide mere om" in page and "Skærmbesøg" in page


def test_interest_buttons_under_a_poll_on_a_session_that_presents_solutions(
        app, client, world):
    from eventhub.polls.models import Poll, PollOption

    with app.app_context():
        event = db.session.get(Registration, world["anna"]).event
        poll = Poll(event_id=world["event"], session_id=world["session"], kind="single",
                    question="Ville I bruge skærmbesøg?", status="open", audience="anyone",
                    options=[PollOption(label="Ja", position=1),
                             PollOption(label="Nej", position=2)])
        db.session.add(poll)
        db.session.commit()
        code = event.join_code
    assert "Vil vide mere" not in client.get(f"/j/{code}").get_data(as_text=True)
    as_(client, world, "anna")
    page = client.get(f"/j/{code}").get_data(as_text=True)
    assert "Løsningerne fra dette programpunkt" in page and "Vil vide mere" in page
    marked = client.post(f"/e/netvaerk/directory/solutions/{world['solution']}/interest",
                         data={"kind": "learn", "source": "poll", "back": f"/j/{code}"})
    assert marked.location.endswith(f"/j/{code}")
    with app.app_context():
        assert db.session.scalar(select(Interest.source)) == "poll"


def test_contact_requests_are_rate_limited_with_a_danish_page(app, client, world):
    app.config["RATELIMIT_CONTACT"] = "2 per hour"
    as_(client, world, "anna")
    url = f"/e/netvaerk/directory/people/{world['bo']}/contact"
    assert client.post(url, data={"message": "Hej Bo"}).status_code == 302
    assert client.post(url, data={"message": "Hej igen"}).status_code == 422
    limited = client.post(url, data={"message": "En gang til"})
    assert limited.status_code == 429
    assert "For mange" in limited.get_data(as_text=True)
