"""Volunteer matching services: asking, ranking, proposing, answering, check-ins, hours
and ending safely."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from referrals.errors import CaseworkInvalid, NotPermitted
from referrals.models import (
    AuditEvent,
    MatchStatus,
    Notification,
    OutboxMessage,
    VolunteerHours,
    VolunteerMatch,
    VolunteerStatus,
)
from referrals.volunteering import service
from referrals.volunteers.service import years_before
from tests.referrals.volunteering.conftest import TODAY


@pytest.fixture
def weekly_call(app, referral, hub):
    with app.test_request_context():
        yield service.create_request(referral, need="befriending_calls",
                                     when=["mon-morning", "thu-afternoon"],
                                     notes="A weekly chat", actor=hub.connector)


def test_the_connector_asks_for_a_volunteer_and_where_the_person_lives_is_kept(
        weekly_call, referral, db):
    assert weekly_call.status == "open" and weekly_call.team_id == referral.team_id
    assert weekly_call.latitude == pytest.approx(53.796)
    assert weekly_call.when == ["mon-morning", "thu-afternoon"]
    audit = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "volunteer-request")).one()
    assert audit.patient_id == referral.patient_id


def test_asking_needs_a_need_and_known_times_and_the_referral_held(app, referral, hub):
    with app.test_request_context():
        with pytest.raises(CaseworkInvalid) as exc:
            service.create_request(referral, need="juggling", when=["someday"], notes="",
                                   actor=hub.connector)
        assert set(exc.value.errors) == {"need", "when"}
        with pytest.raises(NotPermitted):
            service.create_request(referral, need="lifts", when=[], notes="",
                                   actor=hub.colleague)


def test_suitable_volunteers_are_approved_offer_the_need_and_rank_by_fit(
        app, weekly_call, hub, volunteers, make):
    near = volunteers(hub.team, "Dave Wilson", km_north=0.5,
                      availability=("mon-morning", "thu-afternoon"))
    far = volunteers(hub.team, "Fay Far", km_north=12, availability=("mon-morning",))
    volunteers(hub.team, "Liz Lifts", offers=("lifts",))
    for status in (VolunteerStatus.APPLIED, VolunteerStatus.DECLINED, VolunteerStatus.LAPSED,
                   VolunteerStatus.LEFT):
        volunteers(hub.team, f"Not {status.value}", status=status)
    volunteers(make.team(), "Other Team")
    ranked, excluded = service.rank_volunteers(weekly_call)
    assert [r.name for r in ranked] == [near.name, far.name]
    assert ranked[0].score > ranked[1].score
    assert "offers befriending phone calls" in ranked[0].explanation
    assert "0.5 km away" in ranked[0].explanation
    assert "free Monday mornings and Thursday afternoons" in ranked[0].explanation
    assert excluded == []


def test_a_declined_or_lapsed_volunteer_cannot_be_proposed(app, weekly_call, hub, volunteers):
    lapsed = volunteers(hub.team, "Lapsed Lee", status=VolunteerStatus.LAPSED)
    declined = volunteers(hub.team, "Declined Dee", status=VolunteerStatus.DECLINED)
    with app.test_request_context():
        for volunteer in (lapsed, declined):
            with pytest.raises(CaseworkInvalid, match="cannot be matched"):
                service.propose(weekly_call, volunteer, actor=hub.connector)


def test_proposing_stores_the_explained_score_and_tells_the_volunteer(
        app, db, weekly_call, hub, volunteers):
    dave = volunteers(hub.team)
    with app.test_request_context():
        match = service.propose(weekly_call, dave, actor=hub.connector)
    assert match.status is MatchStatus.PROPOSED and match.score > 0
    assert "befriending" in match.explanation
    note = db.session.scalars(select(Notification).where(
        Notification.user_id == dave.user_id)).one()
    assert note.url == f"/volunteering/matches/{match.id}"
    mail = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to == dave.user.email)).one()
    # An email leaves Kindly: what is asked, never who (referrals.sharing: EMAIL).
    assert mail.subject == "Can you help? Befriending phone calls"
    assert not {"Ada", "Lovelace"} & set(f"{mail.subject} {mail.body}".split())
    assert "Ada" in note.title  # behind sign-in, the volunteer sees the first name


def test_the_email_telling_a_volunteer_the_hub_ended_their_match_says_neither_who_nor_why(
        app, db, weekly_call, hub, volunteers):
    dave = volunteers(hub.team)
    with app.test_request_context():
        match = service.propose(weekly_call, dave, actor=hub.connector)
        service.end_match(match, reason="Ada went into hospital", actor=hub.connector)
    mails = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to == dave.user.email, OutboxMessage.subject.startswith("Match ended"))
    ).all()
    assert len(mails) == 1
    assert "hospital" not in mails[0].body and "Ada" not in f"{mails[0].subject} {mails[0].body}"
    assert db.session.scalars(select(Notification.body).where(
        Notification.user_id == dave.user_id,
        Notification.kind == "volunteer-match-ended")).one() == "Ada went into hospital"


def test_a_volunteer_who_declined_is_left_out_with_the_reason(app, weekly_call, hub,
                                                              volunteers):
    dave = volunteers(hub.team)
    with app.test_request_context():
        match = service.propose(weekly_call, dave, actor=hub.connector)
        service.answer(match, accept=False, note="Away all month", actor=dave.user,
                       today=TODAY)
        ranked, excluded = service.rank_volunteers(weekly_call)
        assert ranked == []
        assert [(e.name, e.reason) for e in excluded] == [("Dave Wilson",
                                                           "declined this request")]
        with pytest.raises(CaseworkInvalid, match="declined this request"):
            service.propose(weekly_call, dave, actor=hub.connector)


def test_accepting_sets_the_first_check_in_two_weeks_on_and_tells_the_connector(
        app, db, weekly_call, hub, volunteers):
    dave = volunteers(hub.team)
    with app.test_request_context():
        match = service.propose(weekly_call, dave, actor=hub.connector)
        service.answer(match, accept=True, actor=dave.user, today=TODAY,
                       expected_version=match.version)
    assert match.status is MatchStatus.ACCEPTED
    assert match.next_check_in_on == TODAY + timedelta(weeks=2)
    assert weekly_call.status == "matched"
    titles = db.session.scalars(select(Notification.title).where(
        Notification.user_id == hub.connector.id)).all()
    assert titles == ["Dave Wilson accepted the match with Ada"]


def test_declining_needs_a_reason_and_only_the_volunteer_answers(app, weekly_call, hub,
                                                                 volunteers):
    dave = volunteers(hub.team)
    other = volunteers(hub.team, "Other Olly")
    with app.test_request_context():
        match = service.propose(weekly_call, dave, actor=hub.connector)
        with pytest.raises(CaseworkInvalid):
            service.answer(match, accept=False, note=" ", actor=dave.user, today=TODAY)
        with pytest.raises(NotPermitted):
            service.answer(match, accept=True, actor=other.user, today=TODAY)


def test_withdrawn_while_the_volunteer_accepts_one_wins_and_the_other_is_told(
        app, weekly_call, hub, volunteers):
    dave = volunteers(hub.team)
    with app.test_request_context():
        match = service.propose(weekly_call, dave, actor=hub.connector)
        seen = match.version
        service.end_match(match, reason="Ada found a friend", actor=hub.connector,
                          expected_version=seen)
        with pytest.raises(service.StaleMatch, match="it is now ended"):
            service.answer(match, accept=True, actor=dave.user, today=TODAY,
                           expected_version=seen)
    assert match.status is MatchStatus.ENDED


def test_ending_needs_a_reason_keeps_the_history_and_tells_the_other_side(
        app, db, weekly_call, hub, volunteers):
    dave = volunteers(hub.team)
    with app.test_request_context():
        match = service.propose(weekly_call, dave, actor=hub.connector)
        service.answer(match, accept=True, actor=dave.user, today=TODAY)
        service.log_hours(match, on=TODAY, hours=1.5, note="", actor=dave.user, today=TODAY)
        with pytest.raises(CaseworkInvalid):
            service.end_match(match, reason="", actor=dave.user)
        service.end_match(match, reason="Moving away", actor=dave.user)
    assert match.status is MatchStatus.ENDED and match.ended_by_id == dave.user_id
    assert db.session.get(VolunteerMatch, match.id) is not None
    assert db.session.scalars(select(VolunteerHours)).one().hours == 1.5
    assert weekly_call.status == "open"
    assert db.session.scalars(select(Notification.title).where(
        Notification.user_id == hub.connector.id,
        Notification.kind == "volunteer-match-ended")).one().startswith("Match ended")


def test_a_check_in_sets_the_next_and_overdue_ones_are_listed(app, db, weekly_call, hub,
                                                               volunteers):
    dave = volunteers(hub.team)
    with app.test_request_context():
        match = service.propose(weekly_call, dave, actor=hub.connector)
        service.answer(match, accept=True, actor=dave.user, today=TODAY)
    due = TODAY + timedelta(weeks=2)
    assert service.overdue_check_ins(hub.connector, due - timedelta(days=1)) == []
    assert service.overdue_check_ins(hub.coordinator, due) == [match]
    assert service.overdue_check_ins(hub.other_team_connector, due) == []
    with pytest.raises(CaseworkInvalid) as exc:
        service.record_check_in(match, rating=None, note="", next_on=due, actor=hub.connector,
                                today=due)
    assert set(exc.value.errors) == {"rating", "next_on"}
    service.record_check_in(match, rating="going_well", note="They talk every Monday",
                            next_on=None, actor=hub.connector, today=due)
    assert match.next_check_in_on == due + timedelta(weeks=2)
    assert service.overdue_check_ins(hub.connector, due) == []


def test_hours_are_logged_by_the_volunteer_on_an_accepted_match_only(app, weekly_call, hub,
                                                                     volunteers):
    dave = volunteers(hub.team)
    with app.test_request_context():
        match = service.propose(weekly_call, dave, actor=hub.connector)
        with pytest.raises(CaseworkInvalid, match="accepted"):
            service.log_hours(match, on=TODAY, hours=1, note="", actor=dave.user, today=TODAY)
        service.answer(match, accept=True, actor=dave.user, today=TODAY)
        with pytest.raises(CaseworkInvalid) as exc:
            service.log_hours(match, on=TODAY + timedelta(days=1), hours=30, note="",
                              actor=dave.user, today=TODAY)
        assert set(exc.value.errors) == {"on", "hours"}
        with pytest.raises(NotPermitted):
            service.log_hours(match, on=TODAY, hours=1, note="", actor=hub.connector,
                              today=TODAY)


def test_what_a_volunteer_sees_holds_no_health_information(app, weekly_call, hub, volunteers,
                                                           referral):
    dave = volunteers(hub.team)
    with app.test_request_context():
        match = service.propose(weekly_call, dave, actor=hub.connector)
        shown = service.for_volunteer(match)
        assert (shown.first_name, shown.area, shown.phone) == ("Ada", "LS1", "")
        service.answer(match, accept=True, actor=dave.user, today=TODAY)
        shown = service.for_volunteer(match)
    assert shown.phone == "07700 900123"
    words = " ".join(str(v) for k, v in vars(shown).items() if k != "match")
    assert referral.patient.nhs_number not in words and "Lovelace" not in words


def test_a_volunteer_whose_account_was_closed_is_neither_ranked_nor_proposed(
        app, weekly_call, hub, volunteers):
    dave = volunteers(hub.team)
    dave.user.active = False
    assert service.rank_volunteers(weekly_call) == ([], [])
    with app.test_request_context(), pytest.raises(CaseworkInvalid, match="active account"):
        service.propose(weekly_call, dave, actor=hub.connector)


# --- who may be matched: the volunteers part's rule (checks done and current) ----------


def test_a_volunteer_whose_dbs_check_expired_yesterday_is_neither_ranked_nor_proposed(
        app, weekly_call, hub, volunteers):
    today = service.local_day(service.utcnow())
    renew_years = app.config["VOLUNTEER_DBS_RENEW_YEARS"]
    # Expired yesterday: still "approved", as the renewal job has not run yet.
    expired = volunteers(hub.team, "Eve Expired",
                         dbs_on=years_before(today - timedelta(days=1), renew_years))
    unchecked = volunteers(hub.team, "Una Unchecked", checked_on=None)
    current = volunteers(hub.team, "Cara Current")
    ranked, excluded = service.rank_volunteers(weekly_call, today=today)
    assert [r.name for r in ranked] == [current.name] and excluded == []
    with app.test_request_context():
        with pytest.raises(CaseworkInvalid, match="DBS check needs renewing"):
            service.propose(weekly_call, expired, actor=hub.connector)
        with pytest.raises(CaseworkInvalid, match="references have not been checked"):
            service.propose(weekly_call, unchecked, actor=hub.connector)
        assert service.propose(weekly_call, current, actor=hub.connector).status \
            is MatchStatus.PROPOSED


def test_a_volunteer_whose_check_ran_out_after_the_proposal_cannot_accept(
        app, weekly_call, hub, volunteers):
    dave = volunteers(hub.team)
    with app.test_request_context():
        match = service.propose(weekly_call, dave, actor=hub.connector)
        later = dave.dbs_checked_on.replace(year=dave.dbs_checked_on.year
                                            + app.config["VOLUNTEER_DBS_RENEW_YEARS"])
        with pytest.raises(CaseworkInvalid, match="renewed your checks"):
            service.answer(match, accept=True, actor=dave.user, today=later)
        service.answer(match, accept=False, note="My check ran out", actor=dave.user,
                       today=later)
    assert match.status is MatchStatus.DECLINED
