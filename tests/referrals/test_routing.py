"""Routing: the practice's team, then the active connector with the most room, fairly."""
from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from referrals import routing, workflow
from referrals.intake.service import create_referral
from referrals.models import AwayPeriod, ReferralEvent, ReferralStatus, Role, Urgency

S = ReferralStatus
# Monday 23 November 2026, mid-morning in the UK.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)


@pytest.fixture
def team(make):
    return make.team(first_contact_days=5)


@pytest.fixture
def practice(make, team):
    return make.practice(team=team)


@pytest.fixture
def referrer(make, practice):
    return make.user(Role.REFERRER, practice=practice)


@pytest.fixture
def refer(make, practice, referrer):
    """Send `n` referrals through intake, a minute apart; return them."""

    def send(n=1, *, now=NOW, to=None, **overrides):
        return [
            create_referral(make.intake(to or practice, **overrides), actor=referrer,
                            now=now + timedelta(minutes=i))
            for i in range(n)
        ]

    return send


def connector(make, team, capacity, *, name=None, away=(), **settings):
    """A connector with `capacity`, away on each (first, last) day of `away`; `settings`
    (active) are set afterwards."""
    person = make.user(Role.CONNECTOR, team=team, capacity=capacity,
                       **({"name": name} if name else {}))
    person.away_periods = [AwayPeriod(starts_on=first, ends_on=last) for first, last in away]
    for key, value in settings.items():
        setattr(person, key, value)
    make.session.flush()
    return person


def holders(referrals):
    return Counter(r.connector.name if r.connector else None for r in referrals)


def test_equal_connectors_share_many_referrals_equally(make, team, refer):
    people = [connector(make, team, 40, name=f"C{i}") for i in range(3)]
    referrals = refer(60)
    assert holders(referrals) == {p.name: 20 for p in people}


def test_the_connector_with_the_most_spare_capacity_gets_the_next_referral(make, team, refer):
    roomy = connector(make, team, 10, name="Roomy")
    busy = connector(make, team, 10, name="Busy")
    for referral in refer(4):
        workflow.record_assignment(referral, busy, actor=None)
    (referral,) = refer(1, now=NOW + timedelta(hours=1))
    assert referral.connector is roomy
    # Roomy (1 of 10) still has more room than Busy (4 of 10) for the next two.
    later = refer(3, now=NOW + timedelta(hours=2))
    assert holders(later) == {"Roomy": 3}


def test_unequal_capacities_fill_in_proportion_and_never_beyond(make, team, refer):
    connector(make, team, 6, name="Six")
    connector(make, team, 3, name="Three")
    connector(make, team, 1, name="One")
    referrals = refer(12)
    assert holders(referrals) == {"Six": 6, "Three": 3, "One": 1, None: 2}


def test_capacity_is_never_exceeded_across_many_referrals(db, make, team, refer):
    people = [connector(make, team, capacity) for capacity in (5, 2, 7)]
    refer(20)
    for load in routing.team_workload(team.id, on=TODAY, now=NOW):
        assert load.active <= load.capacity
    assert sum(load.active for load in routing.team_workload(team.id, on=TODAY)) == 14
    assert {load.connector for load in routing.team_workload(team.id, on=TODAY)} == set(people)


def test_closed_referrals_do_not_count_against_capacity(make, team, refer):
    only = connector(make, team, 1)
    (first,) = refer(1)
    assert first.connector is only
    workflow.transition(first, S.ACCEPTED, actor=only)
    workflow.transition(first, S.DECLINED, actor=only, reason="Said no")
    (second,) = refer(1, now=NOW + timedelta(hours=1))
    assert second.connector is only


def test_connectors_away_that_day_are_skipped(make, team, refer):
    away = connector(make, team, 40, name="Away",
                     away=[(TODAY - timedelta(days=2), TODAY + timedelta(days=3))])
    connector(make, team, 5, name="Here")
    assert holders(refer(3)) == {"Here": 3}
    # Back from leave: routing uses the day of the referral.
    (referral,) = refer(1, now=NOW + timedelta(days=4))
    assert referral.connector is away


def test_a_one_day_absence_needs_no_end_date(make, team, refer):
    connector(make, team, 40, name="Away", away=[(TODAY, TODAY)])
    connector(make, team, 5, name="Here")
    assert holders(refer(2)) == {"Here": 2}


