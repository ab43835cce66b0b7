"""Jobs: work that can be slow or fail (rendering a PDF) runs after the change that caused
it has committed, never inside it, and is retried until it succeeds.

A change `enqueue()`s a job in its own transaction (so a change that rolls back leaves no
job, and a committed one always has its job). After the request, the job is run: in this
thread (JOBS_RUN = "after-request", the test default), on a background thread of this
process ("thread", `make run` and web workers), or only by the scheduler's sweep ("").
Whoever runs it first claims it in the database, so any number of processes may try.

A handler has two halves, so no transaction is held while the slow part runs (on SQLite
every transaction holds the write lock):
- `prepare(payload)` reads what it needs; the runner then ends that transaction and
  calls the result if it is callable (the slow part, touching no database);
- `store(payload, prepared)` writes the result, in the same transaction that marks the
  job done; if the claim was lost meanwhile (the job was taken over), nothing is stored.
"""
from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from referrals.extensions import db
from referrals.models import Job, JobStatus, utcnow

log = logging.getLogger(__name__)

# Back-off before each retry; after the last, the job is failed and says why.
RETRY_AFTER = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
               timedelta(hours=2), timedelta(hours=8))
# A claim not finished in this time is presumed dead (a crashed worker) and taken over.
LEASE = timedelta(minutes=10)
ERROR_MAX = 2000


@dataclass(frozen=True)
class Handler:
    prepare: Callable[[dict], Any]
    store: Callable[[dict, Any], None]


HANDLERS: dict[str, Handler] = {}


def register(kind: str, *, prepare: Callable[[dict], Any],
             store: Callable[[dict, Any], None]) -> None:
    """Say how jobs of `kind` run (create_app wires the kinds that live outside the domain)."""
    HANDLERS[kind] = Handler(prepare, store)


# --- making jobs -------------------------------------------------------------------


def enqueue(kind: str, key: str, payload: dict, *, now: datetime | None = None) -> Job | None:
    """Add a job to the caller's transaction, once per `key`: a second enqueue of the same
    key (the same cause) adds nothing and returns None. Flushes; the caller commits."""
    now = now or utcnow()
    if db.session.scalar(select(Job.id).where(Job.key == key)) is not None:
        return None
    job = Job(kind=kind, key=key, payload=payload, status=JobStatus.PENDING, attempts=0,
              run_after=now, created_at=now, claim_token="", last_error="")
    try:
        with db.session.begin_nested():
            db.session.add(job)
            db.session.flush()
    except IntegrityError:  # the same cause, enqueued by a concurrent transaction
        return None
    if has_request_context():
        g.kindly_jobs_enqueued = True
    return job


def waiting(kind: str, key_prefix: str) -> Job | None:
    """The oldest job of `kind` whose key starts with `key_prefix` that is still to run (or
    running), or None. Its `last_error` says why an earlier attempt failed."""
    return db.session.scalars(
        select(Job).where(Job.kind == kind, Job.key.startswith(key_prefix, autoescape=True),
                          Job.status.in_((JobStatus.PENDING, JobStatus.RUNNING)))
        .order_by(Job.id).limit(1)
    ).first()


# --- running jobs ------------------------------------------------------------------


def run_due(*, now: datetime | None = None, limit: int = 20) -> int:
    """Claim and run jobs that are due, oldest first, up to `limit`. Returns how many
    finished. Commits: the caller must have committed its own work first."""
    done = 0
    for _ in range(limit):
        claimed = _claim_next(now or utcnow())
        if claimed is None:
            break
        done += _run(*claimed)
    return done


def _due(now: datetime):
    return or_(
        and_(Job.status == JobStatus.PENDING, Job.run_after <= now),
        and_(Job.status == JobStatus.RUNNING, Job.claimed_at < now - LEASE),
    )


def _claim_next(now: datetime) -> tuple[int, str] | None:
    """Take the oldest due job, or None. Of two runners, one UPDATE wins each job."""
    for job_id in db.session.scalars(
            select(Job.id).where(_due(now)).order_by(Job.run_after, Job.id).limit(5)).all():
        token = secrets.token_hex(16)
        result = db.session.execute(
            update(Job).where(Job.id == job_id, _due(now))
            .values(status=JobStatus.RUNNING, claim_token=token, claimed_at=now,
                    attempts=Job.attempts + 1)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            db.session.commit()
            return job_id, token
    db.session.commit()
    return None


def _run(job_id: int, token: str) -> int:
    job = db.session.get(Job, job_id)
    kind, payload, attempts = job.kind, dict(job.payload or {}), job.attempts
    try:
        handler = HANDLERS[kind]
        prepared = handler.prepare(payload)
        db.session.rollback()  # end the read before the slow part
        if callable(prepared):
            prepared = prepared()
        if not _finish(job_id, token):
            db.session.rollback()
            log.warning("Job %s was taken over by another runner; its result is dropped",
                        job_id)
            return 0
        handler.store(payload, prepared)
        db.session.commit()
        return 1
    except Exception as exc:  # any failure: retried later, never lost
        db.session.rollback()
        log.exception("Job %s (%s) failed on attempt %d", job_id, kind, attempts)
        _fail(job_id, token, attempts, exc)
        return 0


def _finish(job_id: int, token: str) -> bool:
    result = db.session.execute(
        update(Job).where(Job.id == job_id, Job.claim_token == token,
                          Job.status == JobStatus.RUNNING)
        .values(status=JobStatus.DONE, finished_at=utcnow(), last_error="")
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _fail(job_id: int, token: str, attempts: int, exc: Exception) -> None:
    now = utcnow()
    final = attempts > len(RETRY_AFTER)
    delay = RETRY_AFTER[min(attempts, len(RETRY_AFTER)) - 1]
    db.session.execute(
        update(Job).where(Job.id == job_id, Job.claim_token == token)
        .values(status=JobStatus.FAILED if final else JobStatus.PENDING,
                run_after=now if final else now + delay,
                finished_at=now if final else None,
                last_error=f"{type(exc).__name__}: {exc}"[:ERROR_MAX])
        .execution_options(synchronize_session=False))
    db.session.commit()


# --- after the request ---------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Run what a request enqueued once it has committed, as JOBS_RUN says."""

    @app.after_request
    def _after(response):
        if g.pop("kindly_jobs_enqueued", False):
            mode = current_app.config.get("JOBS_RUN", "thread")
            if mode == "after-request":
                try:
                    run_due()
                except Exception:  # the response stands; the sweep retries
                    db.session.rollback()
                    log.exception("Running jobs after the request failed")
            elif mode == "thread":
                _runner(current_app._get_current_object()).wake()
        return response


class _Runner:
    """One background thread per process that runs due jobs when woken."""

    def __init__(self, app: Flask):
        self.app = app
        self.event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="kindly-jobs", daemon=True)
        self.thread.start()

    def wake(self) -> None:
        self.event.set()

    def _loop(self) -> None:
        while True:
            self.event.wait()
            self.event.clear()
            with self.app.app_context():
                try:
                    while run_due():
                        pass
                except Exception:
                    log.exception("The job runner failed; the scheduler's sweep retries")
                finally:
                    db.session.remove()


_runners: dict[int, _Runner] = {}
_runners_lock = threading.Lock()


def _runner(app: Flask) -> _Runner:
    with _runners_lock:
        if id(app) not in _runners:
            _runners[id(app)] = _Runner(app)
        return _runners[id(app)]
