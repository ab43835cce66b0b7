"""Retention: volunteer records and call logs go after the configured inactivity, by an
audited job; history other people rely on stays, without the volunteer's details."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from referrals import retention, scheduler
from referrals.models import (
    AuditEvent,
    CallOutcome,
    ChampionSuggestion,
    CheckInRating,
    HubCall,
    MatchStatus,
    Role,
    SafeguardingConcern,
    SuggestionKind,
    User,
    Volunteer,
    VolunteerCheckIn,
    VolunteerMatch,
    VolunteerOffer,
    VolunteerRequest,
    VolunteerStatus,
    utcnow,
)


def test_old_calls_and_inactive_volunteers_are_removed_and_the_run_is_audited(make, db):
    now = utcnow()
    team = make.team()
    old, recent = (now - timedelta(days=31), now - timedelta(days=29))
    old_call = HubCall(team_id=team.id, outcome=CallOutcome.INFORMATION, caller_name="Old",
                       received_at=old)
    new_call = HubCall(team_id=team.id, outcome=CallOutcome.INFORMATION, caller_name="New",
                       received_at=recent)

    def volunteer(name, last_active, **kwargs):
        v = Volunteer(team_id=team.id, given_name=name, family_name="Smith",
                      email=f"{name}@example.org", phone="07700 900111", postcode="KB1 2AB",
                      last_active_at=last_active, status=VolunteerStatus.APPROVED, **kwargs)
        db.session.add(v)
        return v

    account = make.user(Role.VOLUNTEER)
    quiet = volunteer("Quiet", old, user_id=account.id, champion_districts=["KB1"])
    active = volunteer("Active", recent)
    with_history = volunteer("Helper", old)
    still_matched = volunteer("Matched", old)
    db.session.add_all([old_call, new_call])
    db.session.flush()
    request = VolunteerRequest(team_id=team.id, need=VolunteerOffer.LIFTS)
    db.session.add(request)
    db.session.flush()
    db.session.add_all([
        VolunteerMatch(volunteer_id=with_history.id, request_id=request.id,
                       status=MatchStatus.ENDED, end_reason="Moved away"),
        VolunteerMatch(volunteer_id=still_matched.id, request_id=request.id,
                       status=MatchStatus.ACCEPTED)])
    suggestion = ChampionSuggestion(team_id=team.id, volunteer_id=quiet.id,
                                    kind=SuggestionKind.NEW_GROUP, name="Knit")
    db.session.add(suggestion)
    db.session.flush()
    ids = {v.given_name: v.id for v in (quiet, active, with_history, still_matched)}
    old_call_id = old_call.id

    run = retention.purge(now=now, volunteer_days=30, call_days=30)

    assert run.calls_deleted == [old_call_id]
    assert run.volunteers_deleted == [ids["Quiet"]]
    assert run.volunteers_anonymised == [ids["Helper"]]
    db.session.expire_all()
    assert [c.caller_name for c in db.session.scalars(select(HubCall))] == ["New"]
    assert db.session.get(Volunteer, ids["Quiet"]) is None
    assert db.session.get(ChampionSuggestion, suggestion.id).volunteer_id is None
    closed = db.session.get(User, account.id)
    assert not closed.active and "Quiet" not in closed.name
    helper = db.session.get(Volunteer, ids["Helper"])
    assert (helper.given_name, helper.email, helper.phone, helper.postcode) == (
        "Removed", "", "", "")
    match = db.session.scalars(select(VolunteerMatch).where(
        VolunteerMatch.volunteer_id == ids["Helper"])).one()
    assert match.end_reason == "Moved away"  # the history stays
    assert db.session.get(Volunteer, ids["Active"]).email == "Active@example.org"
    assert db.session.get(Volunteer, ids["Matched"]).email == "Matched@example.org"
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "retention")).one()
    assert event.actor_label == "Retention job"
    assert event.detail["call_ids"] == [old_call_id]
    assert event.detail["volunteer_ids_deleted"] == [ids["Quiet"]]
    assert event.detail["volunteers_anonymised"] == 1
    # A second run finds nothing more to do.
    assert retention.purge(now=now, volunteer_days=30, call_days=30).total == 0


def test_the_job_is_scheduled_and_reads_the_configured_times(app, db):
    assert scheduler.JOBS["retention"] is retention.run_job
    assert app.config["VOLUNTEER_RETENTION_DAYS"] == 1095
    assert app.config["CALL_LOG_RETENTION_DAYS"] == 730


def test_a_volunteer_signing_in_restarts_their_clock(client, make, db):
    account = make.user(Role.VOLUNTEER, password="correct horse battery")
    team = make.team()
    long_ago = utcnow() - timedelta(days=400)
    record = Volunteer(team_id=team.id, user_id=account.id, given_name="Sam", email="s@x.org",
                       last_active_at=long_ago)
    db.session.add(record)
    db.session.commit()
    client.submit("/login", {"email": account.email, "password": "correct horse battery"})
    db.session.expire_all()
    assert db.session.get(Volunteer, record.id).last_active_at > long_ago + timedelta(days=399)


def test_a_volunteer_with_check_ins_and_concerns_on_their_matches_keeps_that_history(
        make, db):
    """Check-ins and safeguarding concerns point at the volunteer's matches: the volunteer
    is anonymised, never deleted from under them, on SQLite and PostgreSQL alike."""
    now = utcnow()
    team = make.team()
    account = make.user(Role.VOLUNTEER)
    connector = make.user(Role.CONNECTOR, team=team)
    old = now - timedelta(days=31)
    volunteer = Volunteer(team_id=team.id, user_id=account.id, given_name="Pat",
                          family_name="Jones", email="pat@example.org", last_active_at=old,
                          status=VolunteerStatus.LEFT)
    request = VolunteerRequest(team_id=team.id, need=VolunteerOffer.BEFRIENDING_CALLS)
    db.session.add_all([volunteer, request])
    db.session.flush()
    match = VolunteerMatch(volunteer_id=volunteer.id, request_id=request.id,
                           status=MatchStatus.ENDED, end_reason="Pat stopped volunteering")
    db.session.add(match)
    db.session.flush()
    check_in = VolunteerCheckIn(match_id=match.id, rating=CheckInRating.GOING_WELL,
                                note="Weekly calls", recorded_by_id=connector.id)
    concern = SafeguardingConcern(team_id=team.id, match_id=match.id,
                                  raised_by_id=account.id, concern="Not eating")
    db.session.add_all([check_in, concern])
    db.session.flush()
    ids = volunteer.id, match.id, check_in.id, concern.id

    run = retention.purge(now=now, volunteer_days=30, call_days=30)
    db.session.commit()

    assert run.volunteers_anonymised == [ids[0]] and run.volunteers_deleted == []
    db.session.expire_all()
    assert db.session.get(Volunteer, ids[0]).given_name == "Removed"
    assert db.session.get(VolunteerCheckIn, ids[2]).match_id == ids[1]
    kept = db.session.get(SafeguardingConcern, ids[3])
    assert kept.match_id == ids[1] and not kept.raised_by.active
    assert "Pat" not in kept.raised_by.name
