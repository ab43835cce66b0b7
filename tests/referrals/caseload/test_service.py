"""The casework rules: accepting, rejecting, contacts, follow-ups, closing, and the lists."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from referrals.caseload import listing, service
from referrals.errors import CaseworkInvalid, NotPermitted
from referrals.models import (
    AuditEvent,
    ContactChannel,
    ContactOutcome,
    FollowUp,
    FollowUpStatus,
    ReferralStatus,
    Urgency,
    utcnow,
)

S = ReferralStatus
C = ContactOutcome
PHONE = ContactChannel.PHONE


def contact(referral, actor, outcome, *, minutes_ago=60, **kwargs):
    return service.record_contact(
        referral, actor=actor, at=utcnow() - timedelta(minutes=minutes_ago), method=PHONE,
        outcome=outcome, **kwargs,
    )


def audit_actions(db, referral) -> list[str]:
    return list(db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_id == referral.id,
                                        AuditEvent.entity_type == "referral")
        .order_by(AuditEvent.id)))


# --- accept and reject -------------------------------------------------------------


def test_accepting_a_queued_referral_makes_it_the_connectors_own(db, make, hub):
    referral = make.referral(hub.practice)
    version = referral.version

    service.accept_referral(referral, actor=hub.connector)

    assert referral.status is S.ACCEPTED
    assert referral.connector_id == hub.connector.id
    assert [e.kind for e in referral.events][-2:] == ["assignment", "status"]
    assert referral.version > version
    assert "accept" in audit_actions(db, referral)


def test_accepting_a_referral_routed_to_me_keeps_the_assignment(make, hub):
    referral = make.referral(hub.practice, connector=hub.connector)
    service.accept_referral(referral, actor=hub.connector)
    assert referral.status is S.ACCEPTED
    assert [e.kind for e in referral.events].count("assignment") == 0


def test_a_connector_cannot_accept_a_referral_routed_to_a_colleague(make, hub):
    referral = make.referral(hub.practice, connector=hub.colleague)
    with pytest.raises(NotPermitted):
        service.accept_referral(referral, actor=hub.connector)


def test_a_coordinator_does_not_accept_but_may_reject(make, hub):
    referral = make.referral(hub.practice)
    with pytest.raises(NotPermitted):
        service.accept_referral(referral, actor=hub.coordinator)
    service.reject_referral(referral, actor=hub.coordinator, reason="Needs a mental health team")
    assert referral.status is S.REJECTED


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_rejecting_needs_a_reason(make, hub, reason):
    referral = make.referral(hub.practice)
    with pytest.raises(CaseworkInvalid) as caught:
        service.reject_referral(referral, actor=hub.connector, reason=reason)
    assert "reason" in caught.value.errors
    assert referral.status is S.RECEIVED


def test_rejecting_records_the_reason_on_the_event(make, hub):
    referral = make.referral(hub.practice)
    service.reject_referral(referral, actor=hub.connector, reason="  Under 18  ")
    assert referral.status is S.REJECTED
    assert referral.events[-1].reason == "Under 18"


def test_a_connector_of_another_team_can_do_nothing(make, hub):
    referral = make.referral(hub.practice)
    with pytest.raises(NotPermitted):
        service.accept_referral(referral, actor=hub.other_team_connector)
    with pytest.raises(NotPermitted):
        service.reject_referral(referral, actor=hub.other_team_connector, reason="x")


# --- contacts ----------------------------------------------------------------------


def test_the_first_successful_contact_stops_the_clock_and_starts_the_work(db, make, hub):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=hub.connector)
    version = referral.version

    spoke = contact(referral, hub.connector, C.SPOKE, minutes_ago=30, duration_minutes=20,
                    notes="Keen on the walking group")

    assert referral.first_contact_at == spoke.at
    assert referral.status is S.IN_PROGRESS
    assert referral.events[-1].to_status is S.IN_PROGRESS
    assert referral.version > version
    assert "record-contact" in audit_actions(db, referral)


def test_a_later_successful_contact_does_not_move_the_clock(make, hub):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=hub.connector)
    first = contact(referral, hub.connector, C.SPOKE, minutes_ago=120)
    contact(referral, hub.connector, C.SPOKE, minutes_ago=10)
    assert referral.first_contact_at == first.at
    assert referral.status is S.IN_PROGRESS


def test_failed_attempts_leave_the_clock_running_and_each_bumps_the_version(make, hub):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=hub.connector)
    versions = [referral.version]
    for outcome in (C.NO_ANSWER, C.LEFT_MESSAGE):
        contact(referral, hub.connector, outcome)
        versions.append(referral.version)

    assert referral.first_contact_at is None
    assert referral.status is S.ACCEPTED
    assert service.failed_attempts(referral) == 2
    assert versions == sorted(set(versions))


def test_unable_to_contact_is_offered_only_after_the_teams_number_of_failures(make, hub):
    hub.team.max_contact_attempts = 2
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=hub.connector)

    contact(referral, hub.connector, C.NO_ANSWER)
    assert not service.offers_unable_to_contact(referral)
    assert "unable_to_contact" not in service.closings_offered(referral)
    with pytest.raises(CaseworkInvalid):
        service.close_referral(referral, "unable_to_contact", actor=hub.connector, note="tried")

    contact(referral, hub.connector, C.WRONG_NUMBER)
    assert service.offers_unable_to_contact(referral)
    assert referral.status is S.ACCEPTED  # offered, never automatic

    service.close_referral(referral, "unable_to_contact", actor=hub.connector,
                           note="Three letters and calls, no reply")
    assert referral.status is S.UNABLE_TO_CONTACT


def test_once_someone_is_reached_unable_to_contact_is_not_offered(make, hub):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=hub.connector)
    for _ in range(3):
        contact(referral, hub.connector, C.NO_ANSWER)
    contact(referral, hub.connector, C.SPOKE, minutes_ago=5)
    for _ in range(3):
        contact(referral, hub.connector, C.NO_ANSWER, minutes_ago=1)
    assert not service.offers_unable_to_contact(referral)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"at": "future"}, "contact_date"),
        ({"at": None}, "contact_date"),
        ({"method": None}, "method"),
        ({"outcome": None}, "outcome"),
        ({"duration_minutes": 601}, "duration"),
        ({"duration_minutes": -1}, "duration"),
    ],
)
def test_a_contact_must_be_complete_in_the_past_and_of_sensible_length(make, hub, changes,
                                                                        field):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=hub.connector)
    now = utcnow()
    values = {"at": now - timedelta(hours=1), "method": PHONE, "outcome": C.SPOKE,
              "duration_minutes": 30}
    values.update(changes)
    if values["at"] == "future":
        values["at"] = now + timedelta(hours=1)
    with pytest.raises(CaseworkInvalid) as caught:
        service.record_contact(referral, actor=hub.connector, now=now, **values)
    assert field in caught.value.errors
    assert referral.contacts == [] and referral.status is S.ACCEPTED


def test_only_the_holder_or_a_coordinator_may_record_contacts(make, hub):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=hub.connector)
    with pytest.raises(NotPermitted):
        contact(referral, hub.colleague, C.SPOKE)
    contact(referral, hub.coordinator, C.SPOKE)  # cover
    assert referral.status is S.IN_PROGRESS


def test_no_contacts_on_a_closed_or_queued_referral(make, hub):
    queued = make.referral(hub.practice)
    closed = make.referral(hub.practice, status=S.COMPLETED, connector=hub.connector)
    for referral in (queued, closed):
        with pytest.raises(NotPermitted):
            contact(referral, hub.connector, C.SPOKE)


# --- follow-ups --------------------------------------------------------------------


def schedule(referral, actor, due_on, today, purpose="Check on the walking group"):
    return service.schedule_follow_up(referral, actor=actor, due_on=due_on, method=PHONE,
                                      purpose=purpose, today=today)


def test_scheduling_a_follow_up(make, hub):
    referral = make.referral(hub.practice, status=S.IN_PROGRESS, connector=hub.connector)
    today, version = date.today(), referral.version
    follow_up = schedule(referral, hub.connector, today + timedelta(days=7), today)
    assert follow_up.status is FollowUpStatus.SCHEDULED
    assert follow_up in referral.follow_ups
    assert referral.version == version + 1


@pytest.mark.parametrize(
    ("due", "purpose", "field"),
    [(-1, "x", "due_on"), (None, "x", "due_on"), (1, "", "purpose"), (1, "x" * 301, "purpose")],
)
def test_a_follow_up_needs_a_date_not_in_the_past_and_a_purpose(make, hub, due, purpose, field):
    referral = make.referral(hub.practice, status=S.IN_PROGRESS, connector=hub.connector)
    today = date.today()
    due_on = today + timedelta(days=due) if due is not None else None
    with pytest.raises(CaseworkInvalid) as caught:
        schedule(referral, hub.connector, due_on, today, purpose=purpose)
    assert field in caught.value.errors


def test_a_follow_up_can_be_done_today(make, hub):
    referral = make.referral(hub.practice, status=S.IN_PROGRESS, connector=hub.connector)
    today = date.today()
    follow_up = schedule(referral, hub.connector, today, today)
    service.close_follow_up(referral, follow_up, actor=hub.connector, status=FollowUpStatus.DONE)
    assert follow_up.status is FollowUpStatus.DONE and follow_up.closed_at is not None


def test_a_missed_follow_up_needs_a_note(make, hub):
    referral = make.referral(hub.practice, status=S.IN_PROGRESS, connector=hub.connector)
    today = date.today()
    follow_up = schedule(referral, hub.connector, today, today)
    with pytest.raises(CaseworkInvalid):
        service.close_follow_up(referral, follow_up, actor=hub.connector,
                                status=FollowUpStatus.MISSED, note=" ")
    version = referral.version
    service.close_follow_up(referral, follow_up, actor=hub.connector,
                            status=FollowUpStatus.MISSED, note="Not home")
    assert follow_up.status is FollowUpStatus.MISSED
    assert follow_up.outcome_note == "Not home"
    assert referral.version == version + 1
    with pytest.raises(CaseworkInvalid):  # closed once only
        service.close_follow_up(referral, follow_up, actor=hub.connector,
                                status=FollowUpStatus.DONE)


def test_rescheduling_replaces_the_follow_up_with_a_new_one(db, make, hub):
    referral = make.referral(hub.practice, status=S.IN_PROGRESS, connector=hub.connector)
    today = date.today()
    old = schedule(referral, hub.connector, today + timedelta(days=1), today, purpose="Review")

    new = service.reschedule_follow_up(referral, old, actor=hub.connector,
                                       due_on=today + timedelta(days=8), note="On holiday",
                                       today=today)

    assert old.status is FollowUpStatus.RESCHEDULED and old.outcome_note == "On holiday"
    assert new.replaces_id == old.id
    assert (new.status, new.method, new.purpose) == (FollowUpStatus.SCHEDULED, PHONE, "Review")
    assert new.due_on == today + timedelta(days=8)
    with pytest.raises(CaseworkInvalid):
        service.reschedule_follow_up(referral, new, actor=hub.connector,
                                     due_on=today - timedelta(days=1), today=today)


def test_a_follow_up_of_another_referral_cannot_be_closed_through_this_one(make, hub):
    mine = make.referral(hub.practice, status=S.IN_PROGRESS, connector=hub.connector)
    other = make.referral(hub.practice, status=S.IN_PROGRESS, connector=hub.connector)
    today = date.today()
    follow_up = schedule(other, hub.connector, today, today)
    with pytest.raises(CaseworkInvalid):
        service.close_follow_up(mine, follow_up, actor=hub.connector, status=FollowUpStatus.DONE)


# --- closing -----------------------------------------------------------------------


@pytest.mark.parametrize(("closing", "status"), [("declined", S.DECLINED),
                                                 ("completed", S.COMPLETED)])
def test_decline_and_complete_need_a_closing_note(make, hub, closing, status):
    referral = make.referral(hub.practice, status=S.IN_PROGRESS, connector=hub.connector)
    with pytest.raises(CaseworkInvalid) as caught:
        service.close_referral(referral, closing, actor=hub.connector, note="  ")
    assert "note" in caught.value.errors
    service.close_referral(referral, closing, actor=hub.connector, note="Joined two groups")
    assert referral.status is status
    assert referral.events[-1].reason == "Joined two groups"


def test_an_accepted_referral_can_be_declined_but_not_completed(make, hub):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=hub.connector)
    assert service.closings_offered(referral) == ["declined"]
    with pytest.raises(CaseworkInvalid):
        service.close_referral(referral, "completed", actor=hub.connector, note="done")


def test_a_colleague_cannot_close_my_referral(make, hub):
    referral = make.referral(hub.practice, status=S.IN_PROGRESS, connector=hub.connector)
    with pytest.raises(NotPermitted):
        service.close_referral(referral, "completed", actor=hub.colleague, note="x")


# --- the lists ---------------------------------------------------------------------


def test_the_queue_is_urgent_first_then_oldest_and_only_unassigned_received(db, make, hub):
    old = make.referral(hub.practice)
    new = make.referral(hub.practice)
    urgent = make.referral(hub.practice, urgency=Urgency.URGENT)
    old.created_at = utcnow() - timedelta(days=3)
    urgent.created_at = utcnow()
    make.referral(hub.practice, connector=hub.colleague)  # routed to a colleague
    make.referral(hub.practice, status=S.ACCEPTED, connector=hub.connector)
    make.referral()  # another team
    routed = make.referral(hub.practice, connector=hub.connector)
    db.session.flush()

    queue = listing.triage_queue(hub.connector)

    assert [r.id for r in queue.unassigned] == [urgent.id, old.id, new.id]
    assert [r.id for r in queue.routed_to_me] == [routed.id]
    assert [r.id for r in listing.triage_queue(hub.coordinator).unassigned] == [
        urgent.id, old.id, new.id]


def test_the_caseload_puts_overdue_work_first_and_counts_by_status(db, make, hub):
    today = date(2026, 3, 10)
    calm = make.referral(hub.practice, status=S.IN_PROGRESS, connector=hub.connector)
    calm.first_contact_at = utcnow()
    late_first = make.referral(hub.practice, status=S.ACCEPTED, connector=hub.connector)
    late_first.first_contact_due = today - timedelta(days=1)
    not_yet = make.referral(hub.practice, status=S.ACCEPTED, connector=hub.connector)
    not_yet.first_contact_due = today + timedelta(days=2)
    late_follow_up = make.referral(hub.practice, status=S.IN_PROGRESS, connector=hub.connector,
                                   risks=["Aggressive dog"], no_known_risks=False)
    db.session.add(FollowUp(referral_id=late_follow_up.id, due_on=today - timedelta(days=3),
                            method=PHONE, purpose="Review"))
    db.session.add(FollowUp(referral_id=calm.id, due_on=today + timedelta(days=5),
                            method=PHONE, purpose="Review"))
    make.referral(hub.practice, status=S.IN_PROGRESS, connector=hub.colleague)
    make.referral(hub.practice, status=S.COMPLETED, connector=hub.connector)
    db.session.flush()

    result = listing.caseload(hub.connector, today=today)

    ids = [row.referral.id for row in result.rows]
    assert set(ids[:2]) == {late_first.id, late_follow_up.id}
    assert ids[2:] == [not_yet.id, calm.id]
    assert result.counts == {S.ACCEPTED: 2, S.IN_PROGRESS: 2}
    assert result.overdue_count == 2
    rows = {row.referral.id: row for row in result.rows}
    assert rows[late_follow_up.id].has_risks and not rows[calm.id].has_risks
    assert rows[calm.id].next_follow_up == today + timedelta(days=5)

    overdue = listing.caseload(hub.connector, today=today, overdue_only=True)
    assert {row.referral.id for row in overdue.rows} == {late_first.id, late_follow_up.id}
    accepted = listing.caseload(hub.connector, today=today, status=S.ACCEPTED)
    assert {row.referral.id for row in accepted.rows} == {late_first.id, not_yet.id}
    assert accepted.counts == result.counts  # counts ignore the filter


def test_the_caseload_shows_the_time_of_the_last_contact(make, hub):
    referral = make.referral(hub.practice, status=S.ACCEPTED, connector=hub.connector)
    contact(referral, hub.connector, C.NO_ANSWER, minutes_ago=300)
    latest = contact(referral, hub.connector, C.SPOKE, minutes_ago=20)
    (row,) = listing.caseload(hub.connector, today=date.today()).rows
    assert row.last_contact_at == latest.at


def test_the_caseload_reads_in_a_fixed_number_of_queries(db, make, hub):
    def queries_for(n_extra):
        for _ in range(n_extra):
            referral = make.referral(hub.practice, status=S.ACCEPTED, connector=hub.connector)
            contact(referral, hub.connector, C.SPOKE)
            schedule(referral, hub.connector, date.today(), date.today())
        db.session.flush()
        db.session.expunge_all()
        statements = []
        engine = db.session.get_bind()

        def listener(*args):
            statements.append(args[2])

        event.listen(engine, "before_cursor_execute", listener)
        try:
            user = db.session.merge(hub.connector)
            listing.caseload(user, today=date.today())
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    assert queries_for(2) == queries_for(6)
