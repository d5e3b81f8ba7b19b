"""Follow-up: access, leads (stages, history, board, overdue), introductions, reuse rate,
exports, follow-up mail to segments with unsubscribe, the survey, the report (HTML, PDF)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from eventhub.audit import AuditEntry
from eventhub.db import utcnow
from eventhub.directory.models import Experience, Interest, Presentation, Solution
from eventhub.errors import Forbidden, ValidationError
from eventhub.events.models import CHECKIN, COMMUNITY_MANAGER, Event, EventRole, Organization
from eventhub.extensions import db
from eventhub.followup import dashboard, mailing, services
from eventhub.followup.models import Lead, LeadEntry, SurveyPoll
from eventhub.mail import OutboxMail
from eventhub.polls.models import Poll, PollOption, Vote
from eventhub.programme.models import Speaker
from eventhub.registration.models import Registration
from tests.support.client import login as sign_in_with_password
from tests.support.factories import make_event, make_session, make_user, set_password_for
from tests.support.mail import body_of, delivered_mails

BASE = "/manage/e/opfoelgning/followup"


def _org(name: str) -> int:
    return db.session.scalar(select(Organization.id).where(Organization.name == name))


def _person(event_id, email, name, org, *, consent=True, checked_in=False, user_id=None):
    reg = Registration(event_id=event_id, email=email, name=name, organization_id=_org(org),
                       status="confirmed", user_id=user_id,
                       directory_consent_at=utcnow() if consent else None,
                       checked_in_at=utcnow() if checked_in else None)
    db.session.add(reg)
    db.session.flush()
    return reg


@pytest.fixture
def world(app):
    """An event that is over. Anna (Aarhus) and Dorte (Vejle) want to know more about
    "Skærmbesøg"; Bo's Svendborg runs it; Carl (Odense) has not consented and is not
    checked in; Erik is a participant with an account; staff: organizer, community
    manager, check-in; another event's organizer."""
    # Passwords are set on sign-in (hashing is what costs time).
    organizer = make_user(app, "arr@example.com")
    cm = make_user(app, "cm@example.com")
    checkin = make_user(app, "checkin@example.com")
    stranger = make_user(app, "fremmed@example.com")
    erik_user = make_user(app, "erik@horsens.dk")
    start = datetime.now(UTC) - timedelta(days=3)
    event_id = make_event(app, "opfoelgning", organizer_id=organizer, starts_at=start,
                          ends_at=start + timedelta(hours=7))
    make_event(app, "andet", organizer_id=stranger)
    session_id = make_session(app, event_id, "Skærmbesøg i hjemmeplejen", start,
                              start + timedelta(hours=1))
    with app.app_context():
        db.session.add_all([
            EventRole(event_id=event_id, user_id=cm, role=COMMUNITY_MANAGER),
            EventRole(event_id=event_id, user_id=checkin, role=CHECKIN)])
        anna = _person(event_id, "anna@aarhus.dk", "Anna Andersen", "Aarhus Kommune",
                       checked_in=True)
        bo = _person(event_id, "bo@svendborg.dk", "Bo Bertelsen", "Svendborg Kommune",
                     checked_in=True)
        carl = _person(event_id, "carl@odense.dk", "Carl Carlsen", "Odense Kommune",
                       consent=False)
        dorte = _person(event_id, "dorte@vejle.dk", "Dorte Dam", "Vejle Kommune",
                        checked_in=True)
        erik = _person(event_id, "erik@horsens.dk", "Erik Eriksen", "Horsens Kommune",
                       user_id=erik_user)
        sol = Solution(name="Skærmbesøg", summary="Videobesøg i stedet for kørsel")
        other = Solution(name="Faldsensor", summary="Sensor ved sengen")
        db.session.add_all([sol, other])
        db.session.flush()
        db.session.add(Experience(solution_id=sol.id, organization_id=bo.organization_id,
                                  status="implemented", contact_registration_id=bo.id,
                                  effect_economic="Sparer 12 minutters kørsel pr. besøg"))
        speaker = Speaker(session_id=session_id, name="Bo Bertelsen", registration_id=bo.id)
        db.session.add(speaker)
        db.session.flush()
        db.session.add(Presentation(session_id=session_id, solution_id=sol.id,
                                    presenters=[speaker]))
        for reg, s, kind in ((anna, sol, "learn"), (dorte, sol, "learn"), (carl, sol, "learn"),
                             (bo, sol, "use"), (anna, other, "learn")):
            db.session.add(Interest(registration_id=reg.id, solution_id=s.id, kind=kind))
        poll = Poll(event_id=event_id, question="Hvad tog du med hjem?", kind="single",
                    status="open", options=[PollOption(label="Kontakter", position=1),
                                            PollOption(label="Ideer", position=2)])
        db.session.add(poll)
        db.session.flush()
        db.session.add(Vote(poll_id=poll.id, voter_key="a:1", value=[poll.options[0].id]))
        survey = Poll(event_id=event_id, question="Hvordan var dagen?", kind="scale",
                      status="draft")
        db.session.add(survey)
        db.session.commit()
        return dict(event=event_id, anna=anna.id, bo=bo.id, carl=carl.id, dorte=dorte.id,
                    erik=erik.id, solution=sol.id, other=other.id, organizer=organizer,
                    cm=cm, checkin=checkin, survey=survey.id)


