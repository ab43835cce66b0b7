"""Engine settings that differ by database."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

# The execution option that marks a connection's transactions as reads only.
READ_ONLY = "kindly_read_only"


def configure_engine(engine: Engine, *, busy_timeout_ms: int = 30_000) -> None:
    """SQLite: foreign keys, WAL, and writers that queue for the lock.

    `busy_timeout_ms` is how long a transaction waits for another's write lock before
    "database is locked". Every transaction queues on that lock (BEGIN IMMEDIATE below),
    so under load it bounds a wait in line, not a rare collision: generous, but finite
    so a stuck writer still surfaces.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, issue BEGIN, so SAVEPOINTs work (SQLAlchemy
        # docs, "Serializable isolation / Savepoints / Transactional DDL").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # WAL: readers never block the writer nor the writer them. NORMAL is durable
        # across application crashes; only a power cut can lose the last commits.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Take the write lock when the transaction begins. A deferred transaction that
        # reads and later writes (every page writes its audit row) cannot wait for the
        # lock: SQLite fails it at once with "database is locked", whatever busy_timeout
        # says, because its snapshot may be stale. IMMEDIATE waits in line instead.
        # A connection that will only read says so (READ_ONLY) and reads beside writers.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN DEFERRED")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def read_only(session) -> None:
    """Declare that `session`'s next transaction only reads, so on SQLite it does not
    queue for the write lock (WAL lets it read beside a writer). A write in it may then
    fail at once with "database is locked": use it only where nothing is written."""
    if not session.in_transaction():
        session.connection(execution_options={READ_ONLY: True})
