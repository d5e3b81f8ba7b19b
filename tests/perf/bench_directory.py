"""Benchmark: directory search over 20,000 participants, 2,000 solutions, 10,000 experiences.

Not a pytest test (pytest collects ``test_*.py`` only). Run it from the repository:

    flock /tmp/bench.lock /work/venv/bin/python tests/perf/bench_directory.py
        [--databases sqlite,postgresql] [--queries 500] [--participants 20000]
        [--solutions 2000] [--experiences 10000] [--seed 1]

What it does, by itself, once per database:

1. SQLite: a new file in a temp directory; PostgreSQL: a database of its own
   (``eventhub_bench_dir_<random>`` on ``--pg``, default
   ``postgresql://postgres@127.0.0.1:5432``; dropped at the end). Both are migrated
   from empty with ``flask_migrate.upgrade()`` inside ``create_app({...})``;
2. generates the data with bulk Core inserts (no ORM objects, so the search index's
   flush listener stays out of it): one event; ``--participants`` registrations with
   directory consent (Danish names, job titles, organizations among the 98
   municipalities, 5 regions and generated companies and knowledge institutions), each
   with a profile (bio, "I can help with", "I am looking for", categories); ``--stale``
   more consenting ones; ``--no-consent`` registrations without consent (half of them
   with a profile, as if they had withdrawn); ``--other-event`` consenting participants
   of a second event; ``--solutions`` approved solutions with categories and providers;
   ``--experiences`` experiences, one per (solution, organization), with MAST effects;
3. builds the index with ``search.rebuild_all(db.session.connection())`` and commits.
   Then the ``--stale`` registrations lose their place behind the index's back (a Core
   UPDATE: half withdraw consent, half are cancelled), so their documents are stale on
   purpose and only the query-time check can hide them. PostgreSQL then gets
   ``VACUUM ANALYZE`` (what autovacuum does after a bulk load; SQLite gets nothing);
4. times ``search(event_id, Query(...))`` (limit 40, as the directory page asks) for a
   fixed, seeded mix of ``--queries`` queries (after ``--warmup`` untimed ones): common
   words, rare words, two words, prefixes as typed ("tele", "sens"), words with æ/ø/å,
   facet filters alone, words with filters, and no words with only a kind or an
   organization (the people list, an organization's page). Each query runs in its own
   transaction, as a request would. Before, it waits up to ``--wait-idle`` seconds for
   other processes to go quiet; it prints the CPU share they used during the timed
   queries, and times the mix again (up to ``--retry-busy`` times) while that share is
   above 10 %, keeping the quietest run;
5. baseline, same run: the first ``--baseline-queries`` queries of the mix that have
   words, answered without the full-text index: one ``ILIKE '%word%'`` per word over
   ``search_docs.title || ' ' || search_docs.body``, the same filters and people check
   (``search._filters``), ordered by title;
6. privacy: every person in every result is a consenting, not cancelled participant of
   this event; the people list with no words (limit 30,000) is exactly those
   participants; everyone matching "kommune" is one of them; a search for the full name of each
   of 200 withdrawn, cancelled, non-consenting and other-event people (with their
   organization as filter) never returns them.

Target (exit status 1 when missed on any database): p95 ≤ 50 ms over all timed queries
together, and every privacy check passes.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.bench import (  # noqa: E402
    create_database,
    drop_database,
    percentile,
    sqlalchemy_url,
)

TARGET_P95_MS = 50.0
LIMIT = 40  # hits per page, as eventhub/directory/views.py asks


# Vocabulary ----------------------------------------------------------------------------

FIRST_NAMES = (
    "Anne", "Mette", "Kirsten", "Hanne", "Helle", "Lene", "Susanne", "Camilla", "Maria",
    "Louise", "Marianne", "Pia", "Tina", "Charlotte", "Gitte", "Lone", "Inge", "Karen",
    "Birgitte", "Rikke", "Sofie", "Ida", "Signe", "Trine", "Dorte", "Åse", "Bodil", "Jytte",
    "Søren", "Jens", "Peter", "Lars", "Michael", "Henrik", "Thomas", "Martin", "Jesper",
    "Morten", "Rasmus", "Anders", "Niels", "Christian", "Mads", "Jørgen", "Bjørn", "Kasper",
    "Frederik", "Jakob", "Mikkel", "Torben", "Ole", "Poul", "Bent", "Steen", "Kåre", "Bo",
)
LAST_NAMES = (
    "Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
    "Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen",
    "Thomsen", "Christiansen", "Poulsen", "Johansen", "Møller", "Mortensen", "Knudsen",
    "Jakobsen", "Mikkelsen", "Olesen", "Frederiksen", "Laursen", "Henriksen", "Lund",
    "Schmidt", "Eriksen", "Holm", "Kristiansen", "Clausen", "Simonsen", "Svendsen",
    "Andreasen", "Iversen", "Jeppesen", "Mogensen", "Vestergaard", "Nissen", "Lauridsen",
    "Kjær", "Jespersen", "Bach", "Dam", "Skov", "Østergaard", "Søndergaard", "Bæk",
    "Højgaard", "Dahl", "Friis", "Brøndum", "Kjærgaard", "Ravn", "Vinther", "Bruun",
)
# Frequent surnames are frequent: weight by rank, like the real list.
LAST_WEIGHTS = tuple(1 / (i + 1) ** 0.9 for i in range(len(LAST_NAMES)))
JOB_TITLES = (
    "Sygeplejerske", "Projektleder", "Konsulent, velfærdsteknologi", "Digitaliseringschef",
    "Ergoterapeut", "Fysioterapeut", "Sundhedsfaglig chef", "Leder af hjemmeplejen",
    "IT-arkitekt", "Innovationskonsulent", "Teamleder, træning og rehabilitering",
    "Direktør", "Produktchef", "Key account manager", "Forsker", "Ph.d.-studerende",
    "Social- og sundhedsassistent", "Chefkonsulent", "Centerchef, ældre og handicap",
    "Velfærdsteknologisk koordinator", "Telemedicinsk koordinator", "Udviklingskonsulent",
    "Kvalitetskonsulent", "Visitator", "Hjælpemiddelterapeut", "Programleder",
)
TOPICS = (
    "telemedicin", "hjemmemonitorering af KOL", "digital genoptræning",
    "sensorer på plejecentre", "medicinhåndtering", "velfærdsteknologi i hjemmeplejen",
    "implementering", "gevinstrealisering", "borgerinddragelse", "demens og tryghed",
    "skærmbesøg", "faldforebyggelse", "rehabilitering efter hofteoperation",
    "data og journaler", "spiserobotter", "loftlifte og forflytning", "vasketoiletter",
    "GPS til borgere med demens", "nattetilsyn med kamera", "søvnmonitorering",
    "videokonsultationer med borgere", "hjerterehabilitering", "diabetes i eget hjem",
    "ældre medicinske patienter", "hjælpemidler til hverdagen", "udbud og indkøb",
)
BIO_FORMS = (
    "{job} i {org}. Arbejder med {t1} og {t2}.",
    "Jeg har arbejdet med {t1} i mange år og er nu optaget af {t2}.",
    "{job}. Ansvarlig for {t1} på tværs af sundhed og omsorg.",
    "Brænder for {t1} og for at dele erfaringer med {t2} med andre kommuner.",
)
# (what it is, its categories) — the kinds of solutions shown at Del & Genbrug.
SOLUTION_TYPES = (
    ("Skærmbesøg i hjemmeplejen", ("video", "telemedicine")),
    ("Sensorer i hjemmet, der opdager fald", ("sensors",)),
    ("Medicinrobot, der doserer og minder om medicin", ("medication", "aids")),
    ("Digital genoptræning med øvelser på tablet", ("rehabilitation",)),
    ("Spiserobot til borgere med nedsat armfunktion", ("aids",)),
    ("Vasketoilet, der giver selvhjulpenhed", ("aids",)),
    ("Loftlift med én hjælper", ("aids",)),
    ("GPS-tracker til borgere med demens", ("sensors",)),
    ("Videokonsultation mellem hospital og kommune", ("video", "telemedicine")),
    ("Telemedicinsk hjemmemonitorering af KOL", ("telemedicine",)),
    ("Telemedicinsk hjemmemonitorering af hjertesvigt", ("telemedicine",)),
    ("Nattekamera, der erstatter forstyrrende tilsyn", ("sensors",)),
    ("Smart plaster, der måler vitale værdier", ("sensors", "telemedicine")),
    ("Søvnsensor i sengen på plejecentre", ("sensors",)),
    ("Fælles journal- og datadeling på tværs af sektorer", ("data",)),
    ("Elektronisk medicinhusker", ("medication",)),
    ("Virtuel træning for borgere med hjertesygdom", ("rehabilitation", "video")),
    ("Inkontinenssensor i bleen", ("sensors", "aids")),
    ("Dataunderstøttet visitation", ("data",)),
    ("App til pårørende og hjemmepleje", ("other",)),
)
TARGET_GROUPS = (
    "borgere med KOL", "ældre i eget hjem", "borgere med demens", "hjertepatienter",
    "borgere med diabetes", "beboere på plejecentre", "borgere efter hofteoperation",
    "borgere med handicap", "pårørende", "medarbejdere i hjemmeplejen",
)
BRAND_HEADS = ("Tele", "Care", "Sense", "Medi", "Vita", "Nord", "Hjem", "Digi", "Robo",
               "Smart", "Tryg", "Sund", "Fjord", "Lys", "Bølge", "Klit", "Rask", "Omsorgs",
               "Vel", "Puls")
BRAND_TAILS = ("Care", "Link", "Guard", "Track", "Mind", "Dose", "Motion", "Sense", "Fit",
               "Assist", "Watch", "Hjælp", "Bo", "Vagt", "Plus", "Data", "Lift", "Pleje",
               "Kompas", "Rytme")
BRAND_VARIANTS = ("", " Pro", " Go", " Hjem", " 2", " Plus", " Flex", " Nord", " Lite")
COMPANY_HEADS = ("Nord", "Syd", "Øst", "Vest", "Dan", "Care", "Medi", "Tele", "Vita", "Sense",
                 "Robo", "Hjem", "Tryg", "Sund", "Lys", "Bølge", "Fjord", "Klit", "Skov", "Å")
COMPANY_TAILS = ("Care", "Tech", "Health", "Med", "Sense", "Link", "Lab", "Systems",
                 "Robotics", "Solutions", "Welfare", "Data")
COMPANY_FORMS = ("ApS", "A/S")
KNOWLEDGE = (
    "Syddansk Universitet", "Aalborg Universitet", "Aarhus Universitet",
    "Københavns Universitet", "DTU Sundhedsteknologi", "VIA University College",
    "UCL Erhvervsakademi og Professionshøjskole", "Københavns Professionshøjskole",
    "Professionshøjskolen Absalon", "UC Syd", "Alexandra Instituttet",
    "Teknologisk Institut", "Center for Innovativ Medicinsk Teknologi", "VIVE",
    "Welfare Tech",
)
EFFECTS = {
    "effect_clinical": (
        "{n} % færre indlæggelser blandt borgerne i det første år.",
        "Færre fald om natten og hurtigere hjælp, når det sker.",
        "Bedre egenomsorg og mere stabile målinger over {n} uger.",
        "Ingen målbar klinisk effekt endnu; forløbet evalueres.",
    ),
    "effect_patient": (
        "Borgerne oplever større tryghed og frihed i hverdagen.",
        "Færre forstyrrelser om natten; bedre søvn for beboerne.",
        "Borgerne sparer transport og kan klare mere selv.",
        "Pårørende føler sig bedre informeret.",
    ),
    "effect_economic": (
        "Sparet {n} timer om ugen i hjemmeplejen.",
        "Tilbagebetalt på {n} måneder.",
        "Besparelse på {n}.000 kr. om året pr. borger.",
        "Udgiftsneutral, men frigør tid til andre opgaver.",
    ),
    "effect_organisational": (
        "Nye arbejdsgange mellem sygepleje og visitation.",
        "Medarbejderne skulle oplæres; superbrugere i hver gruppe hjalp.",
        "Tættere samarbejde med hospitalet og egen læge.",
        "Driften er flyttet fra projekt til linje.",
    ),
}
LESSONS = (
    "Wifi-dækningen i borgernes hjem var en udfordring.",
    "Det tog længere tid end ventet at ændre vagtplanerne.",
    "Udstyret skulle tilpasses borgere med nedsat syn.",
    "Leverandørens support var langsom i begyndelsen.",
    "",
    "",
)
SCALES = ("{n} borgere", "{n} plejecentre", "{n} enheder", "{n} hjemmeplejegrupper")
STATUS_WEIGHTS = {"considering": 20, "piloting": 20, "implemented": 35, "scaled": 15,
                  "stopped": 10}


# Data ----------------------------------------------------------------------------------


@dataclass
class Dataset:
    event_id: int
    other_event_id: int
    allowed: set[int]                       # people who may show at the event
    hidden: list[tuple[int, str, int]]      # (id, name, org) who never may
    municipality_ids: list[int]
    counts: dict[str, int]
    generation_s: float = 0.0
    indexing_s: float = 0.0
    documents: int = 0
    stale_docs: int = 0


def make_app(db_uri: str, instance: Path):
    from eventhub import create_app

    return create_app({
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": db_uri,
        "MAIL_BACKEND": "folder",
        "MAIL_FOLDER": str(instance / "mail"),
        "MAIL_DELIVER_IN_PROCESS": False,
        "RATELIMIT_ENABLED": False,
    })


def insert_rows(conn, table, rows: list[dict], chunk: int = 5000) -> None:
    from sqlalchemy import insert

    for i in range(0, len(rows), chunk):
        conn.execute(insert(table), rows[i:i + chunk])


@dataclass
class Orgs:
    """The organizations made, by kind, with their names."""

    by_kind: dict[str, list[tuple[int, str]]]
    names: dict[int, str]
    public: list[tuple[int, str]]  # municipalities and regions


def generate(args, rng: random.Random) -> Dataset:
    """Fill the migrated database (inside an app context) with Core bulk inserts."""
    from eventhub.extensions import db

    conn = db.session.connection()
    now = datetime.now(UTC)
    start = (now + timedelta(days=-3)).replace(hour=7, minute=0, second=0, microsecond=0)
    event_id, other_event_id = _insert_events(conn, now, start)
    orgs = _insert_organizations(args, rng, conn, now)
    reg_rows, planned, ids = _insert_registrations(args, rng, conn, now, start, orgs,
                                                   (event_id, other_event_id))
    by_group, org_people, profiles = _insert_profiles(rng, conn, now, orgs, reg_rows,
                                                      planned, ids)
    sol_rows, sol_cats, sol_ids = _insert_solutions(args, rng, conn, now, orgs)
    exp_rows = _insert_experiences(args, rng, conn, now, orgs, org_people,
                                   [sol_ids[r["name"]] for r in sol_rows])

    consenting = by_group["consenting"]
    stale, visible = consenting[:args.stale], consenting[args.stale:]
    hidden = stale + by_group.get("no_consent", []) + by_group.get("other_event", [])
    return Dataset(
        event_id=event_id, other_event_id=other_event_id,
        allowed={rid for rid, _, _ in visible}, hidden=hidden,
        municipality_ids=[oid for oid, _ in orgs.by_kind["municipality"]],
        counts={"registrations": len(reg_rows), "consenting": len(visible),
                "stale": len(stale), "no_consent": len(by_group.get("no_consent", [])),
                "other_event": len(by_group.get("other_event", [])),
                "profiles": len(profiles), "organizations": len(orgs.names),
                "solutions": len(sol_rows),
                "categories": sum(len(c) for c in sol_cats.values()),
                "experiences": len(exp_rows)})


def _insert_events(conn, now: datetime, start: datetime) -> tuple[int, int]:
    """The benchmark's event and a second one; returns their ids."""
    from sqlalchemy import select

    from eventhub.events.models import Event

    events = Event.__table__
    for slug, title in (("del-genbrug-bench", "Del & Genbrug – velfærdsteknologi der virker"),
                        ("andet-arrangement", "Et andet arrangement")):
        conn.execute(events.insert().values(
            slug=slug, title=title, description="", venue="Odense Congress Center",
            starts_at=start, ends_at=start + timedelta(hours=8), capacity=None,
            status="published", join_code=secrets.token_hex(3).upper(),
            directory_open_until=(now + timedelta(days=90)).date(), requires_approval=False,
            privacy_notice="", created_at=now, updated_at=now))
    event_id, other_event_id = conn.scalars(select(events.c.id).order_by(events.c.id)).all()
    return event_id, other_event_id


