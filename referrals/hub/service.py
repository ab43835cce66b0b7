"""The coordinator's rules: who holds a referral, and when connectors can take more.

Plain functions with an explicit actor: they check that the actor coordinates the
team concerned, raise HubInvalid (naming the form field) for a broken rule, write
their audit event and flush. The caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from referrals import access, audit, revisions, routing, workdays, workflow
from referrals.access import Action
from referrals.errors import DomainError
from referrals.extensions import db
from referrals.models import OPEN_STATUSES, AwayPeriod, Referral, Team, User, utcnow

MAX_CAPACITY = 200
NOTE_MAX = 200  # an away period's note, e.g. "annual leave"
# The team's rules, each a whole number within these bounds (inclusive).
RULE_LIMITS = {
    "first_contact_days": (1, 20, "First contact target"),
    "max_contact_attempts": (1, 10, "Failed attempts before unable to contact"),
    "follow_up_grace_days": (0, 14, "Days before an overdue follow-up is escalated"),
}


class HubInvalid(DomainError):
    """A coordinator's change broke a rule; `field` is the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        self.field = field
        super().__init__(message)


@dataclass
class Overview:
    """What a coordinator needs to see at once about their team."""

    team: Team
    today: date
    workload: list[routing.ConnectorLoad]
    unassigned: list[Referral]
    waiting_for_capacity: bool
    overdue: list[Referral]

    @property
    def referral_ids(self) -> list[int]:
        return [r.id for r in self.unassigned] + [r.id for r in self.overdue]


def overview(team: Team, *, now: datetime | None = None) -> Overview:
    """The team's workload, its queue and its overdue first contacts, as of `now`."""
    now = now or utcnow()
    today = workdays.uk_date(now)
    with_people = (selectinload(Referral.patient), selectinload(Referral.connector))
    unassigned = db.session.scalars(routing.unassigned(team.id).options(*with_people)).all()
    overdue = db.session.scalars(
        select(Referral)
        .where(Referral.team_id == team.id, Referral.status.in_(OPEN_STATUSES),
               Referral.first_contact_at.is_(None), Referral.first_contact_due < today)
        .order_by(Referral.first_contact_due, Referral.created_at, Referral.id)
        .options(*with_people)
    ).all()
    workload = routing.team_workload(team.id, on=today, now=now)
    return Overview(
        team=team,
        today=today,
        workload=workload,
        unassigned=list(unassigned),
        waiting_for_capacity=not any(load.available for load in workload),
        overdue=list(overdue),
    )


def assign(
    referral: Referral,
    connector: User | None,
    *,
    actor: User,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
):
    """Give an open referral to a connector in its team (None: back to the team queue).

    The reason is required and goes on the assignment event, which moves the
    referral's version on (the FHIR Task's owner changes). Refuses a connector who is
    inactive, not a connector, or in another team, and a change made from a version the
    referral has since left (StaleReferral). Flushes; the caller commits.
    """
    revisions.begin(referral, expected_version)
    access.require(actor, Action.ASSIGN, referral)
    if not referral.status.is_open:
        raise HubInvalid(f"A referral that is {referral.status.label.lower()} cannot be "
                         "reassigned.")
    reason = (reason or "").strip()
    if not reason:
        raise HubInvalid("Give a reason for the change", "reason")
    if connector is not None and not access.may_hold(connector, referral):
        raise HubInvalid("Choose an active connector in this referral's team", "connector")
    if connector == referral.connector:
        holder = connector.name if connector else "the team queue"
        raise HubInvalid(f"The referral is already with {holder}", "connector")
    previous = referral.connector_id
    event = workflow.record_assignment(referral, connector, actor=actor, reason=reason, now=now)
    audit.record_referral("assign", referral, actor=actor, from_connector=previous,
                          to_connector=connector.id if connector else None)
    return event


def route_queue(team: Team, *, actor: User, now: datetime | None = None) -> list[Referral]:
    """Give queued referrals to connectors who have room now (see routing.route_waiting)."""
    access.require(actor, Action.MANAGE_TEAM, team)
    assigned = routing.route_waiting(team, actor=actor, now=now)
    for referral in assigned:
        audit.record_referral("assign", referral, actor=actor, from_connector=None,
                              to_connector=referral.connector_id)
    db.session.flush()
    return assigned


