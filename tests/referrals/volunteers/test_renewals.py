"""DBS renewals and who may be matched (issue 15): an approved volunteer whose check has
run out lapses (a scheduled, audited job) and is never matched; a new check re-approves
them; a declined, lapsed or left volunteer is never matchable."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from referrals import scheduler
from referrals.models import AuditEvent, Role, VolunteerStatus
from referrals.volunteers import decisions, service
from tests.referrals.volunteers.conftest import years_ago

TODAY = date(2026, 12, 3)
NOW = datetime(2026, 12, 3, 6, 40, tzinfo=UTC)


def matchable_ids(team, today=TODAY) -> set[int]:
    from referrals.extensions import db

    return {v.id for v in db.session.scalars(service.matchable_volunteers(team.id, today=today))}


def test_only_approved_volunteers_with_current_checks_are_matchable(make, team, volunteer, db):
    approved = volunteer(team, status=VolunteerStatus.APPROVED, references_on=TODAY,
                         dbs_on=TODAY - timedelta(days=30))
    expired = volunteer(team, status=VolunteerStatus.APPROVED, references_on=TODAY,
                        dbs_on=years_ago(3, TODAY))
    for status in (VolunteerStatus.APPLIED, VolunteerStatus.DECLINED, VolunteerStatus.LAPSED,
                   VolunteerStatus.LEFT):
        volunteer(team, status=status, references_on=TODAY, dbs_on=TODAY)
    volunteer(make.team(), status=VolunteerStatus.APPROVED, references_on=TODAY, dbs_on=TODAY)

    assert matchable_ids(team) == {approved.id}
    assert service.is_matchable(approved, TODAY)
    assert not service.is_matchable(expired, TODAY)  # even before the job has run


def test_the_renewal_job_lapses_expired_checks_and_is_audited(team, volunteer, db):
    expired = volunteer(team, status=VolunteerStatus.APPROVED, references_on=TODAY,
                        dbs_on=years_ago(3, TODAY))
    current = volunteer(team, status=VolunteerStatus.APPROVED, references_on=TODAY,
                        dbs_on=years_ago(3, TODAY) + timedelta(days=1))
    db.session.commit()

    assert scheduler.JOBS["volunteer-renewals"](now=NOW) == 1

    db.session.refresh(expired)
    db.session.refresh(current)
    assert (expired.status, expired.status_reason) == (VolunteerStatus.LAPSED, service.DBS_EXPIRED)
    assert current.status is VolunteerStatus.APPROVED
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "lapse")).one()
    assert (event.entity_id, event.actor_id) == (expired.id, None)
    assert service.renewal_job(now=NOW) == 0  # a second run finds nothing more


def test_the_renewal_period_comes_from_configuration(team, volunteer, app, monkeypatch, db):
    monkeypatch.setitem(app.config, "VOLUNTEER_DBS_RENEW_YEARS", 1)
    two_years = volunteer(team, status=VolunteerStatus.APPROVED, references_on=TODAY,
                          dbs_on=years_ago(2, TODAY))
    db.session.commit()

    assert service.lapse_expired(now=NOW) == 1
    db.session.refresh(two_years)
    assert two_years.status is VolunteerStatus.LAPSED


def test_recording_a_new_dbs_check_re_approves_a_lapsed_volunteer(login_as, team, volunteer, db):
    coordinator = login_as(Role.COORDINATOR, team=team)
    lapsed = volunteer(team, status=VolunteerStatus.LAPSED, status_reason=service.DBS_EXPIRED,
                       references_on=TODAY, dbs_on=years_ago(3, TODAY))
    on_a_break = volunteer(team, status=VolunteerStatus.LAPSED, status_reason="Taking a break",
                           references_on=TODAY, dbs_on=years_ago(3, TODAY))

    done = decisions.record_checks(lapsed, actor=coordinator, today=TODAY, dbs_on=TODAY)
    decisions.record_checks(on_a_break, actor=coordinator, today=TODAY, dbs_on=TODAY)

    assert done == ["DBS check", "approved again"]
    assert lapsed.status is VolunteerStatus.APPROVED
    assert on_a_break.status is VolunteerStatus.LAPSED  # their break is theirs to end
    assert matchable_ids(team) == {lapsed.id}


def test_the_renewal_is_counted_in_days(team, volunteer, db):
    due = volunteer(team, status=VolunteerStatus.APPROVED, dbs_on=years_ago(3, TODAY)
                    + timedelta(days=12))
    overdue = volunteer(team, status=VolunteerStatus.LAPSED, dbs_on=years_ago(3, TODAY)
                        - timedelta(days=4))
    applied = volunteer(team, dbs_on=TODAY)

    assert service.renewal_days(due, TODAY) == 12
    assert service.renewal_days(overdue, TODAY) == -4
    assert service.renewal_days(applied, TODAY) is None


def test_the_list_says_overdue_for_a_lapsed_check(client, login_as, team, volunteer, db):
    login_as(Role.COORDINATOR, team=team)
    volunteer(team, given_name="Len", status=VolunteerStatus.LAPSED,
              status_reason=service.DBS_EXPIRED, references_on=date.today(),
              dbs_on=years_ago(3) - timedelta(days=2))
    db.session.commit()

    text = client.get("/hub/volunteers").get_data(as_text=True)

    assert "DBS check overdue by 2 days" in text
