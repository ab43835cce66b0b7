"""The hub pages: for the team's coordinator only, scoped to their team, errors by the field."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from referrals.models import AuditEvent, AwayPeriod, ReferralEvent, Role
from referrals.workdays import UK

HUB_PAGES = ["/hub", "/hub/referrals/{referral}/assign", "/hub/connectors/{connector}",
             "/hub/settings"]


@pytest.fixture
def coordinator(login_as, team):
    return login_as(Role.COORDINATOR, team=team)


@pytest.fixture
def jo(connector, team):
    return connector(team, 3, name="Jo Bennett")


@pytest.fixture
def sam(connector, team):
    return connector(team, None, name="Sam Patel")


def url(template, referral, person):
    return template.format(referral=referral.id, connector=person.id)


@pytest.mark.parametrize("role", [Role.REFERRER, Role.MANAGER, Role.CONNECTOR, Role.ADMIN])
@pytest.mark.parametrize("template", HUB_PAGES)
def test_only_coordinators_may_open_the_hub(client, login_as, practice, team, jo, refer, role,
                                            template):
    referral = refer(practice)
    login_as(role, **({"team": team} if role.belongs_to_team else {"practice": practice}
                      if role.belongs_to_practice else {}))
    assert client.get(url(template, referral, jo)).status_code == 403


def test_the_hub_asks_anyone_signed_out_to_sign_in(client):
    response = client.get("/hub")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_coordinator_lands_on_the_hub_and_sees_it_in_the_navigation(client, coordinator, page):
    response = client.get("/")
    assert response.headers["Location"].endswith("/hub")
    assert page(client.get("/hub")).links()["Hub"] == "/hub"


def test_the_hub_shows_workload_away_dates_the_queue_and_overdue_first_contacts(
        db, client, coordinator, practice, team, jo, sam, refer, page):
    today = datetime.now(UK).date()
    sam.away_periods = [
        AwayPeriod(starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=3)),
        AwayPeriod(starts_on=today + timedelta(days=30), ends_on=today + timedelta(days=32))]
    overdue = refer(practice, days_ago=30)
    assert overdue.connector == jo
    refer(practice), refer(practice)
    waiting = refer(practice)  # Jo is full (3 of 3) and Sam has no capacity set
    db.session.commit()

    shown = page(client.get("/hub"))

    text = shown.text()
    assert "Jo Bennett 3 of 3 Full" in text
    assert "Sam Patel 0 No capacity set" in text
    assert "Away today" in text
    for days in (-1, 3, 30, 32):  # now and booked ahead
        assert f"{today + timedelta(days=days):%-d %b %Y}" in text
    assert "Waiting for capacity" in text
    assert waiting.reference in text
    overdue_table = shown.findall(".//table")[2]
    assert overdue.reference in "".join(overdue_table.itertext())
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.actor_id == coordinator.id,
                                 AuditEvent.action == "list")).one()
    assert set(audit.detail["shown"]) == {waiting.id, overdue.id}


def test_another_teams_referral_or_connector_is_not_found(db, client, coordinator, make,
                                                          other_team, connector, refer):
    theirs = refer(make.practice(team=other_team))
    their_connector = connector(other_team, 5)
    db.session.commit()
    assert client.get(f"/hub/referrals/{theirs.id}/assign").status_code == 404
    assert client.get(f"/hub/connectors/{their_connector.id}").status_code == 404
    response = client.submit(f"/hub/referrals/{theirs.id}/assign",
                             {"connector": str(their_connector.id), "reason": "Cover"},
                             page="/hub")
    assert response.status_code == 404
    assert theirs.connector is None


def test_reassigning_needs_a_reason_shown_next_to_the_field(db, client, coordinator, practice,
                                                           jo, sam, refer, page):
    referral = refer(practice)
    db.session.commit()
    assign = f"/hub/referrals/{referral.id}/assign"

    response = client.submit(assign, {"connector": str(sam.id), "reason": ""})

    assert response.status_code == 422
    shown = page(response)
    assert shown.error_for("reason") == "Give a reason for the change"
    assert shown.summary_links() == {"#reason": "Give a reason for the change"}
    db.session.refresh(referral)
    assert referral.connector == jo


def test_reassigning_writes_an_assignment_event_and_bumps_the_version(db, client, coordinator,
                                                                     practice, jo, sam, refer):
    referral = refer(practice)
    db.session.commit()
    version = referral.version

    response = client.submit(f"/hub/referrals/{referral.id}/assign",
                             {"connector": str(sam.id), "reason": "Jo is on leave"})

    assert response.status_code == 302
    db.session.refresh(referral)
    assert referral.connector == sam
    assert referral.version == version + 1
    event = db.session.scalars(
        select(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.id.desc())).first()
    assert (event.kind, event.actor_id) == ("assignment", coordinator.id)
    assert event.reason == "Assigned to Sam Patel: Jo is on leave"


def test_a_connector_outside_the_team_is_refused_next_to_the_field(db, client, coordinator,
                                                                  practice, other_team,
                                                                  connector, refer, page):
    referral = refer(practice)
    outsider = connector(other_team, 5)
    db.session.commit()
    response = client.submit(f"/hub/referrals/{referral.id}/assign",
                             {"connector": str(outsider.id), "reason": "Cover"})
    assert response.status_code == 422
    assert page(response).error_for("connector") == (
        "Choose an active connector in this referral's team")


def test_opening_the_assign_page_audits_the_read(db, client, coordinator, practice, refer):
    referral = refer(practice)
    db.session.commit()
    assert client.get(f"/hub/referrals/{referral.id}/assign").status_code == 200
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "read")).one()
    assert (audit.entity_id, audit.patient_id) == (referral.id, referral.patient_id)


def test_away_dates_that_end_before_they_start_are_refused_next_to_the_field(
        db, client, coordinator, jo, page):
    db.session.commit()
    response = client.submit(f"/hub/connectors/{jo.id}", {
        "capacity": "3", "away_from": "24/12/2026", "away_until": "23/12/2026"})
    assert response.status_code == 422
    assert page(response).error_for("away_until") == (
        "The last day away must be the same as or after the first day")
    db.session.refresh(jo)
    assert jo.away_periods == []


@pytest.mark.parametrize("field, value, message", [
    ("away_from", "Christmas", "Enter the date as day, month and year, for example 24/12/2026"),
    ("away_from", "31/02/2027", "Enter a real date"),
    ("capacity", "lots", "Enter a whole number from 0 to 200"),
])
def test_unreadable_availability_is_refused_next_to_the_field(db, client, coordinator, jo, page,
                                                             field, value, message):
    db.session.commit()
    data = {"capacity": "3", "away_from": "", "away_until": "", field: value}
    response = client.submit(f"/hub/connectors/{jo.id}", data)
    assert response.status_code == 422
    assert page(response).error_for(field) == message


def typed(day) -> str:
    return f"{day.day}/{day.month}/{day.year}"


def test_setting_away_dates_and_capacity_saves_them(db, client, coordinator, jo, page):
    db.session.commit()
    url = f"/hub/connectors/{jo.id}"
    form = page(client.get(url))
    assert form.value_of("capacity") == "3"
    assert "No time away booked." in form.text()
    today = datetime.now(UK).date()
    first, second = today + timedelta(days=21), today + timedelta(days=60)
    response = client.submit(url, {"capacity": "10", "away_from": typed(first),
                                   "away_until": typed(first + timedelta(days=9)),
                                   "away_note": "Annual leave"})
    assert response.status_code == 302 and response.location.endswith(url)  # back here
    response = client.submit(url, {"capacity": "10", "away_from": typed(second),
                                   "away_until": ""})
    assert response.status_code == 302
    db.session.refresh(jo)
    assert jo.capacity == 10
    assert [(p.starts_on, p.ends_on, p.note) for p in jo.away_periods] == [
        (first, first + timedelta(days=9), "Annual leave"), (second, second, "")]
    shown = page(client.get(url))
    assert "Annual leave" in shown.text()
    assert f"{first:%-d %b %Y} to {first + timedelta(days=9):%-d %b %Y}" in shown.text()

    overlapping = client.submit(url, {"capacity": "10", "away_from": typed(second),
                                      "away_until": typed(second + timedelta(days=2))})
    assert overlapping.status_code == 422
    assert page(overlapping).error_for("away_from").startswith(
        "These dates overlap the time away already booked from")

    [remove, _] = [f for f in shown.findall(".//form[@action]") if "/away/" in f.get("action")]
    response = client.submit(remove.get("action"), {}, page=url)
    assert response.status_code == 302 and response.location.endswith(url)
    db.session.refresh(jo)
    assert [p.starts_on for p in jo.away_periods] == [second]
    again = client.submit(remove.get("action"), {}, page=url)  # removed already: no 500
    assert again.status_code == 302


def test_time_away_in_the_past_is_refused_next_to_the_field(db, client, coordinator, jo,
                                                           page):
    db.session.commit()
    last_week = datetime.now(UK).date() - timedelta(days=7)
    response = client.submit(f"/hub/connectors/{jo.id}", {
        "capacity": "3", "away_from": typed(last_week), "away_until": ""})
    assert response.status_code == 422
    assert page(response).error_for("away_from") == (
        "The last day away must be today or in the future")


def test_routing_the_queue_from_the_hub(db, client, coordinator, practice, jo, refer):
    jo.capacity = 0
    waiting = refer(practice)
    jo.capacity = 1
    db.session.commit()
    response = client.submit("/hub/route-queue", {}, page="/hub")
    assert response.status_code == 302
    db.session.refresh(waiting)
    assert waiting.connector == jo


# --- the team's rules ---------------------------------------------------------------


def test_the_team_rules_are_shown_and_saved(db, client, coordinator, team, practice, jo, refer,
                                            page):
    db.session.commit()
    form = page(client.get("/hub/settings"))
    assert (form.value_of("first_contact_days"), form.value_of("max_contact_attempts"),
            form.value_of("follow_up_grace_days")) == ("5", "3", "2")

    response = client.submit("/hub/settings", {"first_contact_days": "3",
                                               "max_contact_attempts": "4",
                                               "follow_up_grace_days": "0"})
    assert response.status_code == 302
    db.session.refresh(team)
    assert (team.first_contact_days, team.max_contact_attempts, team.follow_up_grace_days) == (
        3, 4, 0)
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "team")).one()
    assert audit.detail["before"]["first_contact_days"] == 5
    assert "3 working days" in "".join(page(client.get("/hub")).root.itertext())
    # The new target applies to the next referral.
    referral = refer(practice)
    from referrals import workdays
    assert referral.first_contact_due == workdays.add_working_days(
        workdays.uk_date(referral.created_at), 3)


@pytest.mark.parametrize("field, value, message", [
    ("first_contact_days", "", "Enter a whole number from 1 to 20"),
    ("first_contact_days", "0", "Enter a whole number from 1 to 20"),
    ("max_contact_attempts", "three", "Enter a whole number from 1 to 10"),
    ("follow_up_grace_days", "15", "Enter a whole number from 0 to 14"),
    ("follow_up_grace_days", "-1", "Enter a whole number from 0 to 14"),
])
def test_bad_team_rules_are_refused_next_to_the_field(db, client, coordinator, team, page,
                                                      field, value, message):
    db.session.commit()
    data = {"first_contact_days": "5", "max_contact_attempts": "3",
            "follow_up_grace_days": "2", field: value}
    response = client.submit("/hub/settings", data)
    assert response.status_code == 422
    assert page(response).error_for(field) == message
    db.session.refresh(team)
    assert (team.first_contact_days, team.max_contact_attempts, team.follow_up_grace_days) == (
        5, 3, 2)
