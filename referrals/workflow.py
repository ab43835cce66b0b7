"""The referral state machine: the only place that knows which moves are legal.

    received ──> accepted ──> in_progress ──> completed
       │            │             │
       │            ├────────────>├──> declined           (the person said no)
       │            │             └──> unable_to_contact  (after N attempts)
       ├──> rejected   (not suitable for the service; reason required)
       └──> cancelled  (withdrawn by the referrer)
"""
from __future__ import annotations

from datetime import datetime

from referrals import revisions, signals
from referrals.errors import IllegalTransition, ReasonRequired
from referrals.extensions import db
from referrals.models import (
    Referral,
    ReferralChange,
    ReferralEvent,
    ReferralStatus,
    User,
    utcnow,
)

S = ReferralStatus

TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    S.RECEIVED: frozenset({S.ACCEPTED, S.REJECTED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.DECLINED, S.UNABLE_TO_CONTACT}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.DECLINED, S.UNABLE_TO_CONTACT}),
    S.COMPLETED: frozenset(),
    S.DECLINED: frozenset(),
    S.UNABLE_TO_CONTACT: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}

REASON_REQUIRED = frozenset({S.REJECTED, S.CANCELLED})
# Closing with an outcome for the GP: each gets an outcome letter (signals.referral_closed).
CLOSED_WITH_OUTCOME = frozenset({S.COMPLETED, S.DECLINED, S.UNABLE_TO_CONTACT})


def allowed_moves(status: ReferralStatus) -> frozenset[ReferralStatus]:
    return TRANSITIONS[status]


def can_move(referral: Referral, to: ReferralStatus) -> bool:
    return to in TRANSITIONS[referral.status]


def transition(
    referral: Referral,
    to: ReferralStatus,
    *,
    actor: User | None,
    reason: str = "",
    actor_label: str = "",
    now: datetime | None = None,
) -> ReferralEvent:
    """Move the referral to `to` and record the event in the same transaction.

    Raises IllegalTransition for a move the diagram does not allow, and
    ReasonRequired when rejecting or cancelling without a reason. Flushes; the
    caller commits.
    """
    to = ReferralStatus(to)
    revisions.lock(referral)
    if to not in TRANSITIONS[referral.status]:
        raise IllegalTransition(referral.status, to)
    reason = (reason or "").strip()
    if to in REASON_REQUIRED and not reason:
        raise ReasonRequired(to)
    now = now or utcnow()
    event = ReferralEvent(
        referral=referral,
        at=now,
        actor=actor,
        actor_label=actor_label,
        from_status=referral.status,
        to_status=to,
        reason=reason,
    )
    db.session.add(event)
    revisions.touch(referral, f"Status: {referral.status.label.lower()} → {to.label.lower()}",
                    actor=actor, actor_label=actor_label, now=now)
    referral.status = to
    db.session.flush()
    if to in CLOSED_WITH_OUTCOME:
        signals.referral_closed.send(referral, event=event, actor=actor,
                                     actor_label=actor_label, now=now)
    return event


def record_creation(
    referral: Referral, *, actor: User | None, actor_label: str = "", now: datetime
) -> ReferralEvent:
    """The first event of every referral: it arrived as `received` (its version 1)."""
    db.session.add(ReferralChange(
        referral_id=referral.id, version=referral.version or 1, at=now,
        actor_id=actor.id if actor is not None else None,
        actor_label=(actor_label or (actor.name if actor is not None else ""))[:120],
        summary="Referral received"))
    event = ReferralEvent(
        referral=referral,
        at=now,
        actor=actor,
        actor_label=actor_label,
        from_status=None,
        to_status=referral.status,
        reason="Referral received",
    )
    db.session.add(event)
    return event


def record_assignment(
    referral: Referral,
    connector: User | None,
    *,
    actor: User | None,
    reason: str = "",
    actor_label: str = "",
    now: datetime | None = None,
) -> ReferralEvent:
    """Give the referral to `connector` (None: back to the team queue), as an event.

    The status does not change; the event records who now holds the referral and why.
    Bumps the version (the FHIR Task's owner changes). Flushes; the caller commits.
    """
    now = now or utcnow()
    revisions.lock(referral)
    holder = connector.name if connector is not None else "the team queue"
    note = f"Assigned to {holder}" + (f": {reason.strip()}" if reason and reason.strip() else "")
    event = ReferralEvent(
        referral=referral,
        at=now,
        actor=actor,
        actor_label=actor_label,
        from_status=referral.status,
        to_status=referral.status,
        reason=note,
        kind="assignment",
    )
    db.session.add(event)
    revisions.touch(referral, f"Assigned to {holder}", actor=actor, actor_label=actor_label,
                    now=now)
    referral.connector = connector
    db.session.flush()
    return event