def _insert_organizations(args, rng: random.Random, conn, now: datetime) -> Orgs:
    """The reference organizations, plus companies and knowledge institutions."""
    from sqlalchemy import select

    from eventhub.events.models import Organization, name_key

    orgs = Organization.__table__
    companies: set[str] = set()
    while len(companies) < args.companies:
        companies.add(f"{rng.choice(COMPANY_HEADS)}{rng.choice(COMPANY_TAILS).lower()} "
                      f"{rng.choice(COMPANY_FORMS)}")
    regions = [r for (r,) in conn.execute(
        select(orgs.c.code).where(orgs.c.kind == "region").order_by(orgs.c.code))]
    new_orgs = [dict(name=n, name_key=name_key(n), kind="company", code=None, region_code=None,
                     created_at=now) for n in sorted(companies)]
    new_orgs += [dict(name=n, name_key=name_key(n), kind="knowledge", code=None,
                      region_code=rng.choice(regions), created_at=now) for n in KNOWLEDGE]
    insert_rows(conn, orgs, new_orgs)
    by_kind: dict[str, list[tuple[int, str]]] = {}
    for oid, name, kind in conn.execute(select(orgs.c.id, orgs.c.name, orgs.c.kind)):
        by_kind.setdefault(kind, []).append((oid, name))
    return Orgs(by_kind=by_kind,
                names={oid: name for pairs in by_kind.values() for oid, name in pairs},
                public=by_kind["municipality"] + by_kind["region"])


