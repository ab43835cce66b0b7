"""`flask --app wsgi letters --since DATE`: every outstanding outcome letter.

WeasyPrint is CPU-bound Python, so the letters are rendered in a pool of worker
processes (threads would share one GIL). Each worker builds its own app from the same
settings and only reads; the parent alone writes, storing and committing each PDF as it
arrives. On SQLite every transaction holds the write lock (referrals/database.py), so the
parent never keeps one open while it waits for the workers. Workers are started with "spawn", so none inherits the parent's
database connections.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import time
from collections.abc import Iterable, Iterator
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import selectinload

from referrals.extensions import db
from referrals.models import LetterTrigger, Referral, utcnow
from reports import store

BATCH_LABEL = "flask letters"


def register(app: Flask) -> None:
    app.cli.add_command(letters_command)


@click.command("letters")
@click.option("--since", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Referrals closed on or after this day (YYYY-MM-DD, UK time).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Rendering processes [default: the number of CPUs].")
@with_appcontext
def letters_command(since: datetime, workers: int | None) -> None:
    """Produce every outstanding outcome letter (closed since DATE, no letter yet)."""
    ids = list(db.session.scalars(store.outstanding(since.date())))
    db.session.rollback()  # end the read, so workers never wait on our transaction
    if not ids:
        click.echo(f"No outstanding letters for referrals closed since {since:%Y-%m-%d}.")
        return
    workers = min(workers or _cpu_count(), len(ids))
    click.echo(f"{len(ids)} outstanding letters; rendering with {workers} "
               f"worker process{'es' if workers != 1 else ''}.")
    started = time.perf_counter()
    now = utcnow()
    produced, failed, first_at = _store_all(_rendered(ids, workers=workers, now=now),
                                            total=len(ids))
    finished = time.perf_counter()
    elapsed = finished - started
    rate = produced / elapsed if elapsed else 0.0
    click.echo(f"Produced {produced} letters in {elapsed:.1f}s ({rate:.1f} letters/second, "
               f"of which {first_at - started:.1f}s until the first letter: starting the "
               "workers and their first render).")
    if failed:
        click.echo(f"{len(failed)} letters failed:", err=True)
        for reference, error in failed:
            click.echo(f"  {reference}: {error}", err=True)
        raise SystemExit(1)


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _store_all(results: Iterable[tuple[int, bytes | None, str]], *, total: int
               ) -> tuple[int, list[tuple[str, str]], float]:
    """Store and commit each rendered letter as it arrives. Returns how many were stored,
    the failures, and when the first result arrived."""
    produced, failed, first_at = 0, [], None
    with click.progressbar(length=total, label="Letters", show_pos=True) as bar:
        for referral_id, pdf, error in results:
            first_at = first_at or time.perf_counter()
            bar.update(1)
            referral = db.session.get(Referral, referral_id)
            if pdf is None:
                failed.append((referral.reference if referral else str(referral_id), error))
            elif store.latest_letter(referral) is None:  # else written meanwhile
                store.store_letter(referral, pdf, trigger=LetterTrigger.BATCH, actor=None,
                                   actor_label=BATCH_LABEL)
                produced += 1
            db.session.commit()
    return produced, failed, first_at or time.perf_counter()


def _rendered(ids: list[int], *, workers: int, now: datetime
              ) -> Iterator[tuple[int, bytes | None, str]]:
    """(referral id, PDF or None, error) for each id, in the order they finish."""
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(workers, initializer=_start_worker, initargs=(_settings(), now))
    try:
        yield from pool.imap_unordered(_render, ids)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _settings() -> dict:
    """This app's settings, for each worker's own create_app (what cannot be sent is left
    to the worker's defaults, environment and instance file, as it was for this one)."""
    settings = {}
    for key, value in current_app.config.items():
        try:
            pickle.dumps(value)
        except Exception:  # noqa: BLE001, S112 — e.g. a function an extension put in the config
            continue
        settings[key] = value
    return settings


# --- in the worker processes -----------------------------------------------------------------

_worker: dict = {}


def _start_worker(settings: dict, now: datetime) -> None:
    from referrals import create_app

    app = create_app(settings)
    app.app_context().push()  # for the life of the worker process
    _worker["now"] = now


def _render(referral_id: int) -> tuple[int, bytes | None, str]:
    """Render one referral's letter; report a failure rather than raise, so one bad
    letter does not stop the batch."""
    try:
        referral = db.session.get(Referral, referral_id, options=[
            selectinload(Referral.patient), selectinload(Referral.practice)])
        return referral_id, store.render_letter(referral, now=_worker["now"]), ""
    except Exception as exc:  # noqa: BLE001 — any failure: named in the parent's report
        return referral_id, None, f"{type(exc).__name__}: {exc}"
    finally:
        db.session.remove()  # end the read transaction before the next letter
