"""Versions of a referral: every change moves it on, and is checked against where it started.

Three layers, so that several connectors, a GP system and the scheduler can change one
referral at the same moment and exactly one of two conflicting changes wins:

1. `lock()`: a change first takes the referral's row lock (SELECT … FOR UPDATE on
   PostgreSQL; on SQLite every transaction already holds the write lock from BEGIN
   IMMEDIATE) and re-reads the row, so it decides on the latest state. Additions by
   different people (contacts, measures, connections) simply queue and all land.
2. `check()`: a change someone made from a page or a FHIR `If-Match` names the version it
   started from; if the referral has moved on since, StaleReferral says what changed.
3. The Referral mapper's version_id_col: every UPDATE says `WHERE version = <read>`, and
   referral_change is unique per (referral, version), so a writer that skipped the lock
   still cannot overwrite a newer state (StaleDataError / IntegrityError; see
   `is_lost_race`).

`touch()` moves the version on once per change and logs it as a ReferralChange.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from referrals.errors import StaleReferral
from referrals.extensions import db
from referrals.models import Referral, ReferralChange, User, utcnow

_LOCKED = "kindly.locked_referrals"
SUMMARY_MAX = 200


def for_change(query: Select) -> Select:
    """`query` over Referral, taking the rows' locks and re-reading them: for a request
    that is about to change the referral. Load with this before anything else of the
    referral, so what hangs off it is read after the lock too."""
    return query.with_for_update(of=Referral).execution_options(populate_existing=True)


def mark_locked(referral: Referral) -> None:
    """Record that this transaction holds `referral`'s lock (it was loaded by for_change)."""
    db.session.info.setdefault(_LOCKED, set()).add(referral.id)


def lock(referral: Referral) -> None:
    """Hold the referral's row lock until this transaction ends, with its columns re-read.

    Cheap to call again: once per referral per transaction. A referral not yet in the
    database needs no lock; one this transaction has already changed holds it (its
    UPDATE took it, or failed on a newer version).
    """
    if referral.id is None:
        return
    locked = db.session.info.setdefault(_LOCKED, set())
    if referral.id in locked:
        return
    if db.session.is_modified(referral, include_collections=False):
        db.session.flush()
    else:
        db.session.refresh(referral, with_for_update={"of": Referral})
    locked.add(referral.id)


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: its locks are gone
        session.info.pop(_LOCKED, None)


def reread(obj) -> None:
    """Read something hanging off a locked referral (a follow-up, a connection) afresh, so
    a decision about it is made on its latest state; one with changes of this
    transaction's own is written instead (its UPDATE is version-checked where mapped)."""
    if db.session.is_modified(obj, include_collections=False):
        db.session.flush()
    else:
        db.session.refresh(obj)


def check(referral: Referral, expected: int | None) -> None:
    """Refuse a change made from version `expected` if the referral has moved on.

    None means the caller names no version (an addition, which never conflicts).
    Call after `lock()`, so `referral.version` is the latest.
    """
    if expected is not None and expected != referral.version:
        raise StaleReferral(referral, expected, changes_since(referral, expected))


def begin(referral: Referral, expected: int | None = None) -> None:
    """Lock, then check: the first step of every change to a referral."""
    lock(referral)
    check(referral, expected)


def touch(
    referral: Referral,
    summary: str,
    *,
    actor: User | None,
    actor_label: str = "",
    now: datetime | None = None,
) -> ReferralChange:
    """Move the referral to its next version because of one change, and log it.

    `summary` says what changed in a few words, never free text about the person (it
    is shown to whoever's change then conflicts). The FHIR ServiceRequest and Task take
    the new version as their versionId, and `now` as lastUpdated.
    """
    now = now or utcnow()
    if referral.id is None:
        db.session.flush()
    referral.version = (referral.version or 1) + 1
    referral.updated_at = now
    change = ReferralChange(
        referral_id=referral.id,
        version=referral.version,
        at=now,
        actor_id=actor.id if actor is not None else None,
        actor_label=(actor_label or (actor.name if actor is not None else ""))[:120],
        summary=summary[:SUMMARY_MAX],
    )
    db.session.add(change)
    return change


def changes_since(referral: Referral, version: int) -> list[ReferralChange]:
    """What changed after `version`, oldest first."""
    return list(db.session.scalars(
        select(ReferralChange)
        .where(ReferralChange.referral_id == referral.id, ReferralChange.version > version)
        .order_by(ReferralChange.version)
    ))


def is_lost_race(exc: BaseException) -> bool:
    """A write that lost to a concurrent change of the same referral at the database:
    its UPDATE found a newer version, or another writer took the version number first."""
    if isinstance(exc, StaleDataError):
        return True
    return isinstance(exc, IntegrityError) and "referral_change" in str(exc.orig)
