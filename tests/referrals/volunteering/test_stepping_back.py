"""A volunteer who steps back (leaves, a break), is declined, or lapses: their proposed and
accepted matches never carry on silently (referrals/volunteering/stepping_back.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from referrals.models import (
    AuditEvent,
    MatchStatus,
    Notification,
    VolunteerHours,
    VolunteerStatus,
    utcnow,
)
from referrals.volunteering import service
from referrals.volunteers import decisions, own
from referrals.volunteers.service import lapse_expired, years_before
from tests.referrals.volunteering.test_views import sign_in


@pytest.fixture
def dave_matched(app, referral, hub, volunteers):
    """Dave: accepted for a weekly call (with an hour logged), proposed for a lift."""
    dave = volunteers(hub.team, offers=("befriending_calls", "lifts"))
    with app.test_request_context():
        today = service.local_day(utcnow())
        calls = service.create_request(referral, need="befriending_calls", when=[],
                                       notes="", actor=hub.connector)
        lifts = service.create_request(referral, need="lifts", when=[], notes="",
                                       actor=hub.connector)
        running = service.propose(calls, dave, actor=hub.connector)
        service.answer(running, accept=True, actor=dave.user, today=today)
        service.log_hours(running, on=today, hours=1, note="", actor=dave.user, today=today)
        waiting = service.propose(lifts, dave, actor=hub.connector)
    return dave, running, waiting


def told(db, user, kind):
    return db.session.scalars(select(Notification.title).where(
        Notification.user_id == user.id, Notification.kind == kind)).all()


def test_a_volunteer_who_leaves_ends_every_running_match_and_the_connector_is_told(
        db, hub, dave_matched):
    dave, running, waiting = dave_matched
    own.step_back(dave, actor=dave.user, kind=own.LEAVE, reason="Moving to Leeds")

    for match in (running, waiting):
        assert match.status is MatchStatus.ENDED
        assert match.ended_by_id == dave.user_id and match.ended_at is not None
        assert match.end_reason == "Dave Wilson has stopped volunteering with the hub."
    assert running.request.status == "open"  # the person may still want someone
    assert db.session.scalars(select(VolunteerHours)).one().match_id == running.id
    assert len(told(db, hub.connector, "volunteer-match-ended")) == 2
    ended = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "volunteer-match-ended")).all()
    assert sorted(e.detail["match_id"] for e in ended) == sorted([running.id, waiting.id])


def test_a_declined_volunteers_matches_end_by_the_coordinator_without_their_reason(
        db, hub, dave_matched):
    dave, running, waiting = dave_matched
    decisions.decline(dave, actor=hub.coordinator, reason="A reference raised a concern")

    assert {running.status, waiting.status} == {MatchStatus.ENDED}
    assert {running.ended_by_id, waiting.ended_by_id} == {hub.coordinator.id}
    assert "declined Dave Wilson" in running.end_reason
    assert "reference" not in running.end_reason
    assert len(told(db, hub.connector, "volunteer-match-ended")) == 2


def test_a_break_withdraws_proposals_but_keeps_an_accepted_match_with_a_check_in_due_now(
        db, hub, dave_matched):
    dave, running, waiting = dave_matched
    own.step_back(dave, actor=dave.user, kind=own.BREAK, reason="")

    assert waiting.status is MatchStatus.ENDED
    assert waiting.end_reason == "Dave Wilson is taking a break from volunteering."
    assert running.status is MatchStatus.ACCEPTED
    today = service.local_day(utcnow())
    assert running.next_check_in_on == today  # two weeks away until the break
    assert service.overdue_check_ins(hub.connector, today) == [running]
    assert told(db, hub.connector, "volunteer-match-check-in") == [
        "Check in on Dave Wilson's match with Ada"]


def test_the_renewal_job_lapsing_a_volunteer_withdraws_proposals_and_flags_matches(
        app, db, hub, dave_matched):
    dave, running, waiting = dave_matched
    now = utcnow()
    dave.dbs_checked_on = years_before(service.local_day(now),
                                       app.config["VOLUNTEER_DBS_RENEW_YEARS"])
    assert lapse_expired(now=now) == 1

    assert dave.status is VolunteerStatus.LAPSED
    assert waiting.status is MatchStatus.ENDED and waiting.ended_by_id is None
    assert "DBS check needs renewing" in waiting.end_reason
    assert running.status is MatchStatus.ACCEPTED
    assert told(db, hub.connector, "volunteer-match-check-in")
    flagged = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "volunteer-match-flagged")).one()
    assert flagged.actor_id is None and flagged.detail["by"].startswith("Scheduled job")


def test_the_step_back_page_says_what_happens_to_their_matches(client, db, dave_matched):
    dave, running, _ = dave_matched
    sign_in(client, db, dave.user)
    page = client.get("/volunteering/step-back").get_data(as_text=True)
    assert "If you leave, your matches end" in page
    response = client.submit("/volunteering/step-back", {
        "version": str(dave.version), "kind": "leave", "reason": ""})
    assert response.status_code == 303
    db.session.refresh(running)
    assert running.status is MatchStatus.ENDED