def _insert_registrations(args, rng: random.Random, conn, now: datetime, start: datetime,
                          orgs: Orgs, event_ids: tuple[int, int]):
    """Consenting, non-consenting and other-event participants; returns the rows, what
    each is (group, gets a profile) and their ids by email."""
    from sqlalchemy import select

    from eventhub.registration.models import Registration

    def pick_org() -> int:
        kind = rng.choices(("municipality", "region", "company", "knowledge"),
                           (60, 12, 22, 6))[0]
        return rng.choice(orgs.by_kind[kind])[0]

    event_id, other_event_id = event_ids
    regs = Registration.__table__
    groups = (  # (group, how many, event, consent, share with a profile)
        ("consenting", args.participants + args.stale, event_id, True, 1.0),
        ("no_consent", args.no_consent, event_id, False, 0.5),
        ("other_event", args.other_event, other_event_id, True, 1.0),
    )
    reg_rows, planned = [], []
    n = 0
    for group, count, ev, consent, profile_share in groups:
        for _ in range(count):
            n += 1
            first, last = rng.choice(FIRST_NAMES), rng.choices(LAST_NAMES, LAST_WEIGHTS)[0]
            if rng.random() < 0.15:
                first += " " + rng.choice(FIRST_NAMES)
            org = pick_org()
            created = now - timedelta(days=rng.randint(4, 120), minutes=rng.randint(0, 1440))
            reg_rows.append(dict(
                event_id=ev, user_id=None, name=f"{first} {last}",
                email=f"{first.split()[0].lower()}.{n}@bench.example.dk", organization_id=org,
                job_title=rng.choice(JOB_TITLES), status="confirmed", badge_role="participant",
                ticket_code=secrets.token_urlsafe(20), manage_token=secrets.token_urlsafe(32),
                created_at=created, updated_at=created, waitlisted_at=None,
                confirmed_at=created, cancelled_at=None,
                checked_in_at=start + timedelta(minutes=rng.randint(0, 120))
                if rng.random() < 0.85 else None,
                checked_in_by_id=None, directory_consent_at=created if consent else None,
                source="web"))
            planned.append((group, rng.random() < profile_share))
    insert_rows(conn, regs, reg_rows)
    ids = dict(conn.execute(select(regs.c.email, regs.c.id)).all())
    return reg_rows, planned, ids


