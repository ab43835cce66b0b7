"""Throttling runs on every sign-in and reads a table that only grows: each of its
queries must use an index, on SQLite and PostgreSQL alike."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import event

from referrals.auth import throttle

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def statements_of(db, work):
    """The SQL statements (with their parameters) that `work()` sends."""
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "login_attempt" in statement:  # not the test fixture's SAVEPOINTs
            seen.append((statement, parameters))

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return seen


def plan(db, statement, parameters) -> str:
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return "\n".join(str(row[-1]) for row in rows)
    # Small test tables make a sequential scan look cheapest; forbid it to see the plan
    # the planner would choose for a big table.
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
    return "\n".join(row[0] for row in rows)


def test_every_throttling_query_uses_a_login_attempt_index(db):
    queries = statements_of(db, lambda: throttle.check("someone@test.example", "203.0.113.7",
                                                       NOW))

    assert len(queries) == 3  # the address, the pair's last success, the pair's failures
    for statement, parameters in queries:
        explained = plan(db, statement, parameters)
        assert "ix_login_attempt_" in explained, (statement, explained)
        # A search of the index, not a walk through the table (or the whole index).
        assert "Seq Scan" not in explained, explained
        assert not re.search(r"^SCAN ", explained, re.MULTILINE), explained
