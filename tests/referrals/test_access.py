"""THE permission rules: scope() for lists, can() for one referral, and that they agree.

One small hub: team A serves practices P1 and P2, team B serves P3.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from referrals.access import (
    Action,
    can,
    can_read_letter,
    can_see,
    caseload_holders,
    managed_connectors,
    may_hold,
    receipts_letter,
    referring_practices,
    require,
    scope,
    scope_letters,
    scope_patients,
    team_coordinators,
)
from referrals.admin.service import create_api_client, revoke_api_client
from referrals.errors import NotPermitted
from referrals.models import (
    LetterTrigger,
    OutcomeLetter,
    Patient,
    Referral,
    ReferralStatus,
    Role,
    User,
)

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


# --- casework: each kind of work its own action, one rule today ---------------------

CASEWORK_ACTIONS = [Action.RECORD_CONTACT, Action.RECORD_MEASURE, Action.SET_PREFERENCES,
                    Action.RECORD_CONNECTION, Action.UPDATE_CONNECTION, Action.CLOSE]


@pytest.mark.parametrize("action", CASEWORK_ACTIONS)
def test_casework_is_for_the_connector_holding_it_or_a_coordinator_of_its_team(town, action):
    holders = {who for who, user in town.users.items()
               if can(user, action, town.referrals["p1_mine"])}
    assert holders == {"connector_a", "coordinator_a"}
    # A colleague's referral: only its own connector and the coordinator (cover).
    assert {who for who, user in town.users.items()
            if can(user, action, town.referrals["p1_colleagues"])} == \
        {"colleague_a", "coordinator_a"}


@pytest.mark.parametrize("action", CASEWORK_ACTIONS)
def test_casework_waits_until_a_referral_is_accepted_and_stops_when_it_closes(town, action):
    coordinator = town.users["coordinator_a"]
    assert not can(coordinator, action, town.referrals["p1_queue"])  # received
    assert not can(coordinator, action, town.referrals["p1_closed_queue"])  # rejected


def test_measures_preferences_and_connections_have_their_own_actions():
    actions = {Action.RECORD_MEASURE, Action.SET_PREFERENCES, Action.RECORD_CONNECTION,
               Action.UPDATE_CONNECTION, Action.RECORD_CONTACT}
    assert len({action.value for action in actions}) == len(actions)


@pytest.mark.parametrize("status", [S.COMPLETED, S.DECLINED, S.UNABLE_TO_CONTACT])
def test_a_closed_referrals_letter_is_produced_by_its_connector_or_a_coordinator(make, status):
    team = make.team()
    practice = make.practice(team=team)
    connector = make.user(Role.CONNECTOR, team=team)
    referral = make.referral(practice, status=status, connector=connector)
    others = [make.user(Role.CONNECTOR, team=team), make.user(Role.COORDINATOR),
              make.user(Role.REFERRER, practice=practice), make.user(Role.MANAGER, practice=practice),
              make.user(Role.ADMIN)]
    assert can(connector, Action.PRODUCE_LETTER, referral)
    assert can(make.user(Role.COORDINATOR, team=team), Action.PRODUCE_LETTER, referral)
    assert not any(can(user, Action.PRODUCE_LETTER, referral) for user in others)


@pytest.mark.parametrize("status", [S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS, S.REJECTED,
                                    S.CANCELLED])
def test_no_letter_before_a_referral_closes_with_an_outcome(make, status):
    team = make.team()
    connector = make.user(Role.CONNECTOR, team=team)
    referral = make.referral(make.practice(team=team), status=status, connector=connector)
    assert not can(make.user(Role.COORDINATOR, team=team), Action.PRODUCE_LETTER, referral)
    assert not can(connector, Action.PRODUCE_LETTER, referral)


# --- the coordinator's hub and the directory -----------------------------------------


def test_only_a_coordinator_of_the_referrals_team_may_assign_it(town):
    assigners = {who for who, user in town.users.items()
                 if can(user, Action.ASSIGN, town.referrals["p1_queue"])}
    assert assigners == {"coordinator_a"}


def test_only_the_teams_own_coordinator_manages_the_team_and_its_connectors(db, town):
    team_a = town.users["connector_a"].team
    managers = {who for who, user in town.users.items()
                if can(user, Action.MANAGE_TEAM, team_a)}
    setters = {who for who, user in town.users.items()
               if can(user, Action.SET_AVAILABILITY, town.users["connector_a"])}
    assert managers == setters == {"coordinator_a"}
    coordinator = town.users["coordinator_a"]
    coordinator.active = False
    assert not can(coordinator, Action.MANAGE_TEAM, team_a)
    with pytest.raises(NotPermitted, match="Only the team's coordinator"):
        require(coordinator, Action.SET_AVAILABILITY, town.users["connector_a"])


def test_a_coordinator_without_a_team_manages_no_team(db, make):
    coordinator = make.user(Role.COORDINATOR)
    team = coordinator.team
    coordinator.team = None
    db.session.flush()
    assert not can(coordinator, Action.MANAGE_TEAM, team)


def test_every_coordinator_and_nobody_else_edits_the_directory(town):
    editors = {who for who, user in town.users.items() if can(user, Action.EDIT_DIRECTORY)}
    assert editors == {"coordinator_a", "coordinator_b"}
    with pytest.raises(NotPermitted, match="Only a hub coordinator"):
        require(town.users["connector_a"], Action.EDIT_DIRECTORY)


def test_a_referral_may_be_given_only_to_an_active_connector_in_its_team(db, town):
    referral = town.referrals["p1_queue"]
    holders = {who for who, user in town.users.items() if may_hold(user, referral)}
    assert holders == {"connector_a", "colleague_a"}
    town.users["colleague_a"].active = False
    assert not may_hold(town.users["colleague_a"], referral)


def test_routing_and_escalation_find_their_people_through_the_rules(db, town):
    team_a = town.users["connector_a"].team_id
    holders = set(db.session.scalars(select(User.id).where(caseload_holders(team_a))))
    assert holders == {town.users["connector_a"].id, town.users["colleague_a"].id}
    coordinators = set(db.session.scalars(
        select(User.id).where(team_coordinators([team_a, town.users["connector_b"].team_id]))))
    assert coordinators == {town.users["coordinator_a"].id, town.users["coordinator_b"].id}


def test_a_coordinator_manages_the_connectors_of_their_own_team_only(db, town):
    def managed(who):
        return set(db.session.scalars(
            select(User.id).where(managed_connectors(town.users[who]))))

    assert managed("coordinator_a") == {town.users["connector_a"].id,
                                        town.users["colleague_a"].id}
    assert managed("coordinator_b") == {town.users["connector_b"].id}
    assert managed("connector_a") == managed("manager_p1") == managed("admin") == set()


# --- outcome letters ------------------------------------------------------------------


def _letter(db, referral: Referral, practice_id: int) -> OutcomeLetter:
    letter = OutcomeLetter(referral_id=referral.id, practice_id=practice_id, number=1,
                           trigger=LetterTrigger.COMPLETED, sha256="0" * 64, size=1, pdf=b"%")
    db.session.add(letter)
    db.session.flush()
    return letter


def test_a_practice_reads_and_lists_only_its_own_copies_of_letters(db, town):
    referral = town.referrals["p1_mine"]
    ours = _letter(db, referral, referral.practice_id)
    theirs = _letter(db, town.referrals["p3_team_b"], town.referrals["p3_team_b"].practice_id)
    readers = {who for who, user in town.users.items()
               if can_read_letter(user, ours, referral)}
    assert readers == {"referrer_p1", "manager_p1", "connector_a", "coordinator_a"}
    receipts = {who for who, user in town.users.items() if receipts_letter(user, ours)}
    assert receipts == {"referrer_p1", "manager_p1"}

    def inbox(who):
        return set(db.session.scalars(scope_letters(select(OutcomeLetter.id), town.users[who])))

    assert inbox("manager_p1") == {ours.id}
    assert inbox("manager_p3") == {theirs.id}
    assert inbox("coordinator_a") == inbox("admin") == set()
    # A letter never answers for another referral, even one the user may see.
    assert not can_read_letter(town.users["referrer_p1"], ours, town.referrals["p1_queue"])


# --- API clients: scoped by the practices they act for -------------------------------


def test_an_api_client_sees_exactly_its_practices_referrals_and_people(db, town):
    p1, p3 = town.referrals["p1_queue"].practice, town.referrals["p3_queue"].practice
    client, _ = create_api_client("GP system", [p1, p3], actor=None, actor_label="test")
    ids = set(db.session.scalars(scope(select(Referral.id), client)))
    assert {name for name, r in town.referrals.items() if r.id in ids} == P1 | P3
    assert {name for name, r in town.referrals.items() if can_see(client, r)} == P1 | P3
    people = set(db.session.scalars(scope_patients(select(Patient.id), client)))
    assert people == {town.referrals[name].patient_id for name in P1 | P3}
    assert [p.id for p in referring_practices(client)] == sorted([p1.id, p3.id])
    assert can(client, Action.VIEW, town.referrals["p1_queue"])
    assert not can(client, Action.VIEW, town.referrals["p2_queue"])
    assert not can(client, Action.ACCEPT, town.referrals["p1_queue"])


def test_a_revoked_api_client_sees_nothing_and_refers_for_nobody(db, town):
    client, _ = create_api_client("GP system", [town.referrals["p1_queue"].practice],
                                  actor=None, actor_label="test")
    revoke_api_client(client, actor=None, actor_label="test")
    assert set(db.session.scalars(scope(select(Referral.id), client))) == set()
    assert not can_see(client, town.referrals["p1_queue"])
    assert referring_practices(client) == []
