"""Backup and restore: every row of every table, portable between SQLite and PostgreSQL.

A backup is a zip file: ``manifest.json`` (format, Alembic revision, tables in
dependency order, row counts) and one ``tables/<name>.jsonl`` per table, a JSON object
per row. Tables come from the models' metadata, so a table added by a new migration is
in the next backup without anyone listing it. Values are typed by their column on the
way back (times, dates, bytes, decimals), so a SQLite backup restores into PostgreSQL
and the other way round.

``restore`` migrates the target to the newest revision first, refuses a backup from
another revision (restore with the EventHub version that made it, then upgrade), and
refuses a database that holds anything but the reference data the migrations load,
unless ``replace`` is given. It deletes those rows, inserts every table in dependency
order in one transaction, and moves PostgreSQL's id sequences past the restored ids.
"""

from __future__ import annotations

import base64
import decimal
import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    Numeric,
    Table,
    Time,
    TypeDecorator,
    Uuid,
    func,
    insert,
    select,
    text,
)

from eventhub.extensions import db

FORMAT, VERSION = "eventhub-backup", 1
BATCH = 1000
# Rows the migrations themselves load: present in a freshly migrated database.
REFERENCE_TABLES = {"organizations", "search_docs"}


class BackupError(Exception):
    """A backup that cannot be restored here, with what to do about it."""


def tables() -> list[Table]:
    """Every table the models know, parents before children."""
    return list(db.metadata.sorted_tables)


def _base_type(column) -> Any:
    t = column.type
    while isinstance(t, TypeDecorator):
        t = t.impl_instance
    return t


def _encoder(column) -> Callable[[Any], Any]:
    t = _base_type(column)
    if isinstance(t, JSON):
        return lambda v: v
    if isinstance(t, (DateTime, Date, Time)):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(t, LargeBinary):
        return lambda v: None if v is None else base64.b64encode(bytes(v)).decode()
    if isinstance(t, Uuid):
        return lambda v: None if v is None else str(v)
    if isinstance(t, Numeric) and getattr(t, "asdecimal", False):
        return lambda v: None if v is None else str(v)
    return lambda v: v


def _decoder(column) -> Callable[[Any], Any]:
    t = _base_type(column)

    def when(parse):
        return lambda v: None if v is None else parse(v)

    if isinstance(t, JSON):
        return lambda v: v
    if isinstance(t, DateTime):
        def parse_dt(v: str) -> datetime:
            value = datetime.fromisoformat(v)
            # A column of points in time (UTCDateTime) wants them aware.
            if value.tzinfo is None and isinstance(column.type, TypeDecorator):
                value = value.replace(tzinfo=UTC)
            return value
        return when(parse_dt)
    if isinstance(t, Date):
        return when(date.fromisoformat)
    if isinstance(t, Time):
        return when(time.fromisoformat)
    if isinstance(t, LargeBinary):
        return when(base64.b64decode)
    if isinstance(t, Uuid):
        return when(uuid.UUID)
    if isinstance(t, Numeric) and getattr(t, "asdecimal", False):
        return when(decimal.Decimal)
    return lambda v: v


def _columns(table: Table) -> list:
    """The columns a backup carries (computed ones are made by the database)."""
    return [c for c in table.columns if c.computed is None]


def _current_revisions() -> list[str]:
    return sorted(db.session.scalars(text("SELECT version_num FROM alembic_version")))


def _rows(table: Table) -> Iterator[dict[str, Any]]:
    columns = _columns(table)
    encoders = [(c.key, _encoder(c)) for c in columns]
    order = list(table.primary_key.columns) or columns
    result = db.session.execute(select(*columns).order_by(*order),
                                execution_options={"yield_per": BATCH})
    for row in result:
        yield {key: enc(value) for (key, enc), value in zip(encoders, row, strict=True)}


