"""The reuse trail across events: a year of check-ins with an injected clock, answers
through the signed link, the workspace and its figures, the retention purge, and the
refusals (forged or expired link, answering twice, a purged person, merges)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventhub import scheduler
from eventhub.community import checkins, figures, services
from eventhub.community.models import Checkin, CheckinAnswer
from eventhub.directory.models import Experience, Solution
from eventhub.events.models import Event
from eventhub.extensions import db
from eventhub.followup import services as followup
from eventhub.followup.models import Lead, LeadEntry
from eventhub.followup.unsubscribe import unsubscribe
from eventhub.mail import OutboxMail
from eventhub.privacy.services import purge_expired
from eventhub.registration.models import Registration
from tests.support import community as world
from tests.support.client import login as sign_in
from tests.support.factories import make_event, set_password_for
from tests.support.mail import body_of, delivered_mails

T0 = world.T0


@pytest.fixture
def trail(app):
    ids = world.build(app)
    clock = [T0]
    app.extensions["eventhub.clock"] = lambda: clock[0]
    ids["clock"] = clock
    return ids


def _run(app, clock, at) -> dict[str, int]:
    clock[0] = at
    with app.app_context():
        return scheduler.run_due(at)


def _link(message) -> str:
    return re.search(r"http://localhost(/community/checkin/\S+)", body_of(message)).group(1)


def test_a_year_of_the_reuse_trail(app, client, trail, mail_dir):
    clock = trail["clock"]
    with app.app_context():  # the community manager took the leads in after the event
        followup.import_leads(_admin(app), db.session.get(Event, trail["event"]))
        unsubscribe(db.session.get(Registration, trail["carl"]))
        db.session.commit()
    assert _run(app, clock, T0 + timedelta(days=30))["adoption-checkins"] == 0
    three = world.months_later(T0, 3, hours=1)
    assert _run(app, clock, three)["adoption-checkins"] == 2  # Anna and Dorte, not Carl
    assert _run(app, clock, three)["adoption-checkins"] == 0  # each person once
    mails = delivered_mails(app, mail_dir)
    assert sorted(m["To"] for m in mails) == ["anna@aarhus.dk", "dorte@vejle.dk"]
    assert all(m["Subject"] == "Har I taget Skærmbesøg i brug?" for m in mails)
    # A bulk mail: one-click unsubscribe in the headers (RFC 8058).
    assert all(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
               and "<mailto:" in m["List-Unsubscribe"] and "<http" in m["List-Unsubscribe"]
               for m in mails)
    anna_link = _link(next(m for m in mails if m["To"] == "anna@aarhus.dk"))

    # Anna answers on her phone two days later, without signing in.
    clock[0] = three + timedelta(days=2)
    page = client.get(anna_link)
    assert page.status_code == 200 and "Har I taget Skærmbesøg i brug?" in page.text
    answered = client.post(anna_link, data={"solution": trail["solution"],
                                            "answer": "adapted"}, follow_redirects=True)
    assert answered.status_code == 200
    assert "Tak for dit svar" in answered.text and "Gem erfaringen" in answered.text
    saved = client.post(anna_link + "/experience", data={
        "solution": trail["solution"], "status": "implemented",
        "since": (three + timedelta(days=1)).date().isoformat(), "scale": "40 borgere",
        "effect_economic": "Sparer kørsel"}, follow_redirects=True)
    assert "Jeres erfaring står nu i kataloget" in saved.text
    again = client.post(anna_link, data={"solution": trail["solution"], "answer": "copy"})
    assert again.status_code == 422 and "allerede svaret" in again.text
    with app.app_context():
        aarhus = world.org_id("Aarhus Kommune")
        lead = db.session.scalar(select(Lead).where(Lead.organization_id == aarhus))
        assert lead.stage == "adopted_adaptation"
        assert lead.entries[0].by_participant and lead.entries[0].author_id is None
        exp = db.session.scalar(select(Experience).where(Experience.organization_id == aarhus))
        assert (exp.status, exp.scale, exp.effect_economic) == (
            "implemented", "40 borgere", "Sparer kørsel")

    # One reminder, only to Dorte, who has not answered; never a second one.
    assert _run(app, clock, three + timedelta(days=15))["adoption-checkins"] == 1
    assert _run(app, clock, three + timedelta(days=16))["adoption-checkins"] == 0
    reminders = delivered_mails(app, mail_dir)[2:]
    assert [(m["To"], m["Subject"].startswith("Påmindelse")) for m in reminders] == [
        ("dorte@vejle.dk", True)]

    # Six months: Aarhus's lead is finished, so Anna is not asked again; Dorte is.
    six = world.months_later(T0, 6, hours=1)
    assert _run(app, clock, six)["adoption-checkins"] == 1
    assert [m["To"] for m in delivered_mails(app, mail_dir)[3:]] == ["dorte@vejle.dk"]

    # The community manager sees the lead moved, in the workspace and its figures.
    set_password_for(app, "cm@klynge.dk")
    sign_in(client, "cm@klynge.dk")
    space = client.get(f"/community/{trail['host']}/")
    assert space.status_code == 200
    assert "Genbrugt (tilpasning)" in space.text and "Innovationsbarometeret" in space.text
    assert re.search(r"Tilpasning</th>\s*<td>33 %", space.text)
    trail_page = client.get(f"/community/{trail['host']}/solutions/{trail['solution']}")
    assert "Aarhus Kommune" in trail_page.text
    with app.app_context():
        f = figures.for_event(db.session.get(Event, trail["event"]))
        assert (f.leads, f.kinds["adopted_adaptation"], f.share("adopted_adaptation")) == (
            3, 1, 33)
        assert f.median_days == (three + timedelta(days=2) - T0).days

    # A year on, the retention purge: figures stay, nobody's name or address does.
    _run(app, clock, world.months_later(T0, 12, hours=1))
    client.get("/logout")
    with app.app_context():
        report = purge_expired(today=(T0 + timedelta(days=401)).date())
        db.session.commit()
        assert report.registrations == 3
        f = figures.for_event(db.session.get(Event, trail["event"]))
        assert (f.leads, f.kinds["adopted_adaptation"]) == (3, 1)
        names = db.session.scalars(select(Registration.name)).all()
        emails = db.session.scalars(select(Registration.email)).all()
        assert not {"Anna Andersen", "Dorte Dam"} & set(names)
        assert not [e for e in emails if e.endswith((".dk",))]
        assert not db.session.scalar(select(func.count()).select_from(OutboxMail).where(
            OutboxMail.to_addr.in_(("anna@aarhus.dk", "dorte@vejle.dk"))))
        assert db.session.scalar(select(func.count()).select_from(Lead).where(
            Lead.registration_id.is_not(None))) == 0
        assert db.session.scalar(select(func.count()).select_from(CheckinAnswer)) == 1
    gone = client.get(anna_link)
    assert gone.status_code == 404 and "slettet" in gone.text


def _admin(app):
    from eventhub.accounts.models import User

    user = db.session.scalar(select(User).where(User.email == "arr@klynge.dk"))
    return user


def test_forged_and_expired_links_are_refused_kindly(app, client, trail, mail_dir):
    clock = trail["clock"]
    _run(app, clock, world.months_later(T0, 3, hours=1))
    link = _link(delivered_mails(app, mail_dir)[0])
    forged = client.get(link[:-3] + "xyz")
    assert forged.status_code == 404 and "Linket er ikke gyldigt" in forged.text
    clock[0] = world.months_later(T0, 3) + timedelta(days=checkins.LINK_DAYS + 1)
    expired = client.get(link)
    assert expired.status_code == 409 and "udløbet" in expired.text
    posted = client.post(link, data={"solution": trail["solution"], "answer": "copy"})
    assert posted.status_code == 409


def test_bad_answers_keep_the_page_and_save_nothing(app, client, trail, mail_dir):
    clock = trail["clock"]
    _run(app, clock, world.months_later(T0, 3, hours=1))
    link = _link(delivered_mails(app, mail_dir)[0])
    clock[0] = world.months_later(T0, 3, days=1)
    no_reason = client.post(link, data={"solution": trail["solution"], "answer": "no",
                                        "text": "Vi har ikke tid nu"})
    assert no_reason.status_code == 422 and "Vælg hvorfor ikke" in no_reason.text
    assert "Vi har ikke tid nu" in no_reason.text  # typed text kept
    other = client.post(link, data={"solution": 999999, "answer": "copy"})
    assert other.status_code == 422 and "hører ikke til" in other.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckinAnswer)) == 0
    ok = client.post(link, data={"solution": trail["solution"], "answer": "no",
                                 "barrier": "ownership"}, follow_redirects=True)
    assert ok.status_code == 200
    # the answer read back as a sentence, with the reason (not "Nej, fordi …")
    assert "Dit svar: Nej – Ejerskab – den er ikke udviklet hos os" in ok.text
    assert "Nej, fordi …" not in ok.text.split("Dit svar")[1]
    with app.app_context():
        f = figures.for_event(db.session.get(Event, trail["event"]))
        assert dict(f.barriers)["Ejerskab – den er ikke udviklet hos os"] == 1
        lead = db.session.scalar(select(Lead))
        assert lead.stage == "dropped" and lead.entries[0].by_participant


def test_months_are_the_organizers_and_two_schedulers_send_once(app, trail):
    with app.app_context():
        event = db.session.get(Event, trail["event"])
        organizer = _admin(app)
        assert checkins.set_months(organizer, event, "2, 9") == [2, 9]
        with pytest.raises(Exception, match="seks hele måneder"):
            checkins.set_months(organizer, event, "3, tretten")
        db.session.commit()
    at = world.months_later(T0, 2, hours=2)
    with app.app_context():
        assert checkins.send_due(at) == 3
        db.session.commit()
    with app.app_context():  # a second scheduler at the same moment finds them sent
        assert checkins.send_due(at) == 0
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Checkin)) == 3
        assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 3


def test_a_lead_carries_on_to_the_next_edition(app, trail):
    with app.app_context():
        organizer = _admin(app)
        first = db.session.get(Event, trail["event"])
        followup.import_leads(organizer, first)
        db.session.commit()
    nxt = make_event(app, "del-genbrug-2028", organizer_id=trail["organizer"],
                     starts_at=T0 + timedelta(days=365), ends_at=T0 + timedelta(days=365, hours=7))
    with app.app_context():
        from eventhub.directory.models import Interest

        second = db.session.get(Event, nxt)
        second.host_organization_id = trail["host"]
        reg = world.person(nxt, "anna@aarhus.dk", "Anna Andersen", "Aarhus Kommune")
        db.session.add(Interest(registration_id=reg.id, solution_id=trail["solution"],
                                kind="learn"))
        db.session.flush()
        assert followup.import_leads(_admin(app), second) == 1
        leads = db.session.scalars(select(Lead).where(
            Lead.organization_id == world.org_id("Aarhus Kommune"))).all()
        assert len(leads) == 1
        assert {link.event_id for link in leads[0].event_links} == {first_id(trail), nxt}
        assert any("Interesse igen ved" in e.text for e in leads[0].entries)


def first_id(trail):
    return trail["event"]


def test_merging_leads_keeps_the_furthest_stage_and_says_so(app, trail):
    other = make_event(app, "andet-2026", organizer_id=trail["organizer"])
    with app.app_context():
        organizer = _admin(app)
        aarhus = world.org_id("Aarhus Kommune")
        sol = db.session.get(Solution, trail["solution"])
        e2 = db.session.get(Event, other)
        lead = followup.new_lead(e2, solution_id=sol.id, organization_id=aarhus,
                                 stage="meeting")
        lead.entries.append(LeadEntry(to_stage="meeting", text="Møde i Aarhus"))
        db.session.add(lead)
        first = db.session.get(Event, trail["event"])
        followup.import_leads(organizer, first)  # scope: the host; e2 has none yet
        db.session.flush()
        assert db.session.scalar(select(func.count()).select_from(Lead).where(
            Lead.organization_id == aarhus)) == 2
        merged = services.set_host(organizer, e2, trail["host"])
        db.session.commit()
        assert merged == 1
        kept = db.session.scalars(select(Lead).where(Lead.organization_id == aarhus)).all()
        assert len(kept) == 1 and kept[0].stage == "meeting"
        texts = [e.text for e in kept[0].entries]
        assert "Møde i Aarhus" in texts and any("Lagt sammen" in t for t in texts)
        with pytest.raises(Exception, match="sig selv"):
            followup.merge_leads(kept[0], kept[0])


def test_contact_needs_consent_and_the_mail_goes_through_the_outbox(app, client, trail,
                                                                  mail_dir):
    with app.app_context():
        followup.import_leads(_admin(app), db.session.get(Event, trail["event"]))
        db.session.commit()
        anna = db.session.scalar(select(Lead).where(
            Lead.organization_id == world.org_id("Aarhus Kommune"))).id
        dorte = db.session.scalar(select(Lead).where(
            Lead.organization_id == world.org_id("Vejle Kommune"))).id
    set_password_for(app, "cm@klynge.dk")
    sign_in(client, "cm@klynge.dk")
    page = client.get(f"/community/{trail['host']}/leads/{anna}")
    assert "anna@aarhus.dk" in page.text and "+45 20 30 40 50" in page.text
    sent = client.post(f"/community/{trail['host']}/leads/{anna}/mail",
                       data={"subject": "Skærmbesøg", "body": "Skal vi tage en snak?"},
                       follow_redirects=True)
    assert "lagt i udbakken" in sent.text and "Mail sendt: Skærmbesøg" in sent.text
    hidden = client.get(f"/community/{trail['host']}/leads/{dorte}")
    assert "dorte@vejle.dk" not in hidden.text and "ikke sagt ja" in hidden.text
    refused = client.post(f"/community/{trail['host']}/leads/{dorte}/mail",
                          data={"subject": "Hej", "body": "Hej"})
    assert refused.status_code == 403
    with app.app_context():
        mail = db.session.scalar(select(OutboxMail).where(
            OutboxMail.kind == "community-lead-mail"))
        assert mail.to_addr == "anna@aarhus.dk"
        assert mail.builder_args["reply_to"] == "cm@klynge.dk"
    sent = delivered_mails(app, mail_dir)
    to_anna = next(m for m in sent if m["To"] == "anna@aarhus.dk")
    assert to_anna["Reply-To"] == "cm@klynge.dk" and "List-Unsubscribe" not in to_anna


def test_the_workspace_is_for_the_organizations_community_managers(app, client, trail):
    set_password_for(app, "fremmed@example.com")
    sign_in(client, "fremmed@example.com")
    assert client.get(f"/community/{trail['host']}/").status_code == 403
    assert "ikke community manager" in client.get("/community/").text


def test_public_trail_and_open_data_name_organizations_never_people(app, client, trail):
    with app.app_context():
        db.session.add(Experience(solution_id=trail["solution"],
                                  organization_id=world.org_id("Svendborg Kommune"),
                                  status="implemented", since=T0.date() + timedelta(days=20),
                                  contact_registration_id=trail["anna"]))
        db.session.commit()
    page = client.get(f"/community/solutions/{trail['solution']}")
    assert page.status_code == 200 and "Kører i 1 organisation" in page.text
    assert "Svendborg Kommune" in page.text and "Anna" not in page.text
    data = client.get("/community/open-data/experiences.json").get_json()
    assert data["schema_version"] == 1 and data["rows"][0]["organization"] == "Svendborg Kommune"
    assert "Anna" not in str(data) and "@" not in str(data)
    csv = client.get("/community/open-data/solutions.csv").text
    assert csv.splitlines()[0].startswith("id,name,summary") and "Skærmbesøg" in csv
    assert client.get("/community/open-data/people.csv").status_code == 404
    with app.app_context():
        db.session.get(Solution, trail["solution"]).public = False
        db.session.commit()
    assert client.get(f"/community/solutions/{trail['solution']}").status_code == 404


def test_the_upgrade_merges_duplicate_leads_keeping_the_furthest_stage(tmp_path):
    """Two events each had a lead for Aarhus and Skærmbesøg: after the upgrade they are
    one lead at the furthest stage, with both events, both histories and a merge line."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from eventhub import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "k",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}"})
    with app.app_context():
        upgrade(revision="601e3f32d245")
        run = db.session.execute
        for n, slug in ((1, "a"), (2, "b")):
            run(text("INSERT INTO events (id, slug, title, description, venue, starts_at, "
                     "ends_at, status, join_code, created_at, updated_at, requires_approval, "
                     "privacy_notice, cover_alt, logo_alt, directions, language, title_en, "
                     "description_en) VALUES (:n, :slug, :slug, '', '', '2026-01-01 09:00', "
                     "'2026-01-01 16:00', 'published', :code, '2025-12-01', '2025-12-01', 0, "
                     "'', '', '', '', 'da', '', '')"), {"n": n, "slug": slug, "code": f"C{n}"})
        run(text("INSERT INTO solutions (id, name, summary, description, target_group, "
                 "maturity, website, status, public, created_at, updated_at) VALUES (1, 'S', "
                 "'', '', '', 'ready', '', 'approved', 0, '2025-12-01', '2025-12-01')"))
        aarhus = run(text("SELECT id FROM organizations WHERE code = '751'")).scalar()
        for lid, event, stage in ((1, 1, "meeting"), (2, 2, "adopted_copy"), (3, 2, "new")):
            org = aarhus if lid < 3 else None
            run(text("INSERT INTO followup_leads (id, event_id, organization_id, solution_id, "
                     "stage, drop_reason, source, created_at, updated_at) VALUES (:id, :e, "
                     ":org, 1, :stage, '', 'manual', '2026-01-02', '2026-01-02')"),
                {"id": lid, "e": event, "org": org, "stage": stage})
            run(text("INSERT INTO followup_lead_entries (lead_id, to_stage, text, created_at) "
                     "VALUES (:id, :stage, :t, '2026-01-02')"),
                {"id": lid, "stage": stage, "t": f"note {lid}"})
        db.session.commit()
        upgrade()
        leads = run(text("SELECT id, stage FROM followup_leads ORDER BY id")).all()
        assert leads == [(1, "adopted_copy"), (3, "new")]
        events = run(text("SELECT event_id FROM followup_lead_events WHERE lead_id = 1 "
                          "ORDER BY event_id")).scalars().all()
        assert events == [1, 2]
        texts = run(text("SELECT text FROM followup_lead_entries WHERE lead_id = 1")).scalars()
        texts = list(texts)
        assert "note 1" in texts and "note 2" in texts
        assert any("Lagt sammen" in t and "Beholdt: Genbrugt (kopi)" in t for t in texts)
        db.engine.dispose()


