"""The coordinator's rules: (re)assignment with a reason, availability, and the team overview."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from referrals import workflow
from referrals.errors import NotPermitted
from referrals.hub import service
from referrals.hub.service import HubInvalid
from referrals.models import AuditEvent, AwayPeriod, ReferralEvent, ReferralStatus, Role

S = ReferralStatus


@pytest.fixture
def coordinator(make, team):
    return make.user(Role.COORDINATOR, team=team)


def assignment_events(db, referral):
    return db.session.scalars(
        select(ReferralEvent).where(ReferralEvent.referral_id == referral.id,
                                    ReferralEvent.kind == "assignment")
        .order_by(ReferralEvent.id)
    ).all()


def test_reassigning_writes_an_event_with_the_reason_and_bumps_the_version(
        db, make, practice, team, coordinator, connector, refer):
    jo, sam = connector(team, 5, name="Jo"), connector(team, 5, name="Sam")
    referral = refer(practice)
    assert referral.connector is jo
    version = referral.version

    service.assign(referral, sam, actor=coordinator, reason="Jo is on leave next week")

    assert referral.connector is sam
    assert referral.version == version + 1
    last = assignment_events(db, referral)[-1]
    assert last.actor_id == coordinator.id
    assert last.reason == "Assigned to Sam: Jo is on leave next week"
    assert last.from_status == last.to_status == S.RECEIVED
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "assign")).one()
    assert (audit.patient_id, audit.actor_id) == (referral.patient_id, coordinator.id)
    assert audit.detail == {"from_connector": jo.id, "to_connector": sam.id}


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_a_reason_is_required(db, practice, team, coordinator, connector, refer, reason):
    sam = connector(team, name="Sam")
    referral = refer(practice)
    with pytest.raises(HubInvalid) as caught:
        service.assign(referral, sam, actor=coordinator, reason=reason)
    assert caught.value.field == "reason"
    assert referral.connector is None and assignment_events(db, referral) == []


def test_a_referral_can_go_back_to_the_team_queue(db, practice, team, coordinator, connector,
                                                  refer):
    jo = connector(team, 5, name="Jo")
    referral = refer(practice)
    assert referral.connector is jo
    service.assign(referral, None, actor=coordinator, reason="Needs a Welsh speaker")
    assert referral.connector is None
    assert assignment_events(db, referral)[-1].reason.startswith("Assigned to the team queue")


def test_only_an_active_connector_in_the_referrals_team_can_be_given_it(
        make, practice, team, other_team, coordinator, connector, refer):
    referral = refer(practice)
    elsewhere = connector(other_team, 10)
    left = connector(team, 10, active=False)
    colleague = make.user(Role.COORDINATOR, team=team)
    for person in (elsewhere, left, colleague):
        with pytest.raises(HubInvalid) as caught:
            service.assign(referral, person, actor=coordinator, reason="Cover")
        assert caught.value.field == "connector"
    assert referral.connector is None


def test_giving_a_referral_to_whoever_already_holds_it_is_refused(practice, team, coordinator,
                                                                 connector, refer):
    jo = connector(team, 5)
    referral = refer(practice)
    with pytest.raises(HubInvalid, match="already"):
        service.assign(referral, jo, actor=coordinator, reason="Again")


def test_a_closed_referral_cannot_be_reassigned(practice, team, coordinator, connector, refer):
    referral = refer(practice)
    workflow.transition(referral, S.REJECTED, actor=coordinator, reason="Not suitable")
    with pytest.raises(HubInvalid, match="rejected"):
        service.assign(referral, connector(team, 5), actor=coordinator, reason="Reopen")


def test_only_the_teams_own_coordinator_can_assign(make, practice, team, other_team, connector,
                                                   refer):
    referral = refer(practice)
    jo = connector(team, 5)
    for actor in (make.user(Role.COORDINATOR, team=other_team),
                  make.user(Role.CONNECTOR, team=team), make.user(Role.ADMIN)):
        with pytest.raises(NotPermitted):
            service.assign(referral, jo, actor=actor, reason="Because")


AWAY_TODAY = date(2026, 12, 1)


def away(jo, coordinator, first, last=None, **kwargs):
    return service.set_availability(jo, actor=coordinator, capacity=5, away_from=first,
                                    away_until=last, today=AWAY_TODAY, **kwargs)


def test_away_dates_end_on_or_after_they_start(db, coordinator, team, connector):
    jo = connector(team, 5)
    with pytest.raises(HubInvalid) as caught:
        away(jo, coordinator, date(2026, 12, 24), date(2026, 12, 23))
    assert caught.value.field == "away_until"
    with pytest.raises(HubInvalid) as caught:
        away(jo, coordinator, None, date(2026, 12, 23))
    assert caught.value.field == "away_from"
    assert db.session.scalars(select(AwayPeriod)).all() == []


def test_time_away_wholly_in_the_past_is_refused(db, coordinator, team, connector):
    jo = connector(team, 5)
    with pytest.raises(HubInvalid) as caught:
        away(jo, coordinator, date(2026, 11, 20), date(2026, 11, 30))
    assert (caught.value.field, str(caught.value)) == (
        "away_until", "The last day away must be today or in the future")
    with pytest.raises(HubInvalid) as caught:
        away(jo, coordinator, date(2026, 11, 30))
    assert caught.value.field == "away_from"
    # Leave that began last week and runs on is fine.
    assert away(jo, coordinator, date(2026, 11, 25), date(2026, 12, 4)) is not None


def test_setting_availability_stores_it_and_audits_it(db, coordinator, team, connector):
    jo = connector(team, 5)
    service.set_availability(jo, actor=coordinator, capacity=12,
                             away_from=date(2026, 12, 24), away_until=None,
                             note="Christmas Eve", today=AWAY_TODAY)
    db.session.refresh(jo)
    assert jo.capacity == 12
    assert [(p.starts_on, p.ends_on, p.note, p.created_by) for p in jo.away_periods] == [
        (date(2026, 12, 24), date(2026, 12, 24), "Christmas Eve", coordinator)]
    assert jo.is_away_on(date(2026, 12, 24)) and not jo.is_away_on(date(2026, 12, 29))
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "user")).one()
    assert audit.entity_id == jo.id and audit.detail["capacity"] == 12
    assert audit.detail["away_added"] == {"from": "2026-12-24", "until": "2026-12-24"}


def test_two_periods_away_and_an_overlap_refused_naming_the_one_booked(
        db, coordinator, team, connector):
    jo = connector(team, 5)
    away(jo, coordinator, date(2026, 12, 21), date(2026, 12, 24))
    away(jo, coordinator, date(2027, 2, 15), date(2027, 2, 19))
    with pytest.raises(HubInvalid) as caught:
        away(jo, coordinator, date(2026, 12, 24), date(2026, 12, 31))
    assert caught.value.field == "away_from"
    assert str(caught.value) == (
        "These dates overlap the time away already booked from 21 December 2026 to "
        "24 December 2026. Choose other dates, or remove that period first")
    db.session.refresh(jo)
    assert [(p.starts_on.isoformat(), p.ends_on.isoformat()) for p in jo.away_periods] == [
        ("2026-12-21", "2026-12-24"), ("2027-02-15", "2027-02-19")]
    days = [date(2026, 12, 20), date(2026, 12, 22), date(2027, 1, 5), date(2027, 2, 19)]
    assert [jo.is_away_on(d) for d in days] == [False, True, False, True]
    assert [p.starts_on for p in service.away_periods(jo, from_day=date(2027, 1, 1))] == [
        date(2027, 2, 15)]


def test_removing_a_period_is_audited_and_frees_those_days(db, coordinator, team, connector):
    jo = connector(team, 5)
    period = away(jo, coordinator, date(2026, 12, 21), date(2026, 12, 24))
    service.remove_away_period(period, actor=coordinator)
    db.session.refresh(jo)
    assert jo.away_periods == [] and not jo.is_away_on(date(2026, 12, 22))
    removed = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "user")
                                 .order_by(AuditEvent.id.desc())).first()
    assert removed.detail == {"away_removed": {"from": "2026-12-21", "until": "2026-12-24"}}


@pytest.mark.parametrize("capacity", [-1, service.MAX_CAPACITY + 1])
def test_capacity_must_be_sensible(coordinator, team, connector, capacity):
    with pytest.raises(HubInvalid) as caught:
        service.set_availability(connector(team, 5), actor=coordinator, capacity=capacity)
    assert caught.value.field == "capacity"


def test_another_teams_coordinator_cannot_change_a_connectors_availability(
        make, other_team, team, connector):
    with pytest.raises(NotPermitted):
        service.set_availability(connector(team, 5), actor=make.user(Role.COORDINATOR,
                                                                      team=other_team),
                                 capacity=1)


def test_the_overview_shows_workload_queue_and_overdue_first_contacts_for_one_team(
        make, practice, team, other_team, connector, refer):
    jo = connector(team, 2, name="Jo")
    old = refer(practice, days_ago=30)          # routed to Jo; first contact long overdue
    recent = refer(practice, days_ago=1)        # routed to Jo; Jo is now full
    queued = refer(practice)                    # nobody has room: waits
    contacted = refer(practice, days_ago=30)    # waits too, but was contacted in time
    contacted.first_contact_at = contacted.created_at
    refer(make.practice(team=other_team), days_ago=30)  # another team's: never shown

    overview = service.overview(team)

    (load,) = overview.workload
    assert (load.connector, load.active, load.capacity, load.full) == (jo, 2, 2, True)
    assert old.connector is jo and recent.connector is jo
    assert overview.unassigned == [contacted, queued]  # oldest first
    assert overview.waiting_for_capacity
    assert overview.overdue == [old]


def test_routing_the_queue_gives_waiting_referrals_to_whoever_now_has_room(
        db, practice, team, coordinator, connector, refer):
    jo = connector(team, 0)
    waiting = refer(practice)
    assert waiting.connector is None
    jo.capacity = 1
    assert service.route_queue(team, actor=coordinator) == [waiting]
    assert waiting.connector is jo
    assert assignment_events(db, waiting)[-1].actor_id == coordinator.id


# --- the team's rules ---------------------------------------------------------------


def test_team_rules_are_bounded(db, team, coordinator):
    with pytest.raises(HubInvalid) as caught:
        service.set_team_rules(team, actor=coordinator, max_contact_attempts=0)
    assert caught.value.field == "max_contact_attempts"
    service.set_team_rules(team, actor=coordinator, max_contact_attempts=10,
                           follow_up_grace_days=0)
    assert (team.max_contact_attempts, team.follow_up_grace_days) == (10, 0)


def test_only_the_teams_own_coordinator_can_change_its_rules(db, make, team, other_team):
    outsider = make.user(Role.COORDINATOR, team=other_team)
    with pytest.raises(NotPermitted):
        service.set_team_rules(team, actor=outsider, first_contact_days=2)
    assert team.first_contact_days == 5