@pytest.fixture
def login(app):
    """``login(client, email)``: give the account a password, then sign in with it."""
    def sign_in(client, email):
        set_password_for(app, email)
        return sign_in_with_password(client, email)
    return sign_in


def _event(slug="opfoelgning"):
    return db.session.scalar(select(Event).where(Event.slug == slug))


def _user(user_id):
    from eventhub.accounts.models import User
    return db.session.get(User, user_id)


# --- access ---------------------------------------------------------------------------------

PAGES = ["/", "/leads", "/leads?view=board", "/leads/new", "/leads.csv", "/leads.xlsx",
         "/mail", "/survey", "/report", "/report.pdf"]


@pytest.mark.parametrize("who", ["erik@horsens.dk", "checkin@example.com",
                                 "fremmed@example.com"])
def test_participants_checkin_staff_and_other_events_staff_get_403(app, client, world, who, login):
    login(client, who)
    for page in PAGES:
        assert client.get(BASE + page).status_code == 403, page
    assert client.post(BASE + "/leads/import", data={}).status_code == 403
    assert client.post(BASE + "/introduce", data={"solution": world["solution"],
                       "seeker": world["anna"], "runner": world["bo"]}).status_code == 403


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(BASE + "/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["cm@example.com", "arr@example.com"])
def test_community_managers_and_organizers_see_everything(app, client, world, who, login):
    login(client, who)
    for page in PAGES[:-1]:  # the PDF has its own test
        assert client.get(BASE + page).status_code == 200, page
    assert "Opfølgning" in client.get("/manage/e/opfoelgning").get_data(as_text=True)


def test_services_check_the_role_themselves(app, world):
    with app.app_context():
        event = _event()
        checkin = _user(world["checkin"])
        for call in (lambda: services.leads_of(checkin, event),
                     lambda: services.import_leads(checkin, event),
                     lambda: dashboard.suggestions(checkin, event),
                     lambda: mailing.preview(checkin, event, mailing.MailData("all", "a", "b"))):
            with pytest.raises(Forbidden):
                call()


# --- dashboard and introductions ------------------------------------------------------------

def test_dashboard_figures_matrix_and_suggestions(app, client, world, login):
    login(client, "cm@example.com")
    page = client.get(BASE + "/").get_data(as_text=True)
    with app.app_context():
        figures = dashboard.figures(_event())
    assert figures == {"registered": 5, "checked_in": 3, "voters": 1, "opt_ins": 4,
                       "interests": 5, "contacts_sent": 0, "contacts_accepted": 0}
    matrix = page.split("Interesse × løsninger")[1]
    assert "Aarhus Kommune" in matrix and "Vejle Kommune" in matrix
    assert "Svendborg Kommune" in matrix  # runs it, beside the interested
    # Suggestions: consenting seekers only (Carl has not consented)
    assert "Anna Andersen" in page and "Dorte Dam" in page and "Carl Carlsen" not in page


def test_introduce_mails_both_and_moves_the_lead(app, client, world, mail_dir, login):
    login(client, "cm@example.com")
    data = {"solution": world["solution"], "seeker": world["anna"], "runner": world["bo"]}
    response = client.post(BASE + "/introduce", data=data, follow_redirects=True)
    assert "er introduceret til hinanden" in response.get_data(as_text=True)
    mails = delivered_mails(app, mail_dir)
    assert sorted(m["To"] for m in mails) == ["anna@aarhus.dk", "bo@svendborg.dk"]
    for m in mails:
        body = body_of(m)
        assert "/u/" in body  # unsubscribe link
        other = "bo@svendborg.dk" if m["To"] == "anna@aarhus.dk" else "anna@aarhus.dk"
        assert other not in body  # addresses are not handed out
    with app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.registration_id == world["anna"]))
        assert lead.stage == "contacted" and lead.source == "introduction"
        assert "Bo Bertelsen" in lead.entries[0].text
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "followup.introduce")) == 1
    # The pair is no longer suggested; twice is refused kindly
    assert "Anna Andersen (" not in client.get(BASE + "/").get_data(as_text=True)
    again = client.post(BASE + "/introduce", data=data, follow_redirects=True)
    assert "allerede introduceret" in again.get_data(as_text=True)


