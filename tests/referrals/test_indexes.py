"""The indexes named for the queries that need them, shown by the databases' own plans of
the app's own queries (tests/explain.py): SQLite's EXPLAIN QUERY PLAN, and PostgreSQL's
EXPLAIN with sequential scans switched off (the test tables are small)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert

from referrals import routing, scheduler
from referrals.audit import record
from referrals.directory import ratelimit
from referrals.models import Referral, ReferralStatus, Role
from tests.counting import work
from tests.explain import analyze, captured, plans_reading, uses_index

S = ReferralStatus
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)


@pytest.fixture
def hub(db, make):
    """A team of two connectors with a long history of closed referrals (as any team has
    after a year or two), a few open ones, and one overdue first contact. On PostgreSQL the
    planner measures the tables first, so its choices are the ones real data would get."""
    team = make.team()
    practice = make.practice(team=team)
    connectors = [make.user(Role.CONNECTOR, team=team, capacity=10) for _ in range(2)]
    for person in connectors:
        make.referral(practice, status=S.ACCEPTED, connector=person)
        closed = make.referral(practice, status=S.COMPLETED, connector=person)
        closed.first_contact_at = NOW - timedelta(days=400)
        _history(db, closed, 150, days_ago=400)
    make.referral(practice).first_contact_due = TODAY - timedelta(days=3)
    db.session.flush()
    analyze(db, "referral", "user_account")
    return team, practice, connectors


def test_the_schedulers_overdue_first_contacts_read_their_own_index(db, hub):
    with captured(db) as sent:
        db.session.execute(scheduler.overdue_first_contacts(TODAY)).all()
    (text,) = plans_reading(db, sent, r"first_contact_due")
    assert uses_index(db, text, "ix_referral_first_contact_due"), text


def test_routing_reads_open_and_recent_referrals_by_connector_not_their_history(db, hub):
    team, _, _ = hub
    with captured(db) as sent:
        routing.team_workload(team.id, on=TODAY, now=NOW)
    (open_plan,) = plans_reading(db, sent, r"referral\.status IN")
    # Either index reads open referrals only; on tiny tables PostgreSQL may take the
    # partial one that keeps a person to one open referral.
    assert (uses_index(db, open_plan, "ix_referral_connector_status")
            or uses_index(db, open_plan, "uq_referral_one_open_per_patient")), open_plan
    (recent_plan,) = plans_reading(db, sent, r"referral\.created_at >=")
    assert uses_index(db, recent_plan, "ix_referral_connector_created"), recent_plan
    (last_plan,) = plans_reading(db, sent, r"max\(referral\.created_at\)")
    assert uses_index(db, last_plan, "ix_referral_connector_created"), last_plan


def _history(db, template: Referral, n: int, *, days_ago: int) -> None:
    """`n` closed referrals like `template`, made long ago (straight into the table: only
    their number matters)."""
    columns = {c.key: getattr(template, c.key) for c in Referral.__table__.columns
               if c.key not in ("id", "reference")}
    columns.update(status=S.COMPLETED, created_at=NOW - timedelta(days=days_ago))
    db.session.execute(insert(Referral), [dict(columns) for _ in range(n)])


def test_routings_work_does_not_grow_with_a_connectors_closed_history(db, make, hub):
    team, practice, connectors = hub
    template = make.referral(practice, status=S.COMPLETED, connector=connectors[0])
    _history(db, template, 20, days_ago=400)

    def measured():
        with work(db, "referral") as done:
            loads = routing.team_workload(team.id, on=TODAY, now=NOW)
        return done.done, [(load.active, load.recent) for load in loads]

    before, figures = measured()
    _history(db, template, 300, days_ago=400)
    after, same = measured()
    assert same == figures  # closed, old referrals change neither figure
    assert after <= before * 1.1, (before, after)


def test_the_rate_limit_reads_one_clients_rows_by_its_own_index(db):
    record("create", actor=None, entity_type="referral", origin="client:abc",
           detail={"origin": "client:abc"})
    for n in range(100):
        record("create", actor=None, entity_type="referral", origin=f"client:{n}")
        record("read", actor=None, entity_type="referral")
    db.session.flush()
    analyze(db, "audit_event")
    with captured(db) as sent:
        found = ratelimit.over_limit("client:abc", [ratelimit.Limit(1, "hour")],
                                     datetime.now(UTC))
    assert found is not None  # the limit still counts what it should
    (text,) = plans_reading(db, sent, r"audit_event\.origin")
    assert uses_index(db, text, "ix_audit_event_origin_at"), text


def test_the_rate_limit_ignores_other_clients_and_reads_none_of_their_rows(db):
    for _ in range(200):
        record("create", actor=None, entity_type="referral", origin="client:other")
        record("read", actor=None, entity_type="referral")
    db.session.flush()
    with work(db, "audit_event") as done:
        found = ratelimit.over_limit("client:abc", [ratelimit.Limit(1, "day")],
                                     datetime.now(UTC))
    assert found is None
    assert done.done < 200, done.done
