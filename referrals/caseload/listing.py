"""Bounded reads for the triage queue and a connector's caseload (no N+1)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from referrals.access import ACTIVE_STATUSES, scope
from referrals.extensions import db
from referrals.models import (
    Contact,
    FollowUp,
    FollowUpStatus,
    Referral,
    ReferralStatus,
    Urgency,
    User,
)

QUEUE_LIMIT = 100
# A caseload is about 40 people; the bound keeps a mistake from reading the whole hub.
CASELOAD_LIMIT = 200
_URGENT_FIRST = case((Referral.urgency == Urgency.URGENT, 0), else_=1)


def first_contact_overdue(referral: Referral, today: date) -> bool:
    return (
        referral.first_contact_at is None
        and referral.first_contact_due is not None
        and referral.first_contact_due < today
    )


@dataclass
class Queue:
    unassigned: list[Referral]
    # Received referrals routed to this connector, waiting for them to accept.
    routed_to_me: list[Referral]


def triage_queue(user: User) -> Queue:
    """The team's received, unassigned referrals, urgent first then oldest."""
    base = (
        # scope() keeps it to the user's team: a connector's queue and what is routed to them.
        scope(select(Referral), user)
        .where(Referral.status == ReferralStatus.RECEIVED)
        .order_by(_URGENT_FIRST, Referral.created_at, Referral.id)
        .limit(QUEUE_LIMIT)
        .options(selectinload(Referral.patient))
    )
    unassigned = list(db.session.scalars(base.where(Referral.connector_id.is_(None))))
    routed = list(db.session.scalars(base.where(Referral.connector_id == user.id)))
    return Queue(unassigned=unassigned, routed_to_me=routed)


@dataclass
class CaseloadRow:
    referral: Referral
    next_follow_up: date | None
    last_contact_at: datetime | None
    first_contact_overdue: bool
    follow_up_overdue: bool

    @property
    def overdue(self) -> bool:
        return self.first_contact_overdue or self.follow_up_overdue

    @property
    def has_risks(self) -> bool:
        return bool(self.referral.risks)


@dataclass
class Caseload:
    rows: list[CaseloadRow]
    counts: dict[ReferralStatus, int]
    overdue_count: int
    # Received referrals routed to this connector that they have not yet accepted.
    waiting_to_accept: int = 0


def caseload(
    user: User, *, today: date, status: ReferralStatus | None = None, overdue_only: bool = False
) -> Caseload:
    """The connector's active referrals, what needs doing now first.

    Four queries whatever the size: the referrals (with their people), the next
    scheduled follow-up of each, the latest contact of each, and how many routed
    referrals wait for the connector to accept them.
    """
    referrals = list(db.session.scalars(
        scope(select(Referral), user)
        .where(Referral.connector_id == user.id, Referral.status.in_(ACTIVE_STATUSES))
        .order_by(Referral.created_at, Referral.id)
        .limit(CASELOAD_LIMIT)
        .options(selectinload(Referral.patient))
    ))
    ids = [r.id for r in referrals]
    next_due = dict(db.session.execute(
        select(FollowUp.referral_id, func.min(FollowUp.due_on))
        .where(FollowUp.referral_id.in_(ids), FollowUp.status == FollowUpStatus.SCHEDULED)
        .group_by(FollowUp.referral_id)
    ).all()) if ids else {}
    last_contact = dict(db.session.execute(
        select(Contact.referral_id, func.max(Contact.at))
        .where(Contact.referral_id.in_(ids))
        .group_by(Contact.referral_id)
    ).all()) if ids else {}
    rows = [
        CaseloadRow(
            referral=r,
            next_follow_up=next_due.get(r.id),
            last_contact_at=last_contact.get(r.id),
            first_contact_overdue=first_contact_overdue(r, today),
            follow_up_overdue=next_due.get(r.id) is not None and next_due[r.id] < today,
        )
        for r in referrals
    ]
    counts = Counter(row.referral.status for row in rows)
    overdue_count = sum(1 for row in rows if row.overdue)
    if status is not None:
        rows = [row for row in rows if row.referral.status is status]
    if overdue_only:
        rows = [row for row in rows if row.overdue]
    rows.sort(key=lambda row: (
        not row.overdue,
        row.referral.urgency is not Urgency.URGENT,
        row.next_follow_up or row.referral.first_contact_due or date.max,
        row.referral.created_at,
    ))
    waiting = db.session.scalar(
        scope(select(func.count(Referral.id)), user)
        .where(Referral.connector_id == user.id, Referral.status == ReferralStatus.RECEIVED)
    ) or 0
    return Caseload(
        rows=rows,
        counts={s: counts.get(s, 0) for s in sorted(ACTIVE_STATUSES)},
        overdue_count=overdue_count,
        waiting_to_accept=waiting,
    )
