"""A coordinator reviews their team's volunteers: records references and a DBS check
(dates and who, never a certificate), then approves, which makes a VOLUNTEER account and
emails the set-password invitation, or declines; each with the reason (issue 15)."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from referrals.models import AuditEvent, OutboxMessage, Role, User, VolunteerStatus
from referrals.volunteers import decisions, service
from tests.referrals.intake.conftest import Page
from tests.referrals.volunteers.conftest import years_ago

NEW_PASSWORD = "a long volunteer password"


@pytest.fixture
def coordinator(login_as, team):
    return login_as(Role.COORDINATOR, team=team)


def checks(volunteer, *, refs=None, dbs=None, refs_by="", dbs_by="", version=None):
    data = {"version": str(version if version is not None else volunteer.version),
            "references_by": refs_by, "dbs_by": dbs_by}
    for name, day in (("references_on", refs), ("dbs_on", dbs)):
        if day is not None:
            data.update({f"{name}-day": str(day.day), f"{name}-month": str(day.month),
                         f"{name}-year": str(day.year)})
    return data


def url(volunteer, action=""):
    return f"/hub/volunteers/{volunteer.id}" + (f"/{action}" if action else "")


def test_the_list_shows_the_teams_sign_ups_by_status_renewals_first_and_is_audited(
        client, coordinator, team, volunteer, make, db):
    today = date.today()
    applied = volunteer(team, given_name="Ann", family_name="Applied")
    due = volunteer(team, given_name="Dee", family_name="Due", status=VolunteerStatus.APPROVED,
                    references_on=today, dbs_on=years_ago(3) + timedelta(days=10))
    fine = volunteer(team, given_name="Fay", family_name="Fine", status=VolunteerStatus.APPROVED,
                     references_on=today, dbs_on=today)
    elsewhere = volunteer(make.team(), given_name="Olga", family_name="Otherteam")
    db.session.commit()

    page = Page(client.get("/hub/volunteers"))
    text = page.text()

    assert "Olga" not in text
    assert text.index("DBS renewals due") < text.index("Awaiting checks (1)")
    assert "DBS check due in 10 days" in text
    assert "Approved (2)" in text and "Ann Applied" in text and "Fay Fine" in text
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "volunteer", AuditEvent.action == "list")).one()
    assert sorted(event.detail["shown"]) == sorted([applied.id, due.id, fine.id])
    assert client.get(url(elsewhere)).status_code == 404


def test_only_a_coordinator_reviews_volunteers(client, login_as, team, volunteer, db):
    someone = volunteer(team)
    db.session.commit()
    login_as(Role.CONNECTOR, team=team)

    assert client.get("/hub/volunteers").status_code == 403
    assert client.get(url(someone)).status_code == 403


def test_checks_are_recorded_with_dates_and_who_checked_and_audited(
        client, coordinator, team, volunteer, db):
    someone = volunteer(team)
    db.session.commit()
    assert client.get(url(someone)).status_code == 200  # a read, audited

    response = client.submit(url(someone, "checks"), checks(
        someone, refs=date.today() - timedelta(days=3), dbs=date.today() - timedelta(days=1),
        dbs_by="Kindlebury DBS umbrella service"), page=url(someone))

    assert response.status_code == 303
    db.session.refresh(someone)
    assert someone.references_checked_on == date.today() - timedelta(days=3)
    assert someone.references_checked_by_id == coordinator.id
    assert someone.references_checked_by_name == ""
    assert someone.dbs_checked_by_name == "Kindlebury DBS umbrella service"
    page = Page(client.get(url(someone)))
    assert f"checked by {coordinator.name}" in page.text()
    assert "checked by Kindlebury DBS umbrella service" in page.text()
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity_type == "volunteer", AuditEvent.entity_id == someone.id)).all()
    assert {"read", "record checks"} <= set(actions)


@pytest.mark.parametrize(("data", "field", "message"), [
    ({}, "references_on", "Enter the date the references were checked, or the DBS check"),
    ({"refs": date.today() + timedelta(days=1)}, "references_on",
     "The references check date must be today or in the past"),
    ({"dbs": years_ago(4)}, "dbs_on", "This DBS check is more than 3 years old: record a new check"),
])
def test_a_check_must_have_a_real_past_date(client, coordinator, team, volunteer, db, data,
                                            field, message):
    someone = volunteer(team)
    db.session.commit()

    response = client.submit(url(someone, "checks"), checks(someone, **data), page=url(someone))

    assert response.status_code == 422
    assert Page(response).error_for(field) == message
    db.session.refresh(someone)
    assert someone.references_checked_on is None and someone.dbs_checked_on is None


def test_a_half_typed_date_says_what_is_missing(client, coordinator, team, volunteer, db):
    someone = volunteer(team)
    db.session.commit()
    data = {"version": str(someone.version), "dbs_on-day": "3", "dbs_on-year": "2026"}

    response = client.submit(url(someone, "checks"), data, page=url(someone))

    assert response.status_code == 422
    assert Page(response).error_for("dbs_on") == "Date of the DBS check must include a month"


def test_approval_needs_both_checks_and_says_what_is_missing(client, coordinator, team,
                                                              volunteer, db):
    someone = volunteer(team, references_on=date.today())
    db.session.commit()

    response = client.submit(url(someone, "decision"), {
        "version": str(someone.version), "decision": "approve", "reason": "Lovely"},
        page=url(someone))

    assert response.status_code == 422
    assert Page(response).error_for("decision") == "Before approving: Record their DBS check"
    db.session.refresh(someone)
    assert someone.status is VolunteerStatus.APPLIED and someone.user_id is None


def test_approval_makes_a_volunteer_account_and_emails_the_invitation(
        client, coordinator, team, volunteer, db):
    someone = volunteer(team, references_on=date.today(), dbs_on=date.today(),
                        email="dave@example.com")
    db.session.commit()

    response = client.submit(url(someone, "decision"), {
        "version": str(someone.version), "decision": "approve",
        "reason": "References and DBS satisfactory"}, page=url(someone))

    assert response.status_code == 303
    db.session.refresh(someone)
    assert someone.status is VolunteerStatus.APPROVED
    assert someone.status_reason == "References and DBS satisfactory"
    assert someone.decided_by_id == coordinator.id
    account = db.session.get(User, someone.user_id)
    assert (account.role, account.team_id, account.email) == (
        Role.VOLUNTEER, team.id, "dave@example.com")
    message = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to == "dave@example.com")).one()
    [secret] = re.findall(r"/set-password/([A-Za-z0-9_-]+)", message.body)
    assert {"approve", "invite"} <= set(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.actor_id == coordinator.id)))

    client.post("/logout", data={"csrf_token": client.csrf_token("/hub/volunteers")})
    done = client.submit(f"/set-password/{secret}", {"new_password": NEW_PASSWORD,
                                                     "confirm_password": NEW_PASSWORD})
    assert done.status_code == 303
    signed_in = client.submit("/login", {"email": "dave@example.com", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302
    home = client.get("/", follow_redirects=True)
    assert home.request.path == "/volunteering"
    assert "My volunteering" in Page(home).text()


def test_an_email_already_with_an_account_is_refused_before_approving(
        client, coordinator, team, volunteer, make, db):
    make.user(Role.REFERRER, email="taken@example.com")
    someone = volunteer(team, references_on=date.today(), dbs_on=date.today(),
                        email="taken@example.com")
    db.session.commit()

    response = client.submit(url(someone, "decision"), {
        "version": str(someone.version), "decision": "approve", "reason": "Fine"},
        page=url(someone))

    assert response.status_code == 422
    assert "already a Kindly account for taken@example.com" in Page(response).text()
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_declining_needs_a_reason_and_stops_the_volunteer_being_matched(
        client, coordinator, team, volunteer, db):
    someone = volunteer(team, references_on=date.today(), dbs_on=date.today())
    db.session.commit()

    blank = client.submit(url(someone, "decision"), {
        "version": str(someone.version), "decision": "decline", "reason": " "},
        page=url(someone))
    done = client.submit(url(someone, "decision"), {
        "version": str(someone.version), "decision": "decline",
        "reason": "References not satisfactory"}, page=url(someone))

    assert blank.status_code == 422
    assert Page(blank).error_for("reason") == "Enter the reason for declining"
    assert done.status_code == 303
    db.session.refresh(someone)
    assert (someone.status, someone.status_reason) == (
        VolunteerStatus.DECLINED, "References not satisfactory")
    assert db.session.scalars(service.matchable_volunteers(team.id, today=date.today())).all() == []


def test_two_coordinators_deciding_at_once_one_wins_and_the_other_is_told(
        client, coordinator, team, volunteer, db):
    someone = volunteer(team, references_on=date.today(), dbs_on=date.today())
    db.session.commit()
    opened_at = someone.version
    first = client.submit(url(someone, "decision"), {
        "version": str(opened_at), "decision": "approve", "reason": "Good"}, page=url(someone))

    second = client.submit(url(someone, "decision"), {
        "version": str(opened_at), "decision": "decline", "reason": "Not sure about them"},
        page=url(someone))

    assert first.status_code == 303
    assert second.status_code == 409
    page = Page(second)
    assert "Someone else changed Dave Wilson's record" in page.text()
    assert "they are now approved" in page.text()
    assert page.value_of("reason") == "Not sure about them"  # nothing typed is lost
    db.session.refresh(someone)
    assert someone.status is VolunteerStatus.APPROVED


def test_declining_an_approved_volunteer_stops_their_account(client, coordinator, team,
                                                              volunteer, make, db):
    account = make.user(Role.VOLUNTEER)
    someone = volunteer(team, status=VolunteerStatus.APPROVED, references_on=date.today(),
                        dbs_on=date.today(), user_id=account.id, email=account.email)
    db.session.commit()

    response = client.submit(url(someone, "decision"), {
        "version": str(someone.version), "decision": "decline",
        "reason": "A safeguarding concern"}, page=url(someone))

    assert response.status_code == 303
    db.session.refresh(account)
    assert account.active is False


def test_a_decision_that_loses_at_the_database_is_a_conflict_not_an_error(
        client, coordinator, team, volunteer, db, monkeypatch):
    someone = volunteer(team, references_on=date.today(), dbs_on=date.today())
    db.session.commit()

    def lost(*args, **kwargs):
        raise StaleDataError("UPDATE statement on table 'volunteer' expected to update 1 row")

    monkeypatch.setattr(decisions, "approve", lost)
    response = client.submit(url(someone, "decision"), {
        "version": str(someone.version), "decision": "approve", "reason": "Good"},
        page=url(someone))

    assert response.status_code == 409
    assert "Someone else changed this record at the same moment" in Page(response).text()
    assert Page(response).value_of("reason") == "Good"


def test_a_coordinator_can_email_an_approved_volunteer_a_new_link(
        client, coordinator, team, volunteer, make, db):
    account = make.user(Role.VOLUNTEER)
    someone = volunteer(team, status=VolunteerStatus.APPROVED, references_on=date.today(),
                        dbs_on=date.today(), user_id=account.id, email=account.email)
    waiting = volunteer(team)
    db.session.commit()

    sent = client.submit(url(someone, "invitation"), {}, page=url(someone))
    refused = client.submit(url(waiting, "invitation"), {}, page=url(waiting))

    assert sent.status_code == refused.status_code == 303
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.to == account.email and "/set-password/" in message.body
    assert "is not approved" in client.get(url(waiting)).get_data(as_text=True)
