"""Ask the database how it runs the app's own queries.

`captured()` records the statements (with their parameters) the code under test sends
through the test's connection; `plan()` asks for each one's plan: SQLite's EXPLAIN QUERY
PLAN, or PostgreSQL's EXPLAIN with sequential scans switched off for the transaction, so
that a small test table still shows which index the query can use.
"""
from __future__ import annotations

import re
from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def captured(db):
    """The (statement, parameters) the code in the block sends, SELECTs only."""
    found: list[tuple[str, object]] = []
    connection = db.session.connection()

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and not executemany:
            found.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield found
    finally:
        event.remove(connection, "before_cursor_execute", record)


def plan(db, statement: str, parameters) -> str:
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        return "\n".join(row[-1] for row in rows)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
    return "\n".join(row[0] for row in rows)


def uses_index(db, text: str, index: str) -> bool:
    """Does this plan read through `index`? SQLite says USING [COVERING] INDEX <name>;
    PostgreSQL names it in an Index Scan, Index Only Scan or Bitmap Index Scan."""
    if db.session.connection().dialect.name == "sqlite":
        return re.search(rf"USING (COVERING )?INDEX {re.escape(index)}\b", text) is not None
    return re.search(rf"Index (Only )?Scan (Backward )?(using|on) {re.escape(index)}\b", text) \
        is not None


def plans_reading(db, statements, pattern: str) -> list[str]:
    """The plans of the captured statements whose SQL matches `pattern`."""
    chosen = [(sql, params) for sql, params in statements if re.search(pattern, sql)]
    assert chosen, f"no statement matched {pattern!r}: the capture is broken"
    return [plan(db, sql, params) for sql, params in chosen]


def analyze(db, *tables: str) -> None:
    """On PostgreSQL, give the planner this transaction's rows as its statistics, so a
    plan does not rest on the guesses it makes for a table it has never measured (the
    rows inserted by this transaction count; nothing is committed). SQLite plans without
    statistics, as a fresh installation does."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        for table in tables:
            connection.exec_driver_sql(f"ANALYZE {table}")
