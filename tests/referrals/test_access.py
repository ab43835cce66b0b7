"""THE permission rules: scope() for lists, can() for one referral, and that they agree.

One small hub: team A serves practices P1 and P2, team B serves P3.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from referrals.access import Action, can, require, scope
from referrals.errors import NotPermitted
from referrals.models import Referral, ReferralStatus, Role, User

S = ReferralStatus


@dataclass
class Town:
    users: dict[str, User]
    referrals: dict[str, Referral]


@pytest.fixture
def town(make) -> Town:
    team_a, team_b = make.team(), make.team()
    p1, p2, p3 = make.practice(team=team_a), make.practice(team=team_a), make.practice(team=team_b)
    users = {
        "referrer_p1": make.user(Role.REFERRER, practice=p1),
        "referrer_p2": make.user(Role.REFERRER, practice=p2),
        "manager_p1": make.user(Role.MANAGER, practice=p1),
        "manager_p3": make.user(Role.MANAGER, practice=p3),
        "connector_a": make.user(Role.CONNECTOR, team=team_a),
        "colleague_a": make.user(Role.CONNECTOR, team=team_a),
        "connector_b": make.user(Role.CONNECTOR, team=team_b),
        "coordinator_a": make.user(Role.COORDINATOR, team=team_a),
        "coordinator_b": make.user(Role.COORDINATOR, team=team_b),
        "admin": make.user(Role.ADMIN),
    }
    u = users
    referrals = {
        "p1_queue": make.referral(p1, referrer=u["referrer_p1"]),
        "p1_mine": make.referral(p1, status=S.ACCEPTED, connector=u["connector_a"]),
        "p1_colleagues": make.referral(p1, status=S.IN_PROGRESS, connector=u["colleague_a"]),
        "p1_closed_queue": make.referral(p1, status=S.REJECTED),
        "p2_queue": make.referral(p2, referrer=u["referrer_p2"]),
        "p2_colleagues": make.referral(p2, status=S.ACCEPTED, connector=u["colleague_a"]),
        "p3_queue": make.referral(p3),
        "p3_team_b": make.referral(p3, status=S.ACCEPTED, connector=u["connector_b"]),
    }
    return Town(users, referrals)


P1 = {"p1_queue", "p1_mine", "p1_colleagues", "p1_closed_queue"}
P2 = {"p2_queue", "p2_colleagues"}
P3 = {"p3_queue", "p3_team_b"}
VISIBLE = {
    "referrer_p1": P1,
    "referrer_p2": P2,
    "manager_p1": P1,
    "manager_p3": P3,
    # Their team's unassigned queue (open or not) and their own caseload, no one else's.
    "connector_a": {"p1_queue", "p1_mine", "p1_closed_queue", "p2_queue"},
    "colleague_a": {"p1_queue", "p1_colleagues", "p1_closed_queue", "p2_queue", "p2_colleagues"},
    "connector_b": P3,
    "coordinator_a": P1 | P2,
    "coordinator_b": P3,
    "admin": set(),
}


def visible_names(db, town: Town, user: User) -> set[str]:
    ids = set(db.session.scalars(scope(select(Referral.id), user)))
    names = {name for name, referral in town.referrals.items() if referral.id in ids}
    assert len(names) == len(ids), "scope() returned referrals this test did not make"
    return names


# One town serves every role (building it is the slow part); the dict diff names the role.
def test_each_role_lists_exactly_the_referrals_it_may_see(db, town):
    listed = {who: visible_names(db, town, user) for who, user in town.users.items()}
    assert listed == VISIBLE


def test_the_detail_rule_agrees_with_the_list_rule(town):
    viewable = {
        who: {name for name, r in town.referrals.items() if can(user, Action.VIEW, r)}
        for who, user in town.users.items()
    }
    assert viewable == VISIBLE


def test_a_referrer_sees_only_their_own_practices_referrals_even_in_the_same_team(db, town):
    seen = visible_names(db, town, town.users["referrer_p1"])
    assert "p2_queue" not in seen  # P2 shares P1's connector team
    assert not can(town.users["referrer_p1"], Action.VIEW, town.referrals["p2_queue"])


def test_a_connector_does_not_see_a_colleagues_caseload(db, town):
    connector = town.users["connector_a"]
    assert "p1_colleagues" not in visible_names(db, town, connector)
    assert not can(connector, Action.VIEW, town.referrals["p1_colleagues"])


def test_a_connector_sees_a_queued_referral_until_a_colleague_takes_it(db, town):
    connector, colleague = town.users["connector_a"], town.users["colleague_a"]
    referral = town.referrals["p2_queue"]
    assert can(connector, Action.VIEW, referral)
    referral.connector = colleague
    db.session.flush()
    assert not can(connector, Action.VIEW, referral)
    assert "p2_queue" not in visible_names(db, town, connector)


def test_an_administrator_sees_no_clinical_content(db, town):
    admin = town.users["admin"]
    assert visible_names(db, town, admin) == set()
    assert not any(can(admin, action, r) for r in town.referrals.values() for action in Action)


def test_a_deactivated_account_may_do_nothing(db, town):
    referrer = town.users["referrer_p1"]
    referrer.active = False
    assert not can(referrer, Action.VIEW, town.referrals["p1_queue"])
    assert not can(referrer, Action.CANCEL, town.referrals["p1_queue"])
    assert not can(referrer, Action.CREATE)


def test_someone_not_signed_in_may_do_nothing(town):
    anonymous = AnonymousUserMixin()
    assert not can(anonymous, Action.VIEW, town.referrals["p1_queue"])
    assert not can(anonymous, Action.CREATE)
    assert not can(None, Action.VIEW, town.referrals["p1_queue"])


# --- cancelling ------------------------------------------------------------------


def test_a_referrer_can_cancel_their_practices_referral_while_it_is_received(town):
    referral = town.referrals["p1_queue"]
    assert can(town.users["referrer_p1"], Action.CANCEL, referral)


def test_any_referrer_at_the_practice_can_cancel_not_only_the_one_who_referred(make, town):
    referral = town.referrals["p1_queue"]
    other = make.user(Role.REFERRER, practice=referral.practice)
    assert referral.referrer is not other
    assert can(other, Action.CANCEL, referral)


@pytest.mark.parametrize("status", [s for s in S if s is not S.RECEIVED])
def test_a_referrer_cannot_cancel_after_it_has_left_received(make, status):
    referrer = make.user(Role.REFERRER)
    referral = make.referral(referrer.practice, status=status, referrer=referrer)
    assert can(referrer, Action.VIEW, referral)
    assert not can(referrer, Action.CANCEL, referral)


def test_a_referrer_cannot_cancel_another_practices_referral(town):
    assert not can(town.users["referrer_p2"], Action.CANCEL, town.referrals["p1_queue"])


@pytest.mark.parametrize("who", ["manager_p1", "connector_a", "coordinator_a", "admin"])
def test_only_referrers_can_cancel(town, who):
    referral = town.referrals["p1_queue"]
    assert not can(town.users[who], Action.CANCEL, referral)


def test_require_raises_not_permitted_when_can_says_no(town):
    with pytest.raises(NotPermitted):
        require(town.users["manager_p1"], Action.CANCEL, town.referrals["p1_queue"])
    require(town.users["referrer_p1"], Action.CANCEL, town.referrals["p1_queue"])


# --- creating ----------------------------------------------------------------------


def test_a_referrer_with_a_practice_can_make_referrals(make):
    assert can(make.user(Role.REFERRER), Action.CREATE)


def test_a_referrer_without_a_practice_cannot_make_referrals(db, make):
    referrer = make.user(Role.REFERRER)
    referrer.practice = None
    db.session.flush()
    assert referrer.practice_id is None
    assert not can(referrer, Action.CREATE)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CONNECTOR, Role.COORDINATOR, Role.ADMIN])
def test_no_other_role_can_make_referrals(make, role):
    assert not can(make.user(role), Action.CREATE)
