"""Count what a piece of code asks of the database: the rows it fetches into Python and
the statements it sends (`reads`), and the work the database does for it (`work`). Lists
must be bounded: these numbers must not grow with the data.

Rows are counted by the DB-API connection's row factory (sqlite3 and psycopg both call it
once per row fetched), so nothing the code under test does is changed.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event


@dataclass
class Reads:
    rows: int = 0
    statements: list[str] = field(default_factory=list)


@contextmanager
def reads(db):
    """Count the rows fetched and the statements sent through the test's connection."""
    found = Reads()
    connection = db.session.connection()
    raw = connection.connection.dbapi_connection
    previous = raw.row_factory
    if isinstance(raw, sqlite3.Connection):
        def counted(cursor, row):
            found.rows += 1
            return previous(cursor, row) if previous else row
    else:  # psycopg 3: a factory that makes each cursor's row maker
        def counted(cursor):
            make = previous(cursor)

            def row(values):
                found.rows += 1
                return make(values)
            return row

    def statement(conn, cursor, text, *args):
        found.statements.append(text)

    raw.row_factory = counted
    event.listen(connection, "before_cursor_execute", statement)
    try:
        yield found
    finally:
        event.remove(connection, "before_cursor_execute", statement)
        raw.row_factory = previous


@dataclass
class Work:
    done: int = 0


@contextmanager
def work(db, table: str):
    """How much the database examines while the block runs: on SQLite the virtual machine's
    steps, on PostgreSQL the rows of `table` read by scans and fetched through indexes (its
    statistics for this transaction). Neither should grow with rows a query does not need."""
    found = Work()
    connection = db.session.connection()
    raw = connection.connection.dbapi_connection
    if isinstance(raw, sqlite3.Connection):
        def step():
            found.done += 1
            return 0
        raw.set_progress_handler(step, 1)
        try:
            yield found
        finally:
            raw.set_progress_handler(None, 1)
        return

    def read() -> int:
        return connection.exec_driver_sql(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
            "FROM pg_stat_xact_user_tables WHERE relname = %(table)s", {"table": table}).scalar()

    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    before = read()
    yield found
    found.done = read() - before
