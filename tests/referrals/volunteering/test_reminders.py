"""The scheduler reminds whoever works a running match that its check-in is due, once."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from referrals.models import Notification, VolunteerOffer, VolunteerRequest
from referrals.volunteering import reminders, service
from tests.referrals.volunteering.conftest import TODAY


def accepted_match(app, request, proposer, volunteer):
    with app.test_request_context():
        match = service.propose(request, volunteer, actor=proposer)
        service.answer(match, accept=True, actor=volunteer.user, today=TODAY)
    return match


def reminders_for(db, user):
    return db.session.scalars(select(Notification.url).where(
        Notification.user_id == user.id, Notification.kind == "volunteer-check-in")).all()


def test_a_due_check_in_reminds_the_connector_or_for_a_phone_call_the_coordinators(
        app, db, hub, referral, volunteers):
    with app.test_request_context():
        weekly = service.create_request(referral, need="befriending_calls", when=[],
                                        notes="", actor=hub.connector)
    from_call = VolunteerRequest(team_id=hub.team.id, need=VolunteerOffer.SHOPPING, given_name="Bert",
                                 phone="07700 900777", postcode="LS1 4AP")
    db.session.add(from_call)
    db.session.flush()
    ours = accepted_match(app, weekly, hub.connector, volunteers(hub.team))
    theirs = accepted_match(app, from_call, hub.coordinator,
                            volunteers(hub.team, "Sue Shops", offers=("shopping",)))
    due = TODAY + timedelta(weeks=2)
    eve = datetime.combine(due - timedelta(days=1), datetime.min.time(),
                           tzinfo=ZoneInfo("Europe/London")).replace(hour=10)
    assert reminders.remind_check_ins(now=eve) == 0
    assert reminders.remind_check_ins(now=eve + timedelta(days=1)) == 2
    assert reminders_for(db, hub.connector) == [
        f"/volunteering/requests/{weekly.id}#match-{ours.id}"]
    assert reminders_for(db, hub.coordinator) == [
        f"/volunteering/requests/{from_call.id}#match-{theirs.id}"]
    # Once a day, however often the job runs.
    assert reminders.remind_check_ins(now=eve + timedelta(days=1, hours=2)) == 0
