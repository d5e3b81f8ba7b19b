"""The directory's search index: one row per person, organization, solution, experience.

Rows are kept in step by a flush listener, whatever code changed the source (a
registration edit, a withdrawn consent, an anonymization): after every flush the touched
documents are rebuilt from the database. A full-text index beside the table answers the
words (FTS5 on SQLite, a GIN index on ``to_tsvector`` on PostgreSQL); facet columns answer
the filters. People are double-checked against their registration at query time, so a
withdrawn consent hides them even if their row were stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import (
    Table,
    and_,
    delete,
    event,
    exists,
    func,
    insert,
    inspect,
    literal_column,
    or_,
    select,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session as OrmSession

from eventhub.directory.models import (
    Experience,
    Profile,
    SearchDoc,
    Solution,
    SolutionCategory,
    solution_categories,
)
from eventhub.events.models import Organization
from eventhub.extensions import db
from eventhub.registration.models import CANCELLED, Registration

PERSON, ORGANIZATION, SOLUTION, EXPERIENCE = "person", "organization", "solution", "experience"
KINDS = (PERSON, ORGANIZATION, SOLUTION, EXPERIENCE)
DOCS: Table = SearchDoc.__table__
FTS_EXPR = "to_tsvector('simple', search_docs.title || ' ' || search_docs.body)"


# --- keeping the index in step ------------------------------------------------------------

def _touched(session: OrmSession) -> set[tuple[str, int]]:
    keys: set[tuple[str, int]] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Registration) and obj.id:
            # Without consent, now or before this flush, a registration has no document;
            # a new one never had one (no round trips under the event lock for nothing).
            if obj.directory_consent_at is not None or obj in session.deleted or (
                    obj not in session.new and
                    inspect(obj).attrs.directory_consent_at.history.has_changes()):
                keys.add((PERSON, obj.id))
        elif isinstance(obj, Profile) and obj.registration_id:
            keys.add((PERSON, obj.registration_id))
        elif isinstance(obj, Organization) and obj.id:
            keys.add((ORGANIZATION, obj.id))
        elif isinstance(obj, Solution) and obj.id:
            keys.add((SOLUTION, obj.id))
        elif isinstance(obj, SolutionCategory) and obj.solution_id:
            keys.add((SOLUTION, obj.solution_id))
        elif isinstance(obj, Experience) and obj.id:
            keys.add((EXPERIENCE, obj.id))
    return keys


def _collect(session: OrmSession, _ctx) -> None:
    # Here new rows have their ids and new/dirty/deleted still show what was flushed.
    session.info.setdefault("search_touched", set()).update(_touched(session))


def _reindex(session: OrmSession, _ctx) -> None:
    touched = session.info.pop("search_touched", None)
    if touched:
        reindex(session.connection(), touched)


def listen(session_factory) -> None:
    """Keep the index in step with what this session factory flushes (once each)."""
    for name, fn in (("after_flush", _collect), ("after_flush_postexec", _reindex)):
        if not event.contains(session_factory, name, fn):
            event.listen(session_factory, name, fn)


def reindex(conn, keys: set[tuple[str, int]]) -> None:
    """Rebuild the documents for these (kind, id) pairs from the source tables."""
    by_kind: dict[str, set[int]] = {}
    for kind, ref in keys:
        by_kind.setdefault(kind, set()).add(ref)
    if SOLUTION in by_kind:  # an experience's text carries its solution's name
        by_kind.setdefault(EXPERIENCE, set()).update(conn.scalars(
            select(Experience.id).where(Experience.solution_id.in_(by_kind[SOLUTION]))))
    for kind, ids in by_kind.items():
        for chunk in _chunks(sorted(ids), 500):
            conn.execute(delete(DOCS).where(DOCS.c.kind == kind, DOCS.c.ref_id.in_(chunk)))
            rows = BUILDERS[kind](conn, chunk)
            if rows:
                conn.execute(insert(DOCS), rows)


def rebuild_all(conn) -> int:
    """Empty the index and build every document again; returns how many there are."""
    conn.execute(delete(DOCS))
    total = 0
    for kind, table in ((PERSON, Registration), (ORGANIZATION, Organization),
                        (SOLUTION, Solution), (EXPERIENCE, Experience)):
        ids = list(conn.scalars(select(table.id)))
        for chunk in _chunks(ids, 2000):
            rows = BUILDERS[kind](conn, chunk)
            if rows:
                conn.execute(insert(DOCS), rows)
                total += len(rows)
    return total


def _chunks(items: list[int], n: int):
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _category_map(conn, solution_ids) -> dict[int, list[str]]:
    cats: dict[int, list[str]] = {}
    for sid, cat in conn.execute(select(solution_categories.c.solution_id,
                                        solution_categories.c.category)
                                 .where(solution_categories.c.solution_id.in_(solution_ids))):
        cats.setdefault(sid, []).append(cat)
    return cats


def _cats(values) -> str:
    return " " + " ".join(sorted(set(values))) + " " if values else ""


def _people(conn, ids) -> list[dict]:
    rows = conn.execute(
        select(Registration.id, Registration.event_id, Registration.name, Registration.job_title,
               Organization.id, Organization.name, Organization.kind, Organization.region_code,
               Profile.bio, Profile.can_help_with, Profile.looking_for,
               Profile.looking_for_categories)
        .outerjoin(Organization, Organization.id == Registration.organization_id)
        .outerjoin(Profile, Profile.registration_id == Registration.id)
        .where(Registration.id.in_(ids), Registration.directory_consent_at.is_not(None),
               Registration.status != CANCELLED))
    return [dict(kind=PERSON, ref_id=r[0], event_id=r[1], title=r[2],
                 body=" ".join(filter(None, [r[3], r[5], r[8], r[9], r[10]])),
                 organization_id=r[4], org_kind=r[6], region_code=r[7],
                 categories=_cats(r[11] or []), status=None) for r in rows]


def _organizations(conn, ids) -> list[dict]:
    rows = conn.execute(select(Organization.id, Organization.name, Organization.kind,
                               Organization.region_code).where(Organization.id.in_(ids)))
    return [dict(kind=ORGANIZATION, ref_id=r[0], event_id=None, title=r[1], body="",
                 organization_id=r[0], org_kind=r[2], region_code=r[3], categories="",
                 status=None) for r in rows]


def _solutions(conn, ids) -> list[dict]:
    rows = list(conn.execute(
        select(Solution.id, Solution.name, Solution.summary, Solution.description,
               Solution.target_group, Organization.id, Organization.name, Organization.kind,
               Organization.region_code)
        .outerjoin(Organization, Organization.id == Solution.provider_id)
        .where(Solution.id.in_(ids), Solution.status == "approved")))
    cats = _category_map(conn, [r[0] for r in rows])
    return [dict(kind=SOLUTION, ref_id=r[0], event_id=None, title=r[1],
                 body=" ".join(filter(None, [r[2], r[3], r[4], r[6]])), organization_id=r[5],
                 org_kind=r[7], region_code=r[8], categories=_cats(cats.get(r[0], [])),
                 status=None) for r in rows]


def _experiences(conn, ids) -> list[dict]:
    rows = list(conn.execute(
        select(Experience.id, Solution.id, Solution.name, Organization.id, Organization.name,
               Organization.kind, Organization.region_code, Experience.status, Experience.scale,
               Experience.effect_clinical, Experience.effect_patient,
               Experience.effect_economic, Experience.effect_organisational, Experience.lessons)
        .join(Solution, Solution.id == Experience.solution_id)
        .join(Organization, Organization.id == Experience.organization_id)
        .where(Experience.id.in_(ids), Experience.draft.is_(False),
               Solution.status == "approved")))
    cats = _category_map(conn, list({r[1] for r in rows}))
    return [dict(kind=EXPERIENCE, ref_id=r[0], event_id=None, title=f"{r[4]}: {r[2]}",
                 body=" ".join(filter(None, r[8:14])), organization_id=r[3], org_kind=r[5],
                 region_code=r[6], categories=_cats(cats.get(r[1], [])), status=r[7])
            for r in rows]


BUILDERS = {PERSON: _people, ORGANIZATION: _organizations, SOLUTION: _solutions,
            EXPERIENCE: _experiences}


# --- asking it ------------------------------------------------------------------------------

@dataclass
class Query:
    text: str = ""
    kinds: tuple[str, ...] = KINDS
    org_kind: str = ""
    region: str = ""
    organization_id: int | None = None
    category: str = ""
    status: str = ""
    limit: int = 50
    offset: int = 0


@dataclass
class Hit:
    kind: str
    ref_id: int
    title: str
    organization_id: int | None
    status: str | None


@dataclass
class Result:
    hits: list[Hit] = field(default_factory=list)
    more: bool = False


WORD = re.compile(r"\w+", re.UNICODE)
# PostgreSQL: the full-text index's second column says which documents hold the words in
# their title (SQLite asks FTS5 for the title column instead).
TITLE_DOCS = DOCS.alias("title_docs")
TITLE_EXPR = "to_tsvector('simple', title_docs.title)"


def words_of(text: str) -> list[str]:
    """The words to look for: letters and digits only, at most eight, each ≤ 40 long."""
    return [w[:40].casefold() for w in WORD.findall(text or "")][:8]


def search(event_id: int, q: Query) -> Result:
    """Documents matching every word (as prefixes) and every filter, best first.

    People are limited to this event's participants who consent right now. "Best" is
    cheap to compute for any number of matches: documents whose title holds every word
    first, then shorter documents (where the words weigh more), then by title.
    """
    conn = db.session.connection()
    docs = DOCS.c
    stmt = select(docs.kind, docs.ref_id, docs.title, docs.organization_id, docs.status)
    words = words_of(q.text)
    conds = _filters(event_id, q, per_match=bool(words))
    if not words:
        stmt = stmt.where(*conds).order_by(docs.kind, docs.title)
    elif conn.dialect.name == "postgresql":
        # The planner prices the recheck as a tsvector per row, so common words would
        # switch on JIT compilation, which takes longer than the query itself.
        conn.execute(sql_text("SET LOCAL jit = off"))
        # Both expressions as literal SQL, so that they match the index's columns even
        # in a generic (prepared) plan; only the tsquery is a parameter.
        tsq = func.to_tsquery("simple", " & ".join(f"{w}:*" for w in words))
        in_title = select(TITLE_DOCS.c.id).where(literal_column(TITLE_EXPR).op("@@")(tsq))
        stmt = stmt.where(literal_column(FTS_EXPR).op("@@")(tsq), *conds).order_by(
            docs.id.in_(in_title).desc(), func.length(docs.body), docs.title)
    else:
        phrases = " ".join('"' + w.replace('"', "") + '"*' for w in words)
        in_title = sql_text("SELECT rowid FROM search_fts WHERE search_fts MATCH :in_title")\
            .bindparams(in_title=f"title : ({phrases})").columns(DOCS.c.id)
        stmt = (stmt.join(sql_text("search_fts"), sql_text("search_fts.rowid = search_docs.id"))
                .where(sql_text("search_fts MATCH :match").bindparams(match=phrases), *conds)
                .order_by(docs.id.in_(in_title).desc(), func.length(docs.body), docs.title))
    rows = conn.execute(stmt.limit(q.limit + 1).offset(q.offset)).all()
    hits = [Hit(*row) for row in rows[:q.limit]]
    return Result(hits=hits, more=len(rows) > q.limit)


def _filters(event_id: int, q: Query, per_match: bool) -> list:
    """The facet filters, and people only where their registration allows it now.

    ``per_match``: look each matching person up by primary key (a scalar subquery), so
    the cost follows the matches whatever plan PostgreSQL has cached; without words most
    people match, and EXISTS lets it hash the event's consenting registrations once.
    """
    docs = DOCS.c
    allowed = (Registration.id == docs.ref_id, Registration.event_id == event_id,
               Registration.directory_consent_at.is_not(None), Registration.status != CANCELLED)
    if per_match:
        visible_person = select(Registration.id).where(*allowed).scalar_subquery().is_not(None)
    else:
        visible_person = exists().where(*allowed)
    kinds = [k for k in q.kinds if k in KINDS]
    conds = [or_(docs.kind != PERSON, and_(docs.event_id == event_id, visible_person))]
    if kinds and set(kinds) != set(KINDS):
        conds.append(docs.kind.in_(kinds))
    if q.org_kind:
        conds.append(docs.org_kind == q.org_kind)
    if q.region:
        conds.append(docs.region_code == q.region)
    if q.organization_id:
        conds.append(docs.organization_id == q.organization_id)
    if q.category:
        conds.append(docs.categories.like(f"% {q.category} %"))
    if q.status:
        conds.append(docs.status == q.status)
    return conds
