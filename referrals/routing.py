"""Routing: which team, and which connector in it, a new referral goes to.

The practice's team takes the referral. Within the team it goes to the active
connector with the most spare capacity (stated capacity minus active caseload:
referrals they hold that are received, accepted or in progress). Connectors away
that day, with no stated capacity, or with no room left are skipped. When nobody
can take it, the referral waits unassigned in the team queue and shows as
"waiting for capacity" until a coordinator assigns it or routes the queue again.

Ties on spare capacity are broken fairly and predictably: first the connector
given the fewest referrals in the last RECENT_DAYS days, then the one who has
gone longest since their most recent referral, then the lowest id.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import selectinload

from referrals import access, revisions, workdays, workflow
from referrals.extensions import db
from referrals.models import (
    OPEN_STATUSES,
    AwayPeriod,
    Referral,
    ReferralStatus,
    Team,
    Urgency,
    User,
    utcnow,
)

# Who the assignment event names when routing, not a person, gave out the referral.
ROUTING_ACTOR = "Kindly routing"
RECENT_DAYS = 28


@dataclass(frozen=True)
class ConnectorLoad:
    """One connector's active caseload against their capacity, on one day."""

    connector: User
    active: int
    away: bool
    recent: int = 0
    last_assigned: datetime | None = None

    @property
    def capacity(self) -> int | None:
        return self.connector.capacity

    @property
    def spare(self) -> int:
        """Room for new referrals; no stated capacity means no room."""
        return max((self.capacity or 0) - self.active, 0)

    @property
    def over_capacity(self) -> bool:
        return self.capacity is not None and self.active > self.capacity

    @property
    def full(self) -> bool:
        return self.spare == 0

    @property
    def available(self) -> bool:
        """Whether routing would give this connector a new referral today."""
        return not self.away and self.spare > 0


def team_workload(team_id: int, *, on: date, now: datetime | None = None) -> list[ConnectorLoad]:
    """Every active connector in the team with their caseload, by name.

    Reads only what the figures need, never a connector's whole history: their open
    referrals (ix_referral_connector_status), those made in the last RECENT_DAYS days and
    the newest one (ix_referral_connector_created)."""
    now = now or utcnow()
    last = (select(func.max(Referral.created_at)).where(Referral.connector_id == User.id)
            .correlate(User).scalar_subquery())
    connectors = db.session.execute(
        select(User, last).where(access.caseload_holders(team_id)).order_by(User.name, User.id)
        # Their time away from `on` onwards, all connectors in one query (is_away_on).
        .options(selectinload(User.away_periods.and_(AwayPeriod.ends_on >= on)))
    ).all()
    if not connectors:
        return []
    ids = [connector.id for connector, _ in connectors]
    active = dict(db.session.execute(open_caseloads(ids)).all())
    recent = dict(db.session.execute(recent_assignments(ids, now - timedelta(days=RECENT_DAYS)))
                  .all())
    return [ConnectorLoad(connector, int(active.get(connector.id, 0)), connector.is_away_on(on),
                          int(recent.get(connector.id, 0)), latest)
            for connector, latest in connectors]


def open_caseloads(connector_ids: list[int]) -> Select:
    """(connector id, how many open referrals they hold)."""
    return (select(Referral.connector_id, func.count())
            .where(Referral.connector_id.in_(connector_ids), Referral.status.in_(OPEN_STATUSES))
            .group_by(Referral.connector_id))


def recent_assignments(connector_ids: list[int], since: datetime) -> Select:
    """(connector id, how many referrals they were given since `since`)."""
    return (select(Referral.connector_id, func.count())
            .where(Referral.connector_id.in_(connector_ids), Referral.created_at >= since)
            .group_by(Referral.connector_id))


def _fairness(load: ConnectorLoad):
    never = load.last_assigned is None
    # Most spare first; then fewest recent; then longest since the last (never is longest).
    return (-load.spare, load.recent, not never,
            load.last_assigned.timestamp() if load.last_assigned else 0.0, load.connector.id)


def choose_connector(team_id: int, *, on: date, now: datetime | None = None) -> User | None:
    """The connector routing would give a new referral to, or None if nobody has room."""
    candidates = [load for load in team_workload(team_id, on=on, now=now) if load.available]
    if not candidates:
        return None
    return min(candidates, key=_fairness).connector


def route(referral: Referral, *, now: datetime) -> User | None:
    """Give a new referral to its practice's team and, if anyone has room, a connector.

    Sets the team and the first-contact deadline (the team's target in working days
    after the referral's UK date). An assignment is an event through
    workflow.record_assignment. Returns the connector, or None when the referral
    waits in the team queue. Flushes; the caller commits.
    """
    team = referral.team or referral.practice.team
    if team is None:
        return None
    referral.team = team
    referral.first_contact_due = workdays.add_working_days(
        workdays.uk_date(referral.created_at or now), team.first_contact_days
    )
    connector = choose_connector(team.id, on=workdays.uk_date(now), now=now)
    if connector is not None:
        workflow.record_assignment(referral, connector, actor=None, actor_label=ROUTING_ACTOR,
                                   reason="most spare capacity in the team", now=now)
    db.session.flush()
    return connector


def unassigned(team_id: int) -> Select:
    """The team queue: received referrals nobody holds, urgent first, then oldest."""
    return (
        select(Referral)
        .where(Referral.team_id == team_id, Referral.status == ReferralStatus.RECEIVED,
               Referral.connector_id.is_(None))
        .order_by(case((Referral.urgency == Urgency.URGENT, 0), else_=1),
                  Referral.created_at, Referral.id)
    )


def waiting_for_capacity(team: Team, *, on: date, now: datetime | None = None) -> bool:
    """Whether the team queue is waiting because no connector has room today."""
    return choose_connector(team.id, on=on, now=now) is None


def route_waiting(team: Team, *, actor: User | None, now: datetime | None = None
                  ) -> list[Referral]:
    """Give queued referrals to connectors who now have room, urgent and oldest first.

    Stops at the first referral nobody can take. Returns the referrals assigned.
    Each is locked and looked at again first: one a connector accepted or a practice
    cancelled meanwhile is left alone. Flushes; the caller commits.
    """
    now = now or utcnow()
    today = workdays.uk_date(now)
    assigned = []
    for referral in db.session.scalars(unassigned(team.id)).all():
        revisions.lock(referral)
        if referral.connector_id is not None or referral.status is not ReferralStatus.RECEIVED:
            continue
        connector = choose_connector(team.id, on=today, now=now)
        if connector is None:
            break
        workflow.record_assignment(referral, connector, actor=actor,
                                   actor_label="" if actor else ROUTING_ACTOR,
                                   reason="routed from the team queue", now=now)
        assigned.append(referral)
    return assigned