def test_introduce_only_consenting_people(app, client, world, login):
    login(client, "cm@example.com")
    response = client.post(BASE + "/introduce", follow_redirects=True, data={
        "solution": world["solution"], "seeker": world["carl"], "runner": world["bo"]})
    assert "sagt ja til at være i netværket" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0


# --- leads ----------------------------------------------------------------------------------

def test_import_leads_from_interests_once(app, client, world, login):
    login(client, "cm@example.com")
    client.post(BASE + "/leads/import", data={})
    client.post(BASE + "/leads/import", data={})
    with app.app_context():
        rows = db.session.execute(select(Lead.registration_id, Lead.solution_id, Lead.stage,
                                         Lead.source)).all()
    assert len(rows) == 4  # Anna ×2, Dorte, Carl want to know more; Bo's "use" is no lead
    assert {r.stage for r in rows} == {"new"} and {r.source for r in rows} == {"interest"}


def test_lead_by_hand_bad_input(app, client, world, login):
    login(client, "cm@example.com")
    response = client.post(BASE + "/leads/new", data={"solution": "", "registration": ""})
    assert response.status_code == 422
    response = client.post(BASE + "/leads/new", data={"solution": str(world["solution"])})
    assert response.status_code == 422
    assert "Vælg en deltager eller en organisation." in response.get_data(as_text=True)
    response = client.post(BASE + "/leads/new", data={"solution": str(world["solution"]),
                                                      "registration": "999999"})
    assert response.status_code == 422  # not on the list
    response = client.post(BASE + "/leads/new", data={
        "solution": str(world["solution"]), "registration": str(world["dorte"]),
        "owner": str(world["cm"]), "due_on": "2030-01-31", "note": "Ring i januar"})
    assert response.status_code == 302
    again = client.post(BASE + "/leads/new", data={
        "solution": str(world["solution"]), "registration": str(world["dorte"])})
    assert again.status_code == 422 and "findes allerede" in again.get_data(as_text=True)