def test_the_workspace_counts_agree_with_its_leads_under_every_filter(app, client, trail):
    """The workspace filters its leads once and groups every count from them: each count
    (stages, solutions, organizations, reuse, days to adoption, barriers, editions) is
    what counting the matching leads by hand gives."""
    import random
    from statistics import median

    from eventhub.accounts.models import User
    from eventhub.events.models import Organization
    from eventhub.followup.models import ADOPTED, STAGES, LeadEvent

    rnd = random.Random(7)
    with app.app_context():
        later = [make_event(app, f"del-genbrug-{2028 + n}", organizer_id=trail["organizer"],
                            starts_at=T0 + timedelta(days=365 * (n + 1)),
                            ends_at=T0 + timedelta(days=365 * (n + 1), hours=7),
                            title=f"Del & Genbrug {2028 + n}") for n in range(2)]
        for n, eid in enumerate(later):
            event = db.session.get(Event, eid)
            event.host_organization_id = trail["host"]
            event.series_id = trail["series"] if n == 0 else None  # one outside the series
        orgs = [Organization(name=f"Org {n}", name_key=f"org {n}",
                             kind=("municipality", "company")[n % 2],
                             region_code="1082" if n % 3 == 0 else None) for n in range(6)]
        sols = [Solution(name=f"Løsning {n}", summary="x") for n in range(3)]
        db.session.add_all([*orgs, *sols])
        db.session.flush()
        events = [db.session.get(Event, e) for e in (trail["event"], *later)]
        made = []
        for sol in sols:
            for org in orgs:
                if rnd.random() < 0.2:
                    continue
                first = rnd.choice(events)
                stage = rnd.choice(list(STAGES))
                adopted = first.ends_at + timedelta(days=rnd.randint(5, 300)) \
                    if stage in ADOPTED else None
                lead = Lead(event_id=first.id, scope=trail["host"], solution_id=sol.id,
                            organization_id=org.id, stage=stage, adopted_at=adopted)
                db.session.add(lead)
                db.session.flush()
                for e in {first, *rnd.sample(events, rnd.randint(0, 2))}:
                    db.session.add(LeadEvent(lead_id=lead.id, event_id=e.id))
                made.append(lead)
        for n, reg_id in enumerate((trail["anna"], trail["dorte"], trail["carl"])):
            check = Checkin(event_id=trail["event"], registration_id=reg_id, month=3,
                            solution_ids=[sols[0].id])
            db.session.add(check)
            db.session.flush()
            db.session.add(CheckinAnswer(checkin_id=check.id, event_id=trail["event"],
                                         solution_id=sols[0].id, answer="no",
                                         barrier=("time", "time", "economy")[n]))
        db.session.commit()
        host = db.session.get(Organization, trail["host"])
        cm = db.session.get(User, trail["cm"])
        in_series = {trail["event"], later[0]}
        kinds = {o.id: o.kind for o in orgs}
        regions = {o.id: o.region_code for o in orgs}
        filters = [services.Filter(), services.Filter(series_id=trail["series"]),
                   services.Filter(event_id=later[1]), services.Filter(solution_id=sols[1].id),
                   services.Filter(region="1082"), services.Filter(org_kind="company"),
                   services.Filter(stage="meeting"),
                   services.Filter(series_id=trail["series"], org_kind="municipality")]
        for flt in filters:
            def matches(lead, flt=flt):
                linked = {link.event_id for link in lead.event_links}
                return ((not flt.event_id or flt.event_id in linked)
                        and (not flt.series_id or linked & in_series)
                        and (not flt.solution_id or lead.solution_id == flt.solution_id)
                        and (not flt.region or regions[lead.organization_id] == flt.region)
                        and (not flt.org_kind or kinds[lead.organization_id] == flt.org_kind)
                        and (not flt.stage or lead.stage == flt.stage))
            chosen = [lead for lead in made if matches(lead)]
            seen = services.overview(cm, host, flt)
            assert seen.counts == {s: sum(1 for x in chosen if x.stage == s) for s in STAGES}
            assert {s["id"]: (s["leads"], s["adopted"]) for s in seen.solutions} == {
                sol.id: (sum(1 for x in chosen if x.solution_id == sol.id),
                         sum(1 for x in chosen if x.solution_id == sol.id and x.is_adopted))
                for sol in sols if any(x.solution_id == sol.id for x in chosen)}
            assert {o["id"]: o["leads"] for o in seen.organizations} == {
                o.id: sum(1 for x in chosen if x.organization_id == o.id)
                for o in orgs if any(x.organization_id == o.id for x in chosen)}
            f = seen.figures
            assert f.leads == len(chosen) and f.adopted == sum(x.is_adopted for x in chosen)
            days = [(x.adopted_at - x.event.ends_at).days for x in chosen if x.adopted_at]
            assert f.median_days == (int(median(days)) if days else None)
            shown = {e.id for e in events if (not flt.event_id or e.id == flt.event_id)
                     and (not flt.series_id or e.id in in_series)}
            assert f.trend == [
                (e.title, sum(1 for x in chosen if e.id in {k.event_id for k in x.event_links}),
                 sum(1 for x in chosen if x.is_adopted
                     and e.id in {k.event_id for k in x.event_links}))
                for e in events if e.id in shown
                and any(e.id in {k.event_id for k in x.event_links} for x in chosen)]
            named = dict(f.barriers)
            assert (named["Tid og ressourcer"], named["Økonomi"]) == (
                (2, 1) if trail["event"] in shown else (0, 0))
    set_password_for(app, "cm@klynge.dk")
    sign_in(client, "cm@klynge.dk")
    page = client.get(f"/community/{trail['host']}/?series={trail['series']}&kind=company")
    assert page.status_code == 200
    assert f"{len(chosen)} leads" in page.text or f"{len(chosen)} lead" in page.text