def set_availability(
    connector: User,
    *,
    actor: User,
    capacity: int | None,
    away_from: date | None = None,
    away_until: date | None = None,
    note: str = "",
    today: date | None = None,
) -> AwayPeriod | None:
    """Set a connector's caseload capacity and, when `away_from` is given, add a period
    they are away (inclusive; a single day without `away_until`), returned.

    A period must end today or later, end on or after its start, and not overlap one
    already booked (the message names it: change that one instead). Flushes; the caller
    commits.
    """
    access.require(actor, Action.SET_AVAILABILITY, connector)
    if not access.holds_caseload(connector):
        raise HubInvalid("Only connectors have a caseload")
    if capacity is not None and not 0 <= capacity <= MAX_CAPACITY:
        raise HubInvalid(f"Capacity must be a whole number from 0 to {MAX_CAPACITY}", "capacity")
    period = None
    if away_from is not None or away_until is not None:
        period = _away_period(connector, away_from, away_until, note,
                              today or workdays.uk_date(utcnow()), actor)
    before = connector.capacity
    connector.capacity = capacity
    detail: dict = {"capacity": capacity, "capacity_before": before}
    if period is not None:
        detail["away_added"] = {"from": period.starts_on.isoformat(),
                                "until": period.ends_on.isoformat()}
    audit.record("update", actor=actor, entity_type="user", entity_id=connector.id,
                 detail=detail)
    db.session.flush()
    return period


def _away_period(connector: User, starts_on: date | None, ends_on: date | None, note: str,
                 today: date, actor: User) -> AwayPeriod:
    if starts_on is None:
        raise HubInvalid("Enter the first day they are away", "away_from")
    ends_on = ends_on or starts_on
    if ends_on < starts_on:
        raise HubInvalid("The last day away must be the same as or after the first day",
                         "away_until")
    if ends_on < today:
        raise HubInvalid("The last day away must be today or in the future",
                         "away_until" if ends_on != starts_on else "away_from")
    if len(note or "") > NOTE_MAX:
        raise HubInvalid(f"The note must be {NOTE_MAX} characters or fewer", "away_note")
    clash = db.session.scalars(
        select(AwayPeriod).where(AwayPeriod.user_id == connector.id,
                                 AwayPeriod.starts_on <= ends_on,
                                 AwayPeriod.ends_on >= starts_on)
        .order_by(AwayPeriod.starts_on)).first()
    if clash is not None:
        raise HubInvalid(
            f"These dates overlap the time away already booked from "
            f"{clash.starts_on:%-d %B %Y} to {clash.ends_on:%-d %B %Y}. Choose other dates, "
            "or remove that period first", "away_from")
    period = AwayPeriod(user=connector, starts_on=starts_on, ends_on=ends_on,
                        note=(note or "").strip(), created_by=actor)
    db.session.add(period)
    return period


def away_periods(connector: User, *, from_day: date | None = None) -> list[AwayPeriod]:
    """The connector's time away, earliest first; only what ends on or after `from_day`."""
    query = select(AwayPeriod).where(AwayPeriod.user_id == connector.id)
    if from_day is not None:
        query = query.where(AwayPeriod.ends_on >= from_day)
    return list(db.session.scalars(query.order_by(AwayPeriod.starts_on, AwayPeriod.id)))


def remove_away_period(period: AwayPeriod, *, actor: User) -> None:
    """Remove a period a connector was to be away: routing may give them referrals on
    those days again. Flushes; the caller commits."""
    access.require(actor, Action.SET_AVAILABILITY, period.user)
    audit.record("update", actor=actor, entity_type="user", entity_id=period.user_id,
                 detail={"away_removed": {"from": period.starts_on.isoformat(),
                                          "until": period.ends_on.isoformat()}})
    db.session.delete(period)
    db.session.flush()


def set_team_rules(team: Team, *, actor: User, **rules: int | None) -> None:
    """Change the team's first-contact target, attempts before "unable to contact" and
    follow-up grace days (RULE_LIMITS). The new target applies to referrals made from
    now on; deadlines already set stay as they were promised. Flushes; the caller commits.
    """
    access.require(actor, Action.MANAGE_TEAM, team)
    for name, value in rules.items():
        low, high, label = RULE_LIMITS[name]
        if value is None or not low <= value <= high:
            raise HubInvalid(f"{label} must be a whole number from {low} to {high}", name)
    before = {name: getattr(team, name) for name in rules}
    for name, value in rules.items():
        setattr(team, name, value)
    audit.record("update", actor=actor, entity_type="team", entity_id=team.id,
                 detail={"before": before, "after": rules})
    db.session.flush()