def _lead(app, world, **fields) -> int:
    with app.app_context():
        event = _event()
        lead = services.create_lead(_user(world["cm"]), event, services.LeadData(
            solution_id=world["solution"], registration_id=world["anna"], **fields))
        db.session.commit()
        return lead.id


def test_stages_forwards_and_backwards_keep_history(app, client, world, login):
    lead_id = _lead(app, world)
    login(client, "cm@example.com")
    url = f"{BASE}/leads/{lead_id}"
    for stage in ("contacted", "meeting", "contacted", "meeting", "adopted_adaptation"):
        assert client.post(url + "/move", data={"stage": stage, "note": f"til {stage}"}
                           ).status_code == 302
    client.post(url + "/note", data={"note": "Godt møde"})
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        moves = [(e.from_stage, e.to_stage) for e in reversed(lead.entries) if e.to_stage]
        assert moves == [(None, "new"), ("new", "contacted"), ("contacted", "meeting"),
                         ("meeting", "contacted"), ("contacted", "meeting"),
                         ("meeting", "adopted_adaptation")]
        assert lead.entries[0].text == "Godt møde"
        assert lead.stage == "adopted_adaptation" and lead.adopted_at is not None
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "followup.move")) == 5
    page = client.get(url).get_data(as_text=True)
    assert "Møde → Kontaktet" in page and "Godt møde" in page
    # Back from adopted: the adoption date goes, the history stays
    client.post(url + "/move", data={"stage": "meeting"})
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert lead.adopted_at is None and len(lead.entries) == 8


def test_dropping_needs_a_reason(app, client, world, login):
    lead_id = _lead(app, world)
    login(client, "cm@example.com")
    url = f"{BASE}/leads/{lead_id}/move"
    response = client.post(url, data={"stage": "dropped", "reason": "  "})
    assert response.status_code == 422
    assert "Skriv hvorfor leadet droppes." in response.get_data(as_text=True)
    assert client.post(url, data={"stage": "nowhere"}).status_code == 422
    client.post(url, data={"stage": "dropped", "reason": "Ingen budget"})
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert (lead.stage, lead.drop_reason) == ("dropped", "Ingen budget")
        assert lead.entries[0].text == "Ingen budget"


def test_board_list_filters_and_overdue_stand_out(app, client, world, login):
    late = _lead(app, world, owner_id=world["cm"], due_on=date.today() - timedelta(days=2))
    with app.app_context():
        services.create_lead(_user(world["cm"]), _event(), services.LeadData(
            solution_id=world["other"], registration_id=world["dorte"],
            owner_id=world["organizer"], due_on=date.today() + timedelta(days=9)))
        db.session.commit()
    login(client, "cm@example.com")
    board = client.get(BASE + "/leads?view=board").get_data(as_text=True)
    assert board.count('class="board-column"') == 7
    assert re.search(r'lead-card overdue">\s*<a href="[^"]+/leads/' + str(late) + '"', board)
    assert "Overskredet:" in board
    only_late = client.get(BASE + "/leads?overdue=y").get_data(as_text=True)
    assert "1 lead vises." in only_late and 'class="overdue"' in only_late
    by_owner = client.get(BASE + f"/leads?owner={world['organizer']}").get_data(as_text=True)
    assert "1 lead vises." in by_owner and "Faldsensor" in by_owner
    by_solution = client.get(BASE + f"/leads?solution={world['solution']}").get_data(as_text=True)
    assert "1 lead vises." in by_solution
    assert "0 leads vises." in client.get(BASE + "/leads?stage=meeting").get_data(as_text=True)
    # A closed lead is never overdue
    client.post(f"{BASE}/leads/{late}/move", data={"stage": "adopted_copy"})
    assert "0 leads vises." in client.get(BASE + "/leads?overdue=y").get_data(as_text=True)


