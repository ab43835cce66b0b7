"""Reminders and escalations: timing with a frozen clock, and digest content.

Exactly-once delivery across two schedulers is in notifications/test_delivery.py.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from referrals import scheduler
from referrals.workdays import UK
from referrals.models import (
    ContactChannel,
    DeliveryClaim,
    FollowUp,
    FollowUpStatus,
    Notification,
    ReferralStatus,
    Role,
)


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def notifications(db, user, kind=None):
    query = select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return db.session.scalars(query.order_by(Notification.id)).all()


@pytest.fixture
def team_setup(make):
    practice = make.practice()
    team = practice.team
    team.follow_up_grace_days = 2
    connector = make.user(Role.CONNECTOR, team=team, capacity=20)
    coordinator = make.user(Role.COORDINATOR, team=team)
    return practice, team, connector, coordinator


def late_referral(make, practice, connector, *, due: date, status=ReferralStatus.RECEIVED):
    referral = make.referral(practice, status=status, connector=connector)
    referral.team_id = practice.team_id
    referral.first_contact_due = due
    referral.first_contact_at = None
    make.session.flush()
    return referral


def follow_up(make, referral, due: date, *, status=FollowUpStatus.SCHEDULED, purpose=""):
    item = FollowUp(referral_id=referral.id, due_on=due, method=ContactChannel.PHONE,
                    purpose=purpose, status=status)
    make.session.add(item)
    make.session.flush()
    return item


# --- first-contact escalation ------------------------------------------------------------

DUE = date(2026, 11, 20)  # a Friday


def test_first_contact_is_not_escalated_before_or_on_its_due_day(db, make, team_setup):
    practice, _, connector, coordinator = team_setup
    late_referral(make, practice, connector, due=DUE)

    assert scheduler.escalate_first_contacts(now=at(DUE - timedelta(days=1))) == 0
    assert scheduler.escalate_first_contacts(now=at(DUE, 17)) == 0
    assert notifications(db, coordinator) == []


def test_first_contact_is_escalated_to_the_coordinator_the_day_after_it_was_due(
        db, make, team_setup):
    practice, _, connector, coordinator = team_setup
    referral = late_referral(make, practice, connector, due=DUE)

    assert scheduler.escalate_first_contacts(now=at(DUE + timedelta(days=1), 8)) == 1

    [sent] = notifications(db, coordinator)
    assert sent.kind == "first-contact-overdue"
    assert referral.reference in sent.title
    assert connector.name in sent.body
    # The link opens the referral's workspace.
    assert current_app.url_map.bind("localhost").match(sent.url) == (
        "caseload.workspace", {"referral_id": referral.id})
    assert notifications(db, connector) == []  # escalations go to the coordinator


def test_first_contact_escalation_goes_once_a_day_while_it_stays_overdue(db, make, team_setup):
    practice, _, connector, coordinator = team_setup
    late_referral(make, practice, connector, due=DUE)
    saturday = DUE + timedelta(days=1)

    assert scheduler.escalate_first_contacts(now=at(saturday, 8)) == 1
    assert scheduler.escalate_first_contacts(now=at(saturday, 8) + timedelta(minutes=15)) == 0
    assert scheduler.escalate_first_contacts(now=at(saturday, 17)) == 0
    assert scheduler.escalate_first_contacts(now=at(saturday + timedelta(days=1), 8)) == 1

    assert len(notifications(db, coordinator)) == 2


def test_the_day_rolls_over_at_local_midnight(db, make, team_setup):
    practice, _, connector, _ = team_setup
    late_referral(make, practice, connector, due=date(2026, 7, 10))
    # 23:30 UTC on the 10th is 00:30 on the 11th in London (BST).
    assert scheduler.escalate_first_contacts(now=datetime(2026, 7, 10, 22, 30, tzinfo=UTC)) == 0
    assert scheduler.escalate_first_contacts(now=datetime(2026, 7, 10, 23, 30, tzinfo=UTC)) == 1


def test_a_first_contact_made_stops_the_escalation(db, make, team_setup):
    practice, _, connector, _ = team_setup
    referral = late_referral(make, practice, connector, due=DUE)
    referral.first_contact_at = at(DUE + timedelta(days=1), 7)
    db.session.flush()

    assert scheduler.escalate_first_contacts(now=at(DUE + timedelta(days=2))) == 0


def test_work_under_way_is_not_escalated_for_first_contact(db, make, team_setup):
    practice, _, connector, _ = team_setup
    late_referral(make, practice, connector, due=DUE, status=ReferralStatus.IN_PROGRESS)

    assert scheduler.escalate_first_contacts(now=at(DUE + timedelta(days=3))) == 0


def test_every_coordinator_of_the_team_and_no_other_team_hears(db, make, team_setup):
    practice, team, connector, coordinator = team_setup
    second = make.user(Role.COORDINATOR, team=team)
    elsewhere = make.user(Role.COORDINATOR)
    late_referral(make, practice, connector, due=DUE)

    assert scheduler.escalate_first_contacts(now=at(DUE + timedelta(days=1))) == 2

    assert len(notifications(db, coordinator)) == 1
    assert len(notifications(db, second)) == 1
    assert notifications(db, elsewhere) == []


# --- overdue follow-ups ------------------------------------------------------------------

FOLLOW_UP_DUE = date(2026, 11, 16)


def test_an_overdue_follow_up_is_escalated_only_after_the_grace_days(db, make, team_setup):
    practice, _, connector, coordinator = team_setup
    referral = make.referral(practice, status=ReferralStatus.IN_PROGRESS, connector=connector)
    follow_up(make, referral, FOLLOW_UP_DUE)

    # Grace 2 days: overdue on the 17th and 18th, escalated from the 19th.
    for day in (16, 17, 18):
        assert scheduler.escalate_overdue_follow_ups(now=at(date(2026, 11, day))) == 0
    assert scheduler.escalate_overdue_follow_ups(now=at(date(2026, 11, 19))) == 1
    assert scheduler.escalate_overdue_follow_ups(now=at(date(2026, 11, 19), 16)) == 0

    [sent] = notifications(db, coordinator)
    assert sent.kind == "follow-up-overdue"
    assert "3 days overdue" in sent.title


def test_the_grace_period_is_the_teams(db, make, team_setup):
    practice, team, connector, _ = team_setup
    team.follow_up_grace_days = 0
    referral = make.referral(practice, status=ReferralStatus.IN_PROGRESS, connector=connector)
    follow_up(make, referral, FOLLOW_UP_DUE)

    assert scheduler.escalate_overdue_follow_ups(now=at(FOLLOW_UP_DUE)) == 0
    assert scheduler.escalate_overdue_follow_ups(now=at(FOLLOW_UP_DUE + timedelta(days=1))) == 1


def test_done_follow_ups_are_not_escalated(db, make, team_setup):
    practice, _, connector, _ = team_setup
    referral = make.referral(practice, status=ReferralStatus.IN_PROGRESS, connector=connector)
    follow_up(make, referral, FOLLOW_UP_DUE, status=FollowUpStatus.DONE)

    assert scheduler.escalate_overdue_follow_ups(now=at(FOLLOW_UP_DUE + timedelta(days=9))) == 0


# --- the daily digest --------------------------------------------------------------------

TODAY = date(2026, 11, 23)


def test_the_digest_lists_todays_follow_ups_and_everything_overdue(db, make, team_setup):
    practice, _, connector, _ = team_setup
    other = make.user(Role.CONNECTOR, team=practice.team)
    today_case = make.referral(practice, status=ReferralStatus.IN_PROGRESS, connector=connector)
    late_case = make.referral(practice, status=ReferralStatus.IN_PROGRESS, connector=connector)
    never_called = late_referral(make, practice, connector, due=TODAY - timedelta(days=2))
    follow_up(make, today_case, TODAY, purpose="Check the walking group went well")
    follow_up(make, late_case, TODAY - timedelta(days=1))
    follow_up(make, late_case, TODAY - timedelta(days=5), status=FollowUpStatus.DONE)
    follow_up(make, today_case, TODAY + timedelta(days=1))
    others_case = make.referral(practice, status=ReferralStatus.IN_PROGRESS, connector=other)
    follow_up(make, others_case, TODAY)

    assert scheduler.send_digests(now=at(TODAY, 7)) == 2

    [digest] = notifications(db, connector, "digest")
    assert digest.title == "Your day, 23 Nov 2026: 1 due today, 2 overdue"
    due_today, overdue = digest.body.split("\n\n")
    assert due_today == (f"Due today:\n- {today_case.reference}: phone follow-up "
                         "(Check the walking group went well)")
    assert f"- {late_case.reference}: phone follow-up, due 22 Nov 2026" in overdue
    assert f"- {never_called.reference}: first contact, due 21 Nov 2026" in overdue
    assert others_case.reference not in digest.body
    assert current_app.url_map.bind("localhost").match(digest.url)[0] == "caseload.my_caseload"
    [their_digest] = notifications(db, other, "digest")
    assert others_case.reference in their_digest.body


def test_the_digest_goes_once_a_day(db, make, team_setup):
    practice, _, connector, _ = team_setup
    referral = make.referral(practice, status=ReferralStatus.IN_PROGRESS, connector=connector)
    follow_up(make, referral, TODAY)

    assert scheduler.send_digests(now=at(TODAY, 7)) == 1
    assert scheduler.send_digests(now=at(TODAY, 9)) == 0

    claim = db.session.scalars(
        select(DeliveryClaim).where(DeliveryClaim.key == f"digest:{connector.id}:2026-11-23")
    ).one()
    assert claim.sent_at is not None and claim.attempts == 1


def test_a_connector_with_nothing_due_gets_no_digest(db, make, team_setup):
    practice, _, connector, _ = team_setup
    referral = make.referral(practice, status=ReferralStatus.IN_PROGRESS, connector=connector)
    follow_up(make, referral, TODAY + timedelta(days=3))

    assert scheduler.send_digests(now=at(TODAY, 7)) == 0
    assert notifications(db, connector) == []


# --- wiring --------------------------------------------------------------------------


def test_the_scheduler_has_its_jobs_and_the_sweep_and_is_not_started_by_create_app(app):
    built = scheduler.build(app)

    assert {job.id for job in built.get_jobs()} == {"digest", "first-contact", "follow-up",
                                                    "monthly-reports", "jobs",
                                                    "volunteer-check-ins",
                                                    "volunteer-renewals",  # issue 15
                                                    "retention",  # issue 15 (community)
                                                    # issue 15 (partners)
                                                    "unverified-listings"}
    assert not built.running


def test_on_start_the_jobs_catch_up_and_the_digest_waits_for_its_hour(app):
    morning = datetime(2026, 11, 23, 6, 30, tzinfo=UK)
    early = {job.id: getattr(job, "next_run_time", None) for job in
             scheduler.build(app, catch_up=True, now=morning).get_jobs()}
    assert early["first-contact"] == early["follow-up"] == early["jobs"] == morning
    assert early["digest"] is None  # scheduled by its trigger when the scheduler starts

    noon = morning.replace(hour=12)
    late = {job.id: getattr(job, "next_run_time", None) for job in
            scheduler.build(app, catch_up=True, now=noon).get_jobs()}
    assert late == {"digest": noon, "first-contact": noon, "follow-up": noon,
                    "monthly-reports": noon, "jobs": noon, "volunteer-check-ins": noon,
                    "volunteer-renewals": noon,  # issue 15
                    "retention": noon,  # issue 15 (community)
                    "unverified-listings": noon}  # issue 15 (partners)


def test_the_scheduler_command_runs_every_job_once(app, db, make, team_setup):
    practice, _, connector, coordinator = team_setup
    late_referral(make, practice, connector, due=date(2020, 1, 6))

    result = app.test_cli_runner().invoke(args=["scheduler", "--once"])

    assert result.exit_code == 0, result.output
    assert "first-contact: 1 delivered" in result.output
    assert len(notifications(db, coordinator)) == 1


def test_the_in_process_scheduler_starts_on_a_background_thread(app):
    started = scheduler.start_in_process(app)
    try:
        assert started.running
        assert started.get_job("digest").next_run_time is not None
    finally:
        started.shutdown(wait=False)
