"""Stored outcome letters: each version rendered once, hashed, numbered and kept as it was.

`produce_letter` renders and stores in one go (a close, a connector's request);
`render_letter` and `store_letter` are its two halves, so the batch command can render
in worker processes and store the bytes in the parent.
"""
from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from referrals import audit, revisions, workflow
from referrals.extensions import db
from referrals.models import OutcomeLetter, Referral, ReferralEvent, User, utcnow
from referrals.workdays import UK


def render_letter(referral: Referral, *, now: datetime) -> bytes:
    """The letter's PDF as it reads at `now`; touches nothing in the database."""
    from reports import letters  # WeasyPrint loads only when a letter is first made

    return letters.outcome_letter_pdf(referral, now=now)


def produce_letter(
    referral: Referral,
    *,
    trigger,
    actor: User | None,
    actor_label: str = "",
    now: datetime | None = None,
) -> OutcomeLetter:
    """Render the referral's outcome letter and store it as its next version.

    Never changes an earlier version. Audits and flushes; the caller commits.
    """
    now = now or utcnow()
    pdf = render_letter(referral, now=now)
    return store_letter(referral, pdf, trigger=trigger, actor=actor, actor_label=actor_label,
                        now=now)


def store_letter(
    referral: Referral,
    pdf: bytes,
    *,
    trigger,
    actor: User | None,
    actor_label: str = "",
    coded_only: bool | None = None,
    has_actions: bool | None = None,
    now: datetime | None = None,
) -> OutcomeLetter:
    """Store `pdf` (rendered for this referral) as the referral's next letter version.

    `coded_only` and `has_actions` are what the PDF was rendered with (default: the
    referral's choice and its GP actions now).
    Two writers may number the same version at once: the unique (referral, number)
    constraint stops the second, which then takes the next number (once).
    """
    from reports.pdf import page_count

    now = now or utcnow()
    revisions.lock(referral)
    facts = {
        "referral_id": referral.id,
        "practice_id": referral.practice_id,
        "trigger": trigger,
        "created_at": now,
        "created_by_id": actor.id if actor is not None else None,
        "created_by_label": (actor_label or (actor.name if actor is not None else ""))[:120],
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "size": len(pdf),
        "pages": page_count(pdf),
        "coded_only": referral.coded_only if coded_only is None else coded_only,
        "has_actions": has_gp_actions(referral) if has_actions is None else has_actions,
        "pdf": pdf,
    }
    try:
        letter = _insert(facts)
    except IntegrityError:
        letter = _insert(facts)
    if "letters" in referral.__dict__:
        db.session.expire(referral, ["letters"])  # a loaded list would miss the new version
    # The Task's output now names this version: GP systems polling the Task must see a
    # new versionId and _lastUpdated.
    revisions.touch(referral, f"Outcome letter version {letter.number} made", actor=actor,
                    actor_label=actor_label, now=letter.created_at)
    audit.record(
        "create",
        actor=actor,
        actor_label=actor_label,
        entity_type="outcome-letter",
        entity_id=letter.id,
        patient_id=referral.patient_id,
        detail={"referral_id": referral.id, "number": letter.number,
                "trigger": str(trigger), "sha256": letter.sha256},
    )
    db.session.flush()
    return letter


def has_gp_actions(referral: Referral) -> bool:
    """Whether a letter made now asks the practice to do something."""
    return bool((referral.gp_actions or "").strip())


def _insert(facts: dict) -> OutcomeLetter:
    # A savepoint, so losing the race for a number leaves the caller's transaction usable.
    with db.session.begin_nested():
        letter = OutcomeLetter(number=_next_number(facts["referral_id"]), **facts)
        db.session.add(letter)
        db.session.flush()
    return letter


def _next_number(referral_id: int) -> int:
    latest = db.session.scalar(
        select(func.max(OutcomeLetter.number)).where(OutcomeLetter.referral_id == referral_id))
    return (latest or 0) + 1


def latest_letter(referral: Referral) -> OutcomeLetter | None:
    """The referral's newest letter version (its PDF not loaded), or None."""
    return letter_version(referral, None)


def letter_version(referral: Referral, number: int | None) -> OutcomeLetter | None:
    """Version `number` of the referral's letter (None: the newest), or None."""
    query = select(OutcomeLetter).where(OutcomeLetter.referral_id == referral.id)
    if number is not None:
        query = query.where(OutcomeLetter.number == number)
    return db.session.scalars(query.order_by(OutcomeLetter.number.desc()).limit(1)).first()


def outstanding(since: date) -> Select:
    """Ids of referrals that closed with an outcome on or after `since` (a UK date) and
    have no letter yet, oldest first."""
    start = datetime.combine(since, time(), tzinfo=UK).astimezone(UTC)
    closed_since = (
        select(ReferralEvent.id)
        .where(ReferralEvent.referral_id == Referral.id,
               ReferralEvent.kind == "status",
               ReferralEvent.to_status == Referral.status,
               ReferralEvent.at >= start)
    )
    has_letter = select(OutcomeLetter.id).where(OutcomeLetter.referral_id == Referral.id)
    return (
        select(Referral.id)
        .where(Referral.status.in_(workflow.CLOSED_WITH_OUTCOME),
               closed_since.exists(), ~has_letter.exists())
        .order_by(Referral.id)
    )