def test_reuse_rate_overall_per_solution_and_per_month(app, world):
    with app.app_context():
        event, cm = _event(), _user(world["cm"])
        ids = []
        for reg, sol in ((world["anna"], world["solution"]), (world["dorte"], world["solution"]),
                         (world["bo"], world["solution"]), (world["anna"], world["other"])):
            ids.append(services.create_lead(cm, event, services.LeadData(
                solution_id=sol, registration_id=reg)).id)
        leads = [db.session.get(Lead, i) for i in ids]
        month = event.starts_at + timedelta(days=35)
        services.move(cm, event, leads[0], "adopted_copy", when=month)
        services.move(cm, event, leads[1], "adopted_inspiration", when=month)
        services.move(cm, event, leads[3], "dropped", reason="Nej tak")
        total, per = services.reuse_rates(event)
        assert (total.leads, total.adopted, total.rate) == (4, 2, 50)
        assert [(r.name, r.leads, r.adopted, r.rate) for r in per] == [
            ("Faldsensor", 1, 0, 0), ("Skærmbesøg", 3, 2, 67)]
        months = dict(services.adoptions_per_month(event, until=month.date()))
        assert months[month.date().replace(day=1)] == 2 and sum(months.values()) == 2


# --- exports --------------------------------------------------------------------------------

def test_csv_and_xlsx_export_with_audit(app, client, world, login):
    lead_id = _lead(app, world, note="=HYPERLINK(\"x\")")
    login(client, "cm@example.com")
    client.post(f"{BASE}/leads/{lead_id}/move", data={"stage": "contacted",
                                                      "note": "=1+2"})
    csv = client.get(BASE + "/leads.csv")
    assert csv.mimetype == "text/csv"
    text = csv.data.decode("utf-8")
    assert text.startswith("\ufeffOrganisation;Person;Løsning;Fase")
    assert "Aarhus Kommune;Anna Andersen;Skærmbesøg;Kontaktet" in text
    assert "'=1+2" in text and ";=1" not in text  # formulas neutralised
    xlsx = client.get(BASE + "/leads.xlsx?stage=contacted")
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [c.value for c in sheet[1]][:4] == ["Organisation", "Person", "Løsning", "Fase"]
    assert sheet.max_row == 2 and sheet["D2"].value == "Kontaktet"
    with app.app_context():
        targets = db.session.scalars(select(AuditEntry.target).where(
            AuditEntry.action == "followup.export")).all()
    assert sorted(targets) == ["CSV, 1", "XLSX, 1"]


# --- follow-up mail, segments, unsubscribe --------------------------------------------------

def test_segments(app, world):
    with app.app_context():
        event = _event()
        names = lambda *a: sorted(r.name.split()[0] for r in mailing.recipients(event, *a))  # noqa: E731
        assert names("interested", world["solution"]) == ["Anna", "Bo", "Carl", "Dorte"]
        assert names("not_checked_in") == ["Carl", "Erik"]
        assert names("org_kind", None, "municipality") == ["Anna", "Bo", "Carl", "Dorte", "Erik"]
        assert names("org_kind", None, "company") == []
        assert len(names("all")) == 5