def test_leave_booked_ahead_skips_the_connector_only_during_that_week(make, team, refer):
    next_week = TODAY + timedelta(days=7)
    away = connector(make, team, 40, name="Away",
                     away=[(TODAY - timedelta(days=10), TODAY - timedelta(days=8)),
                           (next_week, next_week + timedelta(days=4))])
    connector(make, team, 5, name="Here")
    (now,) = refer(1)
    assert now.connector is away  # the earlier leave is over, the next not begun
    during = [refer(1, now=NOW + timedelta(days=days))[0] for days in (7, 9, 11)]
    assert {r.connector.name for r in during} == {"Here"}
    (after,) = refer(1, now=NOW + timedelta(days=12))
    assert after.connector is away


def test_the_workload_reads_every_connectors_time_away_in_one_query(make, team, db):
    for n in range(4):
        connector(make, team, 5, name=f"C{n}",
                  away=[(TODAY + timedelta(days=n), TODAY + timedelta(days=n + 1)),
                        (TODAY + timedelta(days=30), TODAY + timedelta(days=31))])
    db.session.commit()
    db.session.expire_all()
    statements = []
    engine = db.session.get_bind()

    def listen(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", listen)
    try:
        loads = routing.team_workload(team.id, on=TODAY)
        away_today = {load.connector.name for load in loads if load.away}
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert away_today == {"C0"}
    assert sum("away_period" in sql for sql in statements) == 1


def test_only_active_connectors_in_the_referrals_own_team_are_chosen(make, team, refer):
    other_team = make.team()
    connector(make, other_team, 99, name="Other team")
    connector(make, team, 99, name="Left", active=False)
    make.user(Role.COORDINATOR, team=team)
    mine = connector(make, team, 2, name="Mine")
    referrals = refer(3)
    assert holders(referrals) == {"Mine": 2, None: 1}
    assert all(r.team_id == team.id for r in referrals)
    assert mine.team_id == team.id


def test_nobody_with_room_leaves_the_referral_queued_and_flagged(db, make, team, refer):
    connector(make, team, None, name="No capacity stated")
    connector(make, team, 0, name="Zero")
    (referral,) = refer(1)
    assert referral.connector is None
    assert referral.team_id == team.id
    assert routing.waiting_for_capacity(team, on=TODAY)
    assert db.session.scalars(routing.unassigned(team.id)).all() == [referral]
    assert referral.version == 1  # no assignment, no event beyond "received"
    assert [e.kind for e in referral.events] == ["status"]


def test_queued_referrals_are_routed_urgent_then_oldest_first_when_room_appears(db, make, team,
                                                                             refer):
    full = connector(make, team, 0, name="Full")
    old, new = refer(2)
    (urgent,) = refer(1, now=NOW + timedelta(hours=1), urgency=Urgency.URGENT)
    assert db.session.scalars(routing.unassigned(team.id)).all() == [urgent, old, new]
    full.capacity = 2
    assigned = routing.route_waiting(team, actor=None, now=NOW + timedelta(hours=2))
    assert assigned == [urgent, old]
    assert new.connector is None and routing.waiting_for_capacity(team, on=TODAY)


def test_an_assignment_by_routing_is_an_event_and_bumps_the_version(db, make, team, refer):
    jo = connector(make, team, 10, name="Jo")
    (referral,) = refer(1)
    assert referral.connector is jo
    assert referral.version == 2
    events = db.session.scalars(
        select(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.id)
    ).all()
    assert [e.kind for e in events] == ["status", "assignment"]
    assert events[1].actor_name == routing.ROUTING_ACTOR
    assert events[1].from_status == events[1].to_status == S.RECEIVED
    assert "Jo" in events[1].reason


def test_ties_go_to_whoever_had_fewest_recent_referrals(make, team, refer, practice, referrer):
    a = connector(make, team, 5, name="A")
    b = connector(make, team, 5, name="B")
    # A took one last week that has since closed: same spare capacity, but a recent referral.
    (old,) = refer(1, now=NOW - timedelta(days=7))
    assert old.connector is a  # the lower id wins a complete tie
    workflow.transition(old, S.REJECTED, actor=a, reason="Not suitable")
    (referral,) = refer(1)
    assert referral.connector is b


def test_intake_sets_the_first_contact_deadline_in_working_days(make, team, refer):
    # Christmas Eve 2026 (Thursday) + 5 working days skips Christmas, the Boxing Day
    # substitute and New Year's Day: due Tuesday 5 January 2027.
    (referral,) = refer(1, now=datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    assert referral.first_contact_due == date(2027, 1, 5)


def test_the_deadline_follows_the_teams_target(make, refer):
    quick = make.team(first_contact_days=1)
    (referral,) = refer(1, to=make.practice(team=quick),
                        now=datetime(2026, 11, 27, 16, 0, tzinfo=UTC))  # Friday
    assert referral.first_contact_due == date(2026, 11, 30)
    assert referral.team_id == quick.id
