"""SQLite under concurrent writers: each waits for its turn in the order it asked (none
is overtaken until it times out), and a read_only() block holds up no writer.

These need committed data that several connections see, so they use their own engine on
a temp SQLite file instead of the rolled-back `db` fixture. (PostgreSQL has real row
locks; none of this applies there.)
"""
from __future__ import annotations

import gc
import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from referrals.database import WriteTurns, configure_engine, read_only


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    configure_engine(engine, busy_timeout_ms=20_000)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE turn (id INTEGER PRIMARY KEY, who INTEGER)"))
    yield engine
    engine.dispose()


def test_writers_on_sqlite_get_the_write_lock_in_the_order_they_asked_for_it(engine):
    # SQLite's own wait is a poll that backs off to 100 ms, so a writer that has waited
    # a while lost the lock to newcomers: under load some waited out the busy timeout.
    holding, order, threads = threading.Event(), [], []

    def write(who: int, hold: float) -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO turn (who) VALUES (:who)"), {"who": who})
            order.append(who)
            holding.set()
            time.sleep(hold)

    first = threading.Thread(target=write, args=(0, 2.5))
    first.start()
    holding.wait()
    for who in range(1, 7):
        threads.append(threading.Thread(target=write, args=(who, 0.02)))
        threads[-1].start()
        time.sleep(0.3)  # the earlier ones have been waiting longer, and back off more
    for thread in (first, *threads):
        thread.join()

    assert order == list(range(7))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM turn ORDER BY id")).scalars().all() == order


def test_a_writer_that_waits_out_the_busy_timeout_is_told_the_database_is_locked(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'timeout.db'}")
    configure_engine(engine, busy_timeout_ms=300)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            holding.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait()
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError, match="database is locked"), engine.begin() as conn:
            conn.execute(text("SELECT 1"))
        assert 0.25 < time.monotonic() - started < 5
    finally:
        release.set()
        holder.join()
    with engine.begin() as conn:  # the lock is free again, and the timed-out turn gone
        conn.execute(text("INSERT INTO t VALUES (1)"))
    engine.dispose()


def test_a_read_only_block_reads_while_another_writer_holds_the_lock(engine):
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO turn (who) VALUES (1)"))
            holding.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait()
    try:
        with Session(engine) as session:
            started = time.monotonic()
            with read_only(session):
                # A snapshot from before the holder's uncommitted row.
                seen = session.execute(text("SELECT COUNT(*) FROM turn")).scalar_one()
            waited = time.monotonic() - started
            assert not session.in_transaction()  # ended with the block
    finally:
        release.set()
        holder.join()
    assert seen == 0
    assert waited < 1.0


def test_a_read_only_block_inside_an_open_transaction_joins_it(engine):
    with Session(engine) as session:
        session.execute(text("INSERT INTO turn (who) VALUES (5)"))
        with read_only(session):
            assert session.execute(text("SELECT who FROM turn")).scalars().all() == [5]
        assert session.in_transaction()  # not ended early: the insert is still to commit
        session.commit()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM turn")).scalars().all() == [5]


@pytest.mark.parametrize("how", ["invalidated", "dropped"])
def test_a_connection_lost_mid_transaction_gives_its_turn_back(tmp_path, how):
    engine = create_engine(f"sqlite:///{tmp_path / 'lost.db'}")
    configure_engine(engine, busy_timeout_ms=1000)  # a stuck turn fails the test fast
    conn = engine.connect()
    conn.execute(text("CREATE TABLE t (x INTEGER)"))  # holds the turn
    if how == "invalidated":
        conn.invalidate()
        conn.close()
    else:
        del conn  # never closed: the pool resets it when it is collected
        gc.collect()

    with engine.begin() as other:
        other.execute(text("SELECT 1"))
    engine.dispose()


def test_a_turn_not_given_in_time_leaves_the_line():
    turns = WriteTurns()
    assert turns.acquire(timeout=1)
    assert not turns.acquire(timeout=0.05)
    turns.release()  # nobody waiting any more: free
    assert turns.acquire(timeout=0.05)
    turns.release()
