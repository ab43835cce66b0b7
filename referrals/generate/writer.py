"""Bulk writing for the generator: SQLAlchemy Core executemany in batches, one
transaction per batch (or all in the caller's, when one is open), every id handed out
before its row is written.

The ORM would cost a flush, an identity map and a unit of work per row; at the county
tier (millions of rows) that is the difference between minutes and an hour. Core
inserts still go through the column types (UTC datetimes, enums checked, JSON), so the
rows are exactly what the application would have stored.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from sqlalchemy import Connection, Engine, Table, func, select, text

from referrals.models import Base

TABLES: dict[str, Table] = Base.metadata.tables
# Parents before children, so a batch holding both writes the parent first.
ORDER = [table.name for table in Base.metadata.sorted_tables]


def _transaction(connection: Connection) -> AbstractContextManager:
    """A transaction of the writer's own, or none inside the caller's (the demo writes
    its history in the session's transaction, which its caller commits)."""
    return nullcontext() if connection.in_transaction() else connection.begin()


class Ids:
    """The next id of each table with an integer key, counted from what is stored."""

    def __init__(self, connection: Connection):
        with _transaction(connection):
            self._next = {name: (connection.scalar(select(func.max(table.c.id))) or 0) + 1
                          for name, table in TABLES.items() if _integer_id(table)}

    def __call__(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value


def _integer_id(table: Table) -> bool:
    return "id" in table.c and table.c.id.primary_key and table.c.id.type.python_type is int


class Writer:
    """Collects rows per table and writes them, `batch` rows at a time, each batch in
    its own transaction."""

    def __init__(self, connection: Connection, *, batch: int = 20_000):
        self.connection = connection
        self.batch = batch
        self.pending: dict[str, list[dict]] = defaultdict(list)
        self.waiting = 0
        self.written: Counter[str] = Counter()

    def add(self, table: str, row: dict) -> None:
        self.pending[table].append(row)
        self.waiting += 1
        if self.waiting >= self.batch:
            self.flush()

    def flush(self) -> None:
        if not self.waiting:
            return
        with _transaction(self.connection):
            for name in ORDER:
                rows = self.pending.pop(name, None)
                if rows:
                    self.connection.execute(TABLES[name].insert(), rows)
                    self.written[name] += len(rows)
        self.waiting = 0


def stored_rows(connection: Connection, *tables: str) -> int:
    with connection.begin():
        return sum(connection.scalar(select(func.count()).select_from(TABLES[name])) or 0
                   for name in tables)


def clear(connection: Connection) -> None:
    """Delete every row of every table Kindly has (the schema and its version stay)."""
    with connection.begin():
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{name}"' for name in ORDER)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        for name in reversed(ORDER):
            connection.execute(TABLES[name].delete())


def advance_sequences(connection: Connection) -> None:
    """PostgreSQL hands out ids from sequences, which explicit ids do not move: set each
    past the largest id written, or the application's next insert would collide."""
    if connection.dialect.name != "postgresql":
        return
    with _transaction(connection):
        for name in ORDER:
            if not _integer_id(TABLES[name]):
                continue
            connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM \"{name}\"), 0) + 1, false)"))


@contextmanager
def bulk_connection(engine: Engine) -> Iterator[Connection]:
    """One connection for the whole run. On SQLite, durability is traded for speed while
    it lasts (a crash mid-run leaves a scratch database to generate again, nothing real),
    then put back as the application sets it (referrals/database.py)."""
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            raw.execute("PRAGMA synchronous=OFF")
            raw.execute("PRAGMA cache_size=-200000")
            raw.execute("PRAGMA temp_store=MEMORY")
        try:
            yield connection
        finally:
            if sqlite:
                raw.execute("PRAGMA synchronous=NORMAL")
                raw.execute("PRAGMA cache_size=-2000")
                raw.execute("PRAGMA temp_store=DEFAULT")