def test_mail_preview_send_and_unsubscribe(app, client, world, mail_dir, login):
    login(client, "cm@example.com")
    # The placeholders as the event's mail texts write them; the older {navn} still works.
    data = {"segment": "not_checked_in", "subject": "Tak, {{ navn }}",
            "body": "Kære {{navn}} fra {organisation}\nSvar her: {{ evaluering }}"}
    preview = client.post(BASE + "/mail", data={**data, "action": "preview"})
    page = preview.get_data(as_text=True)
    assert "Mailen går til 2 modtagere." in page and "Kære Carl Carlsen fra Odense Kommune" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0
    sent = client.post(BASE + "/mail", data={**data, "action": "send"}, follow_redirects=True)
    assert "lagt i udbakken til 2 modtagere" in sent.get_data(as_text=True)
    mails = {m["To"]: m for m in delivered_mails(app, mail_dir)}
    assert set(mails) == {"carl@odense.dk", "erik@horsens.dk"}
    body = body_of(mails["carl@odense.dk"])
    assert mails["carl@odense.dk"]["Subject"] == "Tak, Carl Carlsen"
    with app.app_context():
        join = _event().join_code
        # The event is over: the survey's polls open with the mail that links to them
        assert f"/j/{join}" in body
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "followup.mail")) == 1
    link = re.search(r"http://localhost(/u/\S+)", body).group(1)
    ask = client.get(link)  # a GET only asks (mail scanners follow links)
    assert ask.status_code == 200 and "Frameld mig" in ask.get_data(as_text=True)
    client.post(link, data={})
    assert "Du får ikke flere" in client.get(link).get_data(as_text=True)
    assert client.get("/u/not-a-token").status_code == 404
    with app.app_context():
        assert [r.name for r in mailing.recipients(_event(), "not_checked_in")] == ["Erik Eriksen"]
    # Queued before the unsubscribe, built after it: skipped
    client.post(BASE + "/mail", data={**data, "action": "send"})
    with app.app_context():
        reg = db.session.get(Registration, world["erik"])
        from eventhub.followup.unsubscribe import unsubscribe
        unsubscribe(reg)
        db.session.commit()
    assert len(delivered_mails(app, mail_dir)) == 2


def test_empty_segment_sends_nothing_and_says_so(app, client, world, login):
    login(client, "cm@example.com")
    data = {"segment": "org_kind", "org_kind": "company", "subject": "Hej", "body": "Tekst"}
    preview = client.post(BASE + "/mail", data={**data, "action": "preview"})
    assert "Der bliver ikke sendt noget." in preview.get_data(as_text=True)
    response = client.post(BASE + "/mail", data={**data, "action": "send"})
    assert response.status_code == 422
    assert "intet er sendt" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0


def test_mail_bad_input(app, client, world, login):
    login(client, "cm@example.com")
    cases = [({"segment": "all", "subject": "", "body": "x"}, "Skriv et emne."),
             ({"segment": "all", "subject": "x", "body": "Hej {fornavn}"},
              "Ukendt felt: {{ fornavn }}. Brug kun {{ navn }}, {{ organisation }}"),
             ({"segment": "all", "subject": "x", "body": "Hej {{ fornavn }}"},
              "Ukendt felt: {{ fornavn }}."),
             ({"segment": "interested", "subject": "x", "body": "y"}, "Vælg løsningen."),
             ({"segment": "org_kind", "subject": "x", "body": "y"}, "Vælg typen af organisation."),
             ({"segment": "alle", "subject": "x", "body": "y"}, "Vælg en af mulighederne")]
    for data, message in cases:
        response = client.post(BASE + "/mail", data={**data, "action": "send"})
        assert response.status_code == 422 and message in response.get_data(as_text=True), data


# --- the survey -----------------------------------------------------------------------------

def test_survey_opens_only_after_the_event(app, client, world, login):
    login(client, "cm@example.com")
    client.post(BASE + "/survey", data={"polls": [str(world["survey"])], "action": "save"})
    client.post(BASE + "/survey", data={"polls": [str(world["survey"])], "action": "open"})
    with app.app_context():
        assert db.session.get(Poll, world["survey"]).status == "open"
        event = _event()
        event.ends_at = utcnow() + timedelta(days=1)
        db.session.commit()
        with pytest.raises(ValidationError):
            mailing.open_survey(_user(world["cm"]), event)
        assert db.session.scalar(select(SurveyPoll.poll_id)) == world["survey"]


# --- the report -----------------------------------------------------------------------------

