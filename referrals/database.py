"""Engine settings that differ by database."""
from __future__ import annotations

import sqlite3
import threading
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, scoped_session

_READ_ONLY = "kindly_read_only"


@contextmanager
def read_only(session: Session | scoped_session) -> Iterator[None]:
    """A read that holds up no writer, ended when the block ends: for what a request
    reads before slow work (a password hash, a network call) and then writes.

    On SQLite every transaction holds the write lock from its first statement (below),
    so a read followed by slow work would keep every other writer waiting. Begun here,
    with no transaction open, the read is a deferred one (a WAL snapshot, no lock) and is
    rolled back as the block ends, before the slow work. Inside a transaction already
    open, or with changes waiting to be flushed, the block simply joins it: that
    transaction cannot end early. Only read inside the block.
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction() or session.new or session.dirty or session.deleted:
        yield
        return
    session.connection(execution_options={_READ_ONLY: True})
    try:
        yield
    finally:
        session.rollback()


def configure_engine(engine: Engine, *, busy_timeout_ms: int = 30_000) -> None:
    """SQLite: foreign keys, WAL, and writers that queue for the lock, in turn.

    `busy_timeout_ms` is how long a transaction waits for another's write lock before
    "database is locked". Every transaction queues on that lock (BEGIN IMMEDIATE below),
    so under load it bounds a wait in line, not a rare collision: generous, but finite
    so a stuck writer still surfaces.
    """
    if engine.dialect.name != "sqlite":
        return
    turns = WriteTurns()
    holder = _TurnHolder(turns)

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
        if connection.get_execution_options().get(_READ_ONLY):
            connection.exec_driver_sql("BEGIN")  # read_only(): a snapshot, no lock
            return
        # Take the write lock when the transaction begins. A deferred transaction that
        # reads and later writes (every page writes its audit row) cannot wait for the
        # lock: SQLite fails it at once with "database is locked", whatever busy_timeout
        # says, because its snapshot may be stale. IMMEDIATE waits in line instead.
        #
        # The line is kept in this process first. SQLite's own wait is a poll that
        # backs off to 100 ms, so a writer that has waited a while loses the lock to
        # newcomers again and again: with 30 people at once some waited out the whole
        # busy timeout and failed. Here each thread sleeps until its turn, in order of
        # arrival; busy_timeout is left for other processes (a CLI command, a second
        # scheduler), of which there are few.
        if not turns.acquire(timeout=busy_timeout_ms / 1000):
            # As SQLite would say it, so callers that handle one handle both.
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError(
                "database is locked (no turn to write within the busy timeout)"))
        holder.take(connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            holder.give_back(connection)
            raise

    # Commit and rollback both end the turn (a failed commit is rolled back after; the
    # second is a no-op).
    event.listen(engine, "commit", holder.give_back)
    event.listen(engine, "rollback", holder.give_back)


class _TurnHolder:
    """Which connection holds the write turn, so only it gives the turn back.

    Known by the Connection object, not by its DBAPI connection's `info`, which cannot
    be read once the connection is invalidated; and weakly, so a connection dropped
    without a rollback still gives its turn back when it is collected, as SQLite's own
    lock would be released when the pool resets it.
    """

    def __init__(self, turns: WriteTurns) -> None:
        self._turns = turns
        # Re-entrant: the collector may run _collected() in a thread already inside.
        self._mutex = threading.RLock()
        self._held_by: weakref.ref | None = None

    def take(self, connection) -> None:
        with self._mutex:
            self._held_by = weakref.ref(connection, self._collected)

    def give_back(self, connection) -> None:
        with self._mutex:
            if self._held_by is None or self._held_by() is not connection:
                return
            self._held_by = None
        self._turns.release()

    def _collected(self, ref: weakref.ref) -> None:
        with self._mutex:
            if self._held_by is not ref:
                return
            self._held_by = None
        self._turns.release()


class WriteTurns:
    """A lock handed to its waiters in the order they asked for it.

    threading.Lock promises no order: a thread that has just asked can take it ahead of
    one that has been asleep for seconds. Here each waiter sleeps on a gate of its own
    and release() opens the oldest.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self, *, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            gate = threading.Lock()
            gate.acquire()
            self._waiting.append(gate)
        if gate.acquire(timeout=timeout):
            return True  # handed over by release(): still held, now by us
        with self._mutex:
            try:
                self._waiting.remove(gate)
            except ValueError:
                return True  # handed over as the wait ran out: ours after all
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._held = False
