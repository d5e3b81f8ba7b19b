"""Declarative base with a naming convention, and shared column types."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A point in time: stored as naive UTC, always returned timezone-aware (UTC).

    SQLite has no time zones, so every datetime is normalised to UTC on the way in
    and marked UTC on the way out; both databases then behave alike.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def configure_sqlite(engine) -> None:
    """SQLite on ``engine``: foreign keys enforced, waiting for locks, readers beside a
    writer, and savepoints that cannot commit.

    Python's sqlite3 opens a transaction only before a write statement. A SAVEPOINT
    taken before the first write would start the transaction itself, and releasing it
    would commit: a later failure of the same request could not undo it. So a savepoint
    outside a transaction first opens one. It is IMMEDIATE: a savepoint is taken to write,
    and a deferred transaction that read first could not take the write lock once another
    writer committed (SQLite answers "database is locked" at once instead of waiting).
    """
    from sqlalchemy import event

    if event.contains(engine, "connect", _sqlite_connect):
        return
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "savepoint", _sqlite_savepoint)


def _sqlite_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_savepoint(conn, _name) -> None:
    if not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def lock_row(session, model, row_id: int) -> None:
    """Lock one row for the rest of the transaction, before counting what it owns.

    PostgreSQL: ``SELECT … FOR UPDATE`` on the row. SQLite has no row locks, so a
    no-op UPDATE of the row takes the database's write lock at once (an immediate
    transaction): every other writer waits until we commit. Either way the check
    that follows and the insert it allows cannot interleave with another's.
    """
    from sqlalchemy import select, update

    table = model.__table__
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(table).where(table.c.id == row_id).values(id=table.c.id)
        )
    else:
        session.execute(select(table.c.id).where(table.c.id == row_id).with_for_update())


def managed_by_models(name: str | None, type_: str, _parent_names: dict) -> bool:
    """Alembic's comparison skips what the migrations build by hand for the directory
    search: SQLite's FTS5 table (and its shadow tables), PostgreSQL's expression index."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith("search_fts")
    return not (type_ == "index" and name == "ix_search_docs_fts")