def test_report_page_and_pdf(app, client, world, login):
    lead_id = _lead(app, world)
    login(client, "arr@example.com")
    client.post(f"{BASE}/leads/{lead_id}/move", data={"stage": "adopted_copy"})
    page = client.get(BASE + "/report").get_data(as_text=True)
    for text in ("Deltagelse", "Efter type organisation", "Region Syddanmark", "Programmet",
                 "Skærmbesøg i hjemmeplejen", "Hvad tog du med hjem?", "<svg",
                 "Præsenterede løsninger", "Sparer 12 minutters kørsel", "Genbrugsrate",
                 "100 % (1 / 1)"):
        assert text in page, text
    assert "anna@aarhus.dk" not in page and "Anna Andersen" not in page  # nobody named
    pdf = client.get(BASE + "/report.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True,
                              check=True).stdout.decode()
        for words in ("Rapport: Arrangement opfoelgning", "Efter region", "Kontakter",
                      "Genbrug pr. måned efter arrangementet", "Skærmbesøg"):
            assert words in text, words


def test_demo_has_leads_in_every_stage_and_loads_twice(app):
    from eventhub.demo import DEMO_SLUG, load_demo

    with app.app_context():
        load_demo()
        db.session.commit()
        load_demo()
        db.session.commit()
        event = _event(DEMO_SLUG)
        stages = set(db.session.scalars(select(Lead.stage).where(Lead.event_id == event.id)))
        assert stages == {"new", "contacted", "meeting", "adopted_copy",
                          "adopted_adaptation", "adopted_inspiration", "dropped"}
        # 11 worked by hand, and one from an exhibitor's badge scan (eventhub/meetings/demo.py)
        assert db.session.scalar(select(func.count()).select_from(Lead)) == 12
        backwards = db.session.scalar(select(func.count()).select_from(LeadEntry).where(
            LeadEntry.from_stage == "meeting", LeadEntry.to_stage == "contacted"))
        assert backwards == 1


# --- my data and the retention purge ----------------------------------------------------------

def test_my_data_shows_leads_and_forgetting_keeps_the_figures(app, world):
    from eventhub.followup.unsubscribe import unsubscribe
    from eventhub.privacy import services as privacy

    with app.app_context():
        event, cm = _event(), _user(world["cm"])
        lead = services.create_lead(cm, event, services.LeadData(
            solution_id=world["solution"], registration_id=world["anna"], note="Ring til Anna"))
        services.move(cm, event, lead, "adopted_copy")
        dashboard.introduce(cm, event, world["solution"], world["anna"], world["bo"])
        unsubscribe(db.session.get(Registration, world["anna"]))
        db.session.commit()
        subject = privacy.subject_for_registration(db.session.get(Registration, world["anna"]))
        data = privacy.export(subject)
        assert data["followup_leads"][0]["notes"][-1] == "Ring til Anna"
        assert data["followup_introductions"][0]["with"] == "Bo Bertelsen"
        assert len(data["followup_unsubscribes"]) == 1
        privacy.forget([world["anna"]])
        db.session.commit()
        lead = db.session.get(Lead, lead.id)
        assert lead.registration_id is None and lead.stage == "adopted_copy"
        assert all(e.text == "" for e in lead.entries)
        assert services.reuse_rates(event)[0].adopted == 1  # the figures still add up
        data = privacy.export(subject)
        assert not data["followup_leads"] and not data["followup_introductions"]
        assert not data["followup_unsubscribes"]


def test_retention_purge_cuts_people_from_leads(app, world):
    from eventhub.privacy import services as privacy

    with app.app_context():
        event, cm = _event(), _user(world["cm"])
        services.create_lead(cm, event, services.LeadData(
            solution_id=world["solution"], organization_id=_org("Vejle Kommune"),
            note="Dorte ringer tilbage"))
        event.retention_until = date.today() - timedelta(days=1)
        db.session.commit()
        privacy.purge_expired()
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(LeadEntry).where(
            LeadEntry.text != "")) == 0
        assert db.session.scalar(select(func.count()).select_from(Lead)) == 1
        privacy.purge_expired()  # twice is fine