def _insert_profiles(rng: random.Random, conn, now: datetime, orgs: Orgs, reg_rows, planned,
                     ids):
    """Profiles for those planned to have one; returns people by group, the consenting
    people of each organization, and the profile rows."""
    from eventhub.directory.models import Profile

    by_group: dict[str, list[tuple[int, str, int]]] = {}
    org_people: dict[int, list[int]] = {}
    profiles = []
    for row, (group, has_profile) in zip(reg_rows, planned, strict=True):
        rid = ids[row["email"]]
        by_group.setdefault(group, []).append((rid, row["name"], row["organization_id"]))
        if group == "consenting":
            org_people.setdefault(row["organization_id"], []).append(rid)
        if has_profile:
            t1, t2 = rng.sample(TOPICS, 2)
            profiles.append(dict(
                registration_id=rid,
                bio=rng.choice(BIO_FORMS).format(job=row["job_title"], t1=t1, t2=t2,
                                                 org=orgs.names[row["organization_id"]]),
                can_help_with=f"Erfaring med {rng.choice(TOPICS)}" if rng.random() < 0.7
                else "",
                looking_for=f"Leder efter erfaringer med {rng.choice(TOPICS)}"
                if rng.random() < 0.8 else "",
                looking_for_categories=rng.sample(list(CATEGORY_KEYS), rng.randint(0, 2)),
                updated_at=now))
    insert_rows(conn, Profile.__table__, profiles)
    return by_group, org_people, profiles


