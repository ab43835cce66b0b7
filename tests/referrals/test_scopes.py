"""The period and scope every report is built from, and who may ask for which scope."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from referrals import access
from referrals.models import Role
from referrals.scopes import Period, ScopeKind, parse_period

TODAY = date(2026, 12, 3)


def test_no_dates_means_the_last_complete_quarter():
    assert parse_period(None, None, today=TODAY) == (Period(date(2026, 7, 1),
                                                            date(2026, 9, 30)), {})
    assert Period.last_quarter(date(2027, 1, 5)) == Period(date(2026, 10, 1), date(2026, 12, 31))
    assert Period.previous_month(date(2027, 1, 5)) == Period(date(2026, 12, 1),
                                                             date(2026, 12, 31))


def test_the_period_runs_midnight_to_midnight_uk_time():
    summer = Period(date(2026, 7, 1), date(2026, 7, 31))
    assert summer.starts_at == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)  # BST
    assert summer.ends_before == datetime(2026, 7, 31, 23, 0, tzinfo=UTC)
    assert Period(date(2026, 1, 1), date(2026, 1, 1)).ends_before == \
        datetime(2026, 1, 2, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("raw_from", "raw_to", "field", "words"), [
    ("2026-13-01", "2026-12-01", "from", "real date"),
    ("", "2026-12-01", "from", "Enter the start date"),
    ("2026-10-01", "１２３", "to", "real date"),
    ("2026-10-01", "2026-09-01", "to", "same as or after"),
    ("2020-01-01", "2026-01-01", "to", "five years"),
    ("1066-10-14", "1066-10-15", "from", "2000 or later"),
    ("2027-01-01", "2027-02-01", "from", "in the past"),
])
def test_bad_dates_get_an_error_next_to_their_field(raw_from, raw_to, field, words):
    period, errors = parse_period(raw_from, raw_to, today=TODAY)
    assert period is None and words in errors[field]


def test_a_manager_gets_only_their_own_practice(make):
    team = make.team()
    mine, theirs = make.practice(team, pcn_name="North PCN"), make.practice(team,
                                                                           pcn_name="North PCN")
    manager = make.user(Role.MANAGER, practice=mine)
    scope = access.report_scope(manager, "practice")
    assert (scope.kind, scope.practice_ids) == (ScopeKind.PRACTICE, (mine.id,))
    assert access.report_scope(manager, "practice", practice_id=theirs.id) is None
    assert access.report_scope(manager, "pcn", pcn="North PCN") is None
    assert access.report_scope(manager, "hub") is None
    assert access.report_scope(make.user(Role.REFERRER, practice=mine), "practice") is None


def test_a_coordinator_gets_their_hub_and_its_practices_and_pcns_only(make):
    team, other = make.team(), make.team()
    north = make.practice(team, pcn_name="North PCN")
    south = make.practice(team, pcn_name="South PCN")
    elsewhere = make.practice(other, pcn_name="North PCN")
    coordinator = make.user(Role.COORDINATOR, team=team)
    assert access.report_scope(coordinator, "hub").team_id == team.id
    assert access.report_scope(coordinator, "pcn", pcn="North PCN").practice_ids == (north.id,)
    assert access.report_scope(coordinator, "practice", practice_id=south.id).practice_ids == \
        (south.id,)
    assert access.report_scope(coordinator, "practice", practice_id=elsewhere.id) is None
    assert access.report_scope(coordinator, "pcn", pcn="Nowhere PCN") is None
    assert access.report_scope(make.user(Role.CONNECTOR, team=team), "hub") is None


def test_identifiable_exports_need_the_extra_permission(make):
    practice = make.practice(make.team())
    manager = make.user(Role.MANAGER, practice=practice)
    assert not access.may_export_identifiable(manager)
    manager.identifiable_exports = True
    assert access.may_export_identifiable(manager)
    referrer = make.user(Role.REFERRER, practice=practice)
    referrer.identifiable_exports = True
    assert not access.may_export_identifiable(referrer)
