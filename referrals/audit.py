"""Audit events for every read or change of a person's record.

Callers (views, services, API handlers) record; the caller's commit stores the
event with the work it describes, so a failed change leaves no false trail.
"""
from __future__ import annotations

from flask import has_request_context, request

from referrals.extensions import db
from referrals.models import AuditEvent, User, utcnow


def record(
    action: str,
    *,
    actor: User | None,
    entity_type: str,
    entity_id: int | None = None,
    patient_id: int | None = None,
    actor_label: str = "",
    detail: dict | None = None,
    origin: str | None = None,
) -> AuditEvent:
    """Add one audit event to the session (not flushed: it rides on the caller's commit).
    `origin` is the keyed hash of a public client's address, which the self-referral rate
    limit counts by."""
    event = AuditEvent(
        at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_label=actor_label or (actor.email if actor is not None else ""),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        patient_id=patient_id,
        detail=detail or {},
        # The client address is part of the trail when there is a request.
        ip=(request.remote_addr or "") if has_request_context() else "",
        origin=origin,
    )
    db.session.add(event)
    return event


def record_referral(action: str, referral, *, actor: User | None, **detail) -> AuditEvent:
    return record(
        action,
        actor=actor,
        entity_type="referral",
        entity_id=referral.id,
        patient_id=referral.patient_id,
        detail=detail or None,
    )