def _insert_solutions(args, rng: random.Random, conn, now: datetime, orgs: Orgs):
    """Solutions, most from companies, some built by municipalities and regions
    themselves; returns the rows, their categories by name and their ids by name."""
    from sqlalchemy import select

    from eventhub.directory.models import Solution, solution_categories

    names: set[str] = set()
    while len(names) < args.solutions:
        names.add(f"{rng.choice(BRAND_HEADS)}{rng.choice(BRAND_TAILS)}"
                  f"{rng.choice(BRAND_VARIANTS)}")
    sol_rows, sol_cats = [], {}
    for name in sorted(names, key=lambda _: rng.random()):
        what, cats = rng.choice(SOLUTION_TYPES)
        kind = rng.choices(("company", "municipality", "region", "knowledge"), (80, 10, 5, 5))[0]
        provider_id, provider = rng.choice(orgs.by_kind[kind])
        target = rng.choice(TARGET_GROUPS)
        extra = set(cats)
        if rng.random() < 0.3:
            extra.add(rng.choice(CATEGORY_KEYS))
        sol_cats[name] = sorted(extra)
        created = now - timedelta(days=rng.randint(30, 1500))
        sol_rows.append(dict(
            name=name, summary=f"{what} til {target}.",
            description=f"{name} er {what[0].lower()}{what[1:]}, udviklet af {provider} "
                        f"sammen med {rng.choice(orgs.public)[1]}. Den er afprøvet med "
                        f"{rng.choice(TARGET_GROUPS)} og handler om {rng.choice(TOPICS)}.",
            provider_id=provider_id, target_group=target,
            maturity=rng.choice(("pilot", "ready", "operation", "operation")),
            website=f"https://{name.split()[0].lower()}.example.dk", status="approved",
            public=rng.random() < 0.3, proposed_at_event_id=None, created_by_id=None,
            created_at=created, updated_at=created))
    insert_rows(conn, Solution.__table__, sol_rows)
    sols = Solution.__table__
    sol_ids = dict(conn.execute(select(sols.c.name, sols.c.id)).all())
    insert_rows(conn, solution_categories, [
        dict(solution_id=sol_ids[name], category=cat)
        for name, cats in sol_cats.items() for cat in cats])
    return sol_rows, sol_cats, sol_ids


def _insert_experiences(args, rng: random.Random, conn, now: datetime, orgs: Orgs,
                        org_people: dict[int, list[int]], ranked: list[int]) -> list[dict]:
    """Experiences: popular solutions (first in ``ranked``) have many, one per (solution,
    organization)."""
    from eventhub.directory.models import Experience

    weights = [1 / (i + 1) ** 0.5 for i in range(len(ranked))]
    where = [oid for oid, _ in orgs.public] + [oid for oid, _ in orgs.by_kind["knowledge"]]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < args.experiences:
        for sid in rng.choices(ranked, weights, k=args.experiences - len(pairs)):
            pairs.add((sid, rng.choice(where)))
    statuses, status_w = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    exp_rows = []
    for sid, oid in sorted(pairs, key=lambda _: rng.random()):
        status = rng.choices(statuses, status_w)[0]
        effects = {key: rng.choice(forms).format(n=rng.randint(5, 40))
                   if status != "considering" and rng.random() < 0.8 else ""
                   for key, forms in EFFECTS.items()}
        people = org_people.get(oid)
        created = now - timedelta(days=rng.randint(1, 900))
        exp_rows.append(dict(
            solution_id=sid, organization_id=oid, status=status,
            since=date(rng.randint(2015, 2026), rng.randint(1, 12), 1),
            scale=rng.choice(SCALES).format(n=rng.randint(3, 400)), **effects,
            lessons=rng.choice(LESSONS) if status != "considering" else "",
            evidence_url="https://evidens.example.dk/rapport.pdf" if rng.random() < 0.2
            else "",
            contact_registration_id=rng.choice(people) if people and rng.random() < 0.6
            else None,
            draft=False, created_by_id=None, created_at=created, updated_at=created))
    insert_rows(conn, Experience.__table__, exp_rows)
    return exp_rows


def make_stale(stale: list[tuple[int, str, int]]) -> None:
    """Withdraw consent from half, cancel the other half, behind the index's back."""
    from sqlalchemy import update

    from eventhub.extensions import db
    from eventhub.registration.models import Registration

    regs = Registration.__table__
    ids = [rid for rid, _, _ in stale]
    conn = db.session.connection()
    half = len(ids) // 2
    if ids[:half]:
        conn.execute(update(regs).where(regs.c.id.in_(ids[:half]))
                     .values(directory_consent_at=None))
    if ids[half:]:
        conn.execute(update(regs).where(regs.c.id.in_(ids[half:]))
                     .values(status="cancelled", cancelled_at=datetime.now(UTC)))