def dump(path: Path) -> dict[str, int]:
    """Write every table to the zip file ``path``; returns rows per table."""
    if db.engine.dialect.name == "postgresql":  # one consistent snapshot of all tables
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    counts: dict[str, int] = {}
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for table in tables():
                n = 0
                with archive.open(f"tables/{table.name}.jsonl", "w") as raw, \
                        io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as out:
                    for row in _rows(table):
                        out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
                        out.write("\n")
                        n += 1
                counts[table.name] = n
            manifest = {
                "format": FORMAT, "version": VERSION,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "dialect": db.engine.dialect.name, "revision": _current_revisions(),
                "tables": [t.name for t in tables()], "rows": counts,
            }
            archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
        db.session.rollback()
    return counts


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read("manifest.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise BackupError(f"{path} is not an EventHub backup ({exc}).") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"{path} is not an EventHub backup of version {VERSION}.")
    return manifest


def _reset_sequences(table: Table) -> None:
    pk = list(table.primary_key.columns)
    if len(pk) != 1 or not isinstance(_base_type(pk[0]), Integer):
        return
    name = pk[0].name
    db.session.execute(text(
        f"SELECT setval(pg_get_serial_sequence(:t, :c), coalesce(max({name}), 1), "
        f"max({name}) IS NOT NULL) FROM {table.name}"
    ).bindparams(t=table.name, c=name))


def _check_revision(manifest: dict[str, Any]) -> None:
    """The backup must come from the database revision this EventHub is at."""
    here = _current_revisions()
    if manifest["revision"] != here:
        raise BackupError(
            f"The backup is from database revision {', '.join(manifest['revision'])}; this "
            f"EventHub is at {', '.join(here)}. Restore it with the EventHub version that made "
            "it, then run `eventhub db upgrade`.")


def _check_tables(manifest: dict[str, Any]) -> None:
    """The backup must hold exactly the tables the models know."""
    known = {t.name for t in tables()}
    unknown = set(manifest["tables"]) - known
    missing = known - set(manifest["tables"])
    if unknown or missing:
        raise BackupError(f"Tables differ: only in the backup {sorted(unknown)}, "
                          f"only here {sorted(missing)}.")


def _check_empty() -> None:
    """Nothing but the migrations' reference data may be in the way."""
    busy = [t.name for t in tables() if t.name not in REFERENCE_TABLES
            and db.session.scalar(select(func.count()).select_from(t))]
    if busy:
        raise BackupError("The database is not empty (" + ", ".join(busy[:5]) +
                          "). Restore into an empty database, or pass --replace to "
                          "delete what it holds.")


def _load_table(archive: zipfile.ZipFile, table: Table, expected: int) -> int:
    """Insert one table's rows from the archive in batches; returns how many."""
    decoders = {c.key: _decoder(c) for c in _columns(table)}
    batch: list[dict[str, Any]] = []
    n = 0
    with archive.open(f"tables/{table.name}.jsonl") as raw:
        for line in io.TextIOWrapper(raw, encoding="utf-8"):
            row = json.loads(line)
            batch.append({k: decoders[k](v) for k, v in row.items() if k in decoders})
            if len(batch) >= BATCH:
                db.session.execute(insert(table), batch)
                n, batch = n + len(batch), []
    if batch:
        db.session.execute(insert(table), batch)
        n += len(batch)
    if n != expected:
        raise BackupError(f"{table.name}: {n} rows read, the manifest says {expected}.")
    return n


def restore(path: Path, replace: bool = False) -> dict[str, int]:
    """Load the backup at ``path`` into this database; returns rows per table."""
    from flask_migrate import upgrade

    manifest = read_manifest(path)
    upgrade()
    _check_revision(manifest)
    _check_tables(manifest)
    if not replace:
        _check_empty()
    counts: dict[str, int] = {}
    dialect = db.engine.dialect.name
    try:
        if dialect == "sqlite":  # parents and children may arrive in any order
            db.session.execute(text("PRAGMA defer_foreign_keys = ON"))
        for table in reversed(tables()):
            db.session.execute(table.delete())
        with zipfile.ZipFile(path) as archive:
            for table in tables():
                counts[table.name] = _load_table(archive, table,
                                                 manifest["rows"].get(table.name, 0))
                if dialect == "postgresql":
                    _reset_sequences(table)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return counts