def build(args, db_uri: str, instance: Path, dialect: str) -> tuple[object, Dataset]:
    """Migrate from empty, generate, index; returns the app and what was made."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from eventhub.directory import search
    from eventhub.directory.models import SearchDoc
    from eventhub.extensions import db

    app = make_app(db_uri, instance)
    with app.app_context():
        started = time.perf_counter()
        upgrade()
        logging.getLogger("alembic").setLevel(logging.WARNING)
        migrated = time.perf_counter() - started
        rng = random.Random(args.seed)
        started = time.perf_counter()
        data = generate(args, rng)
        db.session.commit()
        data.generation_s = time.perf_counter() - started
        started = time.perf_counter()
        data.documents = search.rebuild_all(db.session.connection())
        db.session.commit()
        data.indexing_s = time.perf_counter() - started
        stale = data.hidden[:args.stale]
        make_stale(stale)
        db.session.commit()
        docs = SearchDoc.__table__
        data.stale_docs = db.session.scalar(select(func.count()).select_from(docs).where(
            docs.c.kind == "person", docs.c.ref_id.in_([rid for rid, _, _ in stale])))
        db.session.commit()
        if dialect == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
        data.counts["migration_s"] = migrated
    return app, data


# Queries -------------------------------------------------------------------------------

CATEGORY_KEYS: tuple[str, ...] = ()  # filled from the models in main()
KINDS_NAMES = ("person", "organization", "solution", "experience")

COMMON = ("kommune", "borgere", "sygeplejerske", "jensen", "telemedicin", "projektleder",
          "demens", "rehabilitering", "hjemmeplejen", "region")
RARE = ("dragør", "lemvig", "odsherred", "vasketoilet", "spiserobot", "nattekamera",
        "vinther", "inkontinenssensor", "hjerterehabilitering", "gevinstrealisering")
TWO_WORDS = ("anne jensen", "sensorer demens", "videokonsultation hospital",
             "aarhus telemedicin", "medicinrobot hjemmeplejen", "odense rehabilitering",
             "projektleder region", "søren nielsen", "kol hjemmemonitorering",
             "tryghed borgerne")
PREFIXES = ("tele", "sens", "rehab", "medic", "digi", "genop", "robo", "video", "kon", "hj")
DANISH = ("ældre", "sønderborg", "tårnby", "møller", "hjælpemid", "søvn", "høje", "læsø",
          "bjørn", "østergaard", "pårørende", "kjær")


@dataclass
class Planned:
    kind: str
    args: dict
    label: str


def query_mix(rng: random.Random, n: int, data: Dataset) -> list[Planned]:
    """A seeded mix of what people type and click, in shares a directory would see."""
    regions = ("1081", "1082", "1083", "1084", "1085")
    statuses = tuple(STATUS_WEIGHTS)
    org_kinds = ("municipality", "region", "company", "knowledge")

    def one_filter() -> dict:
        which = rng.choice(("region", "org_kind", "category", "status"))
        return {"region": {"region": rng.choice(regions)},
                "org_kind": {"org_kind": rng.choice(org_kinds)},
                "category": {"category": rng.choice(CATEGORY_KEYS)},
                "status": {"status": rng.choice(statuses)}}[which]

    makers = {
        "common word": (15, lambda: {"text": rng.choice(COMMON)}),
        "rare word": (10, lambda: {"text": rng.choice(RARE)}),
        "two words": (15, lambda: {"text": rng.choice(TWO_WORDS)}),
        "prefix": (15, lambda: {"text": rng.choice(PREFIXES)}),
        "æ ø å": (10, lambda: {"text": rng.choice(DANISH)}),
        "filters only": (10, lambda: one_filter() | (one_filter() if rng.random() < 0.3
                                                      else {})),
        "words + filter": (15, lambda: {"text": rng.choice(COMMON + PREFIXES + DANISH)}
                           | one_filter()),
        "no words, a kind": (10, lambda: rng.choice((
            {"kinds": ("person",)}, {"kinds": ("solution",)}, {"kinds": ("experience",)},
            {}, {"organization_id": rng.choice(data.municipality_ids)},
            {"organization_id": rng.choice(data.municipality_ids),
             "kinds": ("experience",)}))),
    }
    kinds = list(makers)
    weights = [makers[k][0] for k in kinds]
    mix = []
    for _ in range(n):
        kind = rng.choices(kinds, weights)[0]
        args = makers[kind][1]()
        label = " ".join(f"{k}={v}" for k, v in args.items())
        mix.append(Planned(kind, args, label))
    return mix


@dataclass
class Timed:
    planned: Planned
    seconds: float
    hits: int
    people: list[int] = field(default_factory=list)


def run_mix(event_id: int, mix: list[Planned], fn) -> list[Timed]:
    """Run each query in its own transaction (as a request would), timing ``fn``."""
    from eventhub.directory.search import Query
    from eventhub.extensions import db

    out = []
    for p in mix:
        q = Query(limit=LIMIT, **p.args)
        started = time.perf_counter()
        result = fn(event_id, q)
        elapsed = time.perf_counter() - started
        db.session.rollback()
        out.append(Timed(p, elapsed, len(result.hits),
                         [h.ref_id for h in result.hits if h.kind == "person"]))
    return out


def like_search(event_id: int, q):
    """The same question without the full-text index: ILIKE '%word%' per word, the same
    filters and people check as ``search`` (its ``_filters``), ordered by title."""
    from sqlalchemy import select

    from eventhub.directory.search import DOCS, Hit, Result, _filters, words_of
    from eventhub.extensions import db

    docs = DOCS.c
    text = docs.title + " " + docs.body
    conds = _filters(event_id, q, per_match=True) + [text.ilike(f"%{w}%") for w in words_of(q.text)]
    stmt = (select(docs.kind, docs.ref_id, docs.title, docs.organization_id, docs.status)
            .where(*conds).order_by(docs.title).limit(q.limit + 1).offset(q.offset))
    rows = db.session.execute(stmt).all()
    return Result(hits=[Hit(*r) for r in rows[:q.limit]], more=len(rows) > q.limit)


def privacy(event_id: int, data: Dataset, timed: list[Timed]) -> list[tuple[str, bool, str]]:
    """Checks: (what, passed, detail)."""
    from eventhub.directory.search import Query, search
    from eventhub.extensions import db

    checks = []
    shown = {rid for t in timed for rid in t.people}
    leaked = shown - data.allowed
    checks.append(("people in the timed results", not leaked,
                   f"{len(shown)} distinct, {len(leaked)} not consenting here"))
    listing = {h.ref_id for h in search(event_id, Query(kinds=("person",), limit=30000)).hits}
    db.session.rollback()
    checks.append(("people list, no words", listing == data.allowed,
                   f"{len(listing)} shown, {len(data.allowed)} consenting, "
                   f"{len(listing - data.allowed)} others"))
    words = {h.ref_id for h in search(event_id, Query(text="kommune", kinds=("person",),
                                                      limit=30000)).hits}
    db.session.rollback()
    checks.append(("people matching 'kommune'", words <= data.allowed and len(words) > 1000,
                   f"{len(words)} shown, {len(words - data.allowed)} not consenting here"))
    rng = random.Random(7)
    sample = rng.sample(data.hidden, min(200, len(data.hidden)))
    found = 0
    for rid, name, org in sample:
        hits = search(event_id, Query(text=name, kinds=("person",), organization_id=org,
                                      limit=30000)).hits
        db.session.rollback()
        found += any(h.ref_id == rid for h in hits)
    checks.append(("by name: withdrawn, cancelled, no consent, other event", found == 0,
                   f"{found} of {len(sample)} found"))
    return checks


# Machine -------------------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
BUSY_OK = 0.10  # share of the machine other processes may use during a trusted run


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine so far (all CPUs), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return float("nan")
    return (sum(values) - values[3] - values[4]) / TICKS


def own_cpu(backend_pid: int | None) -> float:
    """CPU seconds used so far by this process and its database backend (PostgreSQL)."""
    times = os.times()
    cpu = times.user + times.system
    if backend_pid:
        try:
            with open(f"/proc/{backend_pid}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
            cpu += (int(fields[11]) + int(fields[12])) / TICKS
        except (OSError, ValueError, IndexError):
            pass
    return cpu


def others_busy(seconds: float = 1.0) -> float:
    """Share of all CPUs (0..1) that other processes use, over ``seconds``."""
    machine, own = machine_cpu(), own_cpu(None)
    time.sleep(seconds)
    return (machine_cpu() - machine - (own_cpu(None) - own)) / (seconds * (os.cpu_count() or 1))


def wait_idle(limit: float, timeout: float) -> float:
    """Wait (up to ``timeout`` s) until other processes use less than ``limit``."""
    deadline = time.monotonic() + timeout
    busy = others_busy()
    while busy >= limit and time.monotonic() < deadline:
        print(f"  machine busy ({busy:.0%} of the CPUs used by others), waiting …", flush=True)
        time.sleep(4)
        busy = others_busy()
    return busy


# Report --------------------------------------------------------------------------------



def stats_row(label: str, seconds: list[float], hits: list[int]) -> str:
    ms = [s * 1000 for s in seconds]
    mean_hits = sum(hits) / len(hits) if hits else float("nan")
    return (f"  {label:<18}{len(ms):>5}{percentile(ms, 50):>8.1f}{percentile(ms, 95):>8.1f}"
            f"{percentile(ms, 99):>8.1f}{max(ms, default=float('nan')):>8.1f}{mean_hits:>8.1f}")


HEADER = f"  {'queries':<18}{'n':>5}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}{'hits':>8}"


def bench(args, dialect: str) -> dict:
    from sqlalchemy import text

    from eventhub.directory.search import search
    from eventhub.extensions import db

    instance = Path(tempfile.mkdtemp(prefix="eventhub-bench-dir-"))
    db_name = None
    if dialect == "sqlite":
        db_uri = f"sqlite:///{instance / 'bench.sqlite'}"
        where = f"SQLite {sqlite3.sqlite_version}"
    else:
        db_name = create_database(args.pg, "eventhub_bench_dir")
        db_uri = sqlalchemy_url(args.pg, db_name)
        where = f"PostgreSQL, database {db_name}"
    print(f"\n{where}", flush=True)
    try:
        app, data = build(args, db_uri, instance, dialect)
        with app.app_context():
            if dialect == "postgresql":
                version = db.session.scalar(text("SHOW server_version"))
                where = f"PostgreSQL {version.split()[0]}"
            rng = random.Random(args.seed + 1)
            mix = query_mix(rng, args.warmup + args.queries, data)
            run_mix(data.event_id, mix[:args.warmup], search)
            backend = None
            if dialect == "postgresql":
                backend = db.session.scalar(text("SELECT pg_backend_pid()"))
                db.session.rollback()
            best = None
            for attempt in range(1 + args.retry_busy):
                if attempt:
                    print(f"  other processes used {best[2]:.0%} of the machine during the "
                          f"timed queries; again ({attempt}/{args.retry_busy})", flush=True)
                busy_before = (wait_idle(0.25, args.wait_idle) if args.wait_idle
                               else others_busy())
                machine, own, started = machine_cpu(), own_cpu(backend), time.perf_counter()
                timed = run_mix(data.event_id, mix[args.warmup:], search)
                wall = time.perf_counter() - started
                others = max(((machine_cpu() - machine) - (own_cpu(backend) - own))
                             / (wall * (os.cpu_count() or 1)), 0.0)
                if best is None or others < best[2]:
                    best = (timed, busy_before, others, attempt + 1)
                if others <= BUSY_OK:
                    break
            timed, busy_before, others, runs = best
            with_words = [i for i, t in enumerate(timed) if t.planned.args.get("text")]
            chosen = with_words[:args.baseline_queries]
            baseline = run_mix(data.event_id, [timed[i].planned for i in chosen], like_search)
            checks = privacy(data.event_id, data, timed)
            db.session.remove()
            db.engine.dispose()
    finally:
        if args.keep:
            print(f"kept {db_name or ''} {instance}")
        else:
            if db_name:
                drop_database(args.pg, db_name)
            shutil.rmtree(instance, ignore_errors=True)
    return {"dialect": dialect, "where": where, "data": data, "timed": timed,
            "busy_before": busy_before, "others": others, "warmup": args.warmup,
            "runs": runs,
            "baseline": baseline, "baseline_index": [timed[i] for i in chosen],
            "checks": checks}


def report(r: dict) -> bool:
    data: Dataset = r["data"]
    c = data.counts
    all_s = [t.seconds for t in r["timed"]]
    p95 = percentile(all_s, 95) * 1000
    ok_speed = p95 <= TARGET_P95_MS
    ok_privacy = all(passed for _, passed, _ in r["checks"]) and data.stale_docs == c["stale"]
    print(f"\nDirectory search — {r['where']} ({os.cpu_count()} CPUs)")
    print(f"  data: {c['registrations']:,} registrations ({c['consenting']:,} consenting, "
          f"{c['stale']} stale, {c['no_consent']:,} without consent, {c['other_event']:,} at "
          f"another event), {c['profiles']:,} profiles, {c['organizations']} organizations, "
          f"{c['solutions']:,} solutions ({c['categories']:,} categories), "
          f"{c['experiences']:,} experiences")
    print(f"  migrate {c['migration_s']:.1f} s, generate + insert {data.generation_s:.1f} s, "
          f"index {data.documents:,} documents {data.indexing_s:.1f} s")
    print(f"  other processes' CPU: {r['busy_before']:.0%} before, {r['others']:.0%} during "
          f"the timed queries (of all CPUs; should be near 0 %; quietest of {r['runs']} "
          f"run{'s' if r['runs'] > 1 else ''})")
    if r["others"] > BUSY_OK:
        print(f"  WARNING: other processes used {r['others']:.0%} of the machine while the "
              f"queries were timed; the latencies below are high by about that much or more")
    print(f"  search(), ms per query, limit {LIMIT} as on the directory page ({len(all_s)} "
          f"timed after {r['warmup']} warm-up; hits = mean returned):")
    print(HEADER)
    kinds = list(dict.fromkeys(t.planned.kind for t in sorted(r["timed"],
                                                              key=lambda t: t.planned.kind)))
    for kind in kinds:
        sel = [t for t in r["timed"] if t.planned.kind == kind]
        print(stats_row(kind, [t.seconds for t in sel], [t.hits for t in sel]))
    print(stats_row("all", all_s, [t.hits for t in r["timed"]])
          + f"   target p95 ≤ {TARGET_P95_MS:.0f} ms: {'ok' if ok_speed else 'MISSED'}")
    slowest = sorted(r["timed"], key=lambda t: -t.seconds)[:3]
    print("  slowest: " + "; ".join(f"{t.planned.label} {t.seconds * 1000:.0f} ms"
                                     for t in slowest))
    base, idx = r["baseline"], r["baseline_index"]
    if base:
        b50, i50 = percentile([t.seconds for t in base], 50), percentile(
            [t.seconds for t in idx], 50)
        b95, i95 = percentile([t.seconds for t in base], 95), percentile(
            [t.seconds for t in idx], 95)
        print(f"  baseline, the same {len(base)} queries with words, ILIKE '%word%' over "
              f"search_docs without the index:")
        print(HEADER)
        print(stats_row("ILIKE scan", [t.seconds for t in base], [t.hits for t in base]))
        print(stats_row("full-text index", [t.seconds for t in idx], [t.hits for t in idx]))
        print(f"  index is {b50 / i50:.1f}× faster at p50, {b95 / i95:.1f}× at p95")
    print("  privacy:")
    print(f"    stale person documents left on purpose: {data.stale_docs} "
          f"({'ok' if data.stale_docs == c['stale'] else 'MISSED'})")
    for what, passed, detail in r["checks"]:
        print(f"    {what}: {detail} ({'ok' if passed else 'FAILED'})")
    print(f"  result: {'PASS' if ok_speed and ok_privacy else 'FAIL'}", flush=True)
    return ok_speed and ok_privacy


def main(argv: list[str] | None = None) -> int:
    global CATEGORY_KEYS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--participants", type=int, default=20000)
    parser.add_argument("--stale", type=int, default=200)
    parser.add_argument("--no-consent", type=int, default=2000)
    parser.add_argument("--other-event", type=int, default=1000)
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--solutions", type=int, default=2000)
    parser.add_argument("--experiences", type=int, default=10000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--baseline-queries", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL",
                                                       "postgresql://postgres@127.0.0.1:5432"),
                        help="PostgreSQL server URL without a database name")
    parser.add_argument("--wait-idle", type=float, default=120, metavar="S",
                        help="wait up to S seconds for other processes to go quiet before "
                             "the timed queries (default 120; 0 = do not wait)")
    parser.add_argument("--retry-busy", type=int, default=2, metavar="K",
                        help=f"time the mix again, up to K times, while other processes use "
                             f"more than {BUSY_OK * 100:.0f}%% of the machine; keep the "
                             f"quietest (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the databases and tmp dirs")
    args = parser.parse_args(argv)
    dialects = [d.strip() for d in args.databases.split(",") if d.strip()]
    for d in dialects:
        if d not in ("sqlite", "postgresql"):
            parser.error(f"unknown database {d!r}: sqlite, postgresql")

    from eventhub.directory.models import CATEGORIES

    CATEGORY_KEYS = tuple(CATEGORIES)
    results = [bench(args, d) for d in dialects]
    oks = [report(r) for r in results]
    print("\nSummary (p95 over all timed queries, target ≤ 50 ms):")
    for r, ok in zip(results, oks, strict=True):
        ms = [t.seconds * 1000 for t in r["timed"]]
        print(f"  {r['where']:<28} p50 {percentile(ms, 50):6.1f} ms   p95 "
              f"{percentile(ms, 95):6.1f} ms   {'PASS' if ok else 'FAIL'}")
    return 0 if all(oks) else 1


if __name__ == "__main__":
    sys.exit(main())
