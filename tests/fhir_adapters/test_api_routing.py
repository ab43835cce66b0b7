"""Routing at FHIR intake: a referral POSTed by a GP system goes to the connector with the
most spare capacity, and its Task says so (owner) along with the first-contact deadline
(restriction.period.end) until the person is reached.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from fhir_adapters import codes
from referrals import workdays
from referrals.caseload import service as caseload
from referrals.hub import service as hub
from referrals.intake import service as intake_service
from referrals.models import (
    AwayPeriod,
    ContactChannel,
    ContactOutcome,
    Referral,
    ReferralStatus,
    Role,
    utcnow,
)
from tests.fhir_adapters import payloads

FIRST_CONTACT_DAYS = 3


@pytest.fixture
def team(practice):
    practice.team.first_contact_days = FIRST_CONTACT_DAYS
    return practice.team


def connector(make, team, capacity, *, active=0, name, away=(), **settings):
    """A connector with `capacity` holding `active` open referrals, away on each (first,
    last) of `away`; `settings` set after."""
    person = make.user(Role.CONNECTOR, team=team, capacity=capacity, name=name)
    person.away_periods = [AwayPeriod(starts_on=first, ends_on=last) for first, last in away]
    for key, value in settings.items():
        setattr(person, key, value)
    for _ in range(active):
        make.referral(team.practices[0], connector=person)
    make.session.flush()
    return person


def refer(api, db, make) -> Referral:
    """POST a referral Bundle; the stored referral it made."""
    response = api.post("", payloads.transaction(make.nhs_number()))
    assert response.status_code == 200, response.get_data(as_text=True)
    (location,) = [e["response"]["location"] for e in response.json["entry"]
                   if e["response"].get("location", "").startswith("ServiceRequest/")]
    return db.session.get(Referral, int(location.split("/")[1]))


def task(api, referral: Referral) -> dict:
    response = api.get(f"Task/t-{referral.id}")
    assert response.status_code == 200
    return response.json


def end_of_uk_day(day) -> str:
    """The last second of `day` in the UK, as a FHIR instant in UTC."""
    midnight = datetime.combine(day + timedelta(days=1), time(0), workdays.UK)
    return (midnight - timedelta(seconds=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def business_status(resource: dict) -> str:
    (coding,) = resource["businessStatus"]["coding"]
    assert coding["system"] == codes.BUSINESS_STATUS
    return coding["code"]


def test_a_referral_from_a_gp_system_goes_to_the_connector_with_most_spare_capacity(
        api, db, make, team):
    # Most capacity (10, 1 spare), fewest referrals (none, 1 spare), most spare (4 of 6).
    connector(make, team, 10, active=9, name="Ash Biggest")
    connector(make, team, 1, name="Bo Emptiest")
    roomiest = connector(make, team, 6, active=2, name="Cal Roomiest")
    db.session.commit()

    referral = refer(api, db, make)
    resource = task(api, referral)

    assert referral.connector_id == roomiest.id
    assert resource["owner"] == {"reference": f"PractitionerRole/pr-{roomiest.id}",
                                 "display": "Cal Roomiest"}
    due = workdays.add_working_days(workdays.uk_date(referral.created_at), FIRST_CONTACT_DAYS)
    assert referral.first_contact_due == due
    assert resource["restriction"] == {"period": {"end": end_of_uk_day(due)}}
    assert (resource["status"], business_status(resource)) == ("requested", "received")


def test_the_deadline_counts_from_the_uk_date_and_ends_at_midnight_uk_time(
        api, db, make, team, monkeypatch):
    # 23:30 UTC on Thursday 25 June 2026 is already Friday in the UK (BST): three working
    # days from Friday is Wednesday 1 July (from Thursday it would be Tuesday), and the
    # deadline ends at 23:59:59 BST, which is 22:59:59 UTC.
    monkeypatch.setattr(intake_service, "utcnow",
                        lambda: datetime(2026, 6, 25, 23, 30, tzinfo=UTC))
    referral = refer(api, db, make)
    assert referral.first_contact_due == date(2026, 7, 1)
    assert task(api, referral)["restriction"] == {"period": {"end": "2026-07-01T22:59:59Z"}}


def test_with_nobody_to_take_it_the_task_is_owned_by_the_team_and_waits_in_its_queue(
        api, db, make, team):
    today = workdays.uk_date(utcnow())
    connector(make, team, 5, name="Away",
              away=[(today - timedelta(days=1), today + timedelta(days=1))])
    connector(make, team, 1, active=1, name="Full")
    connector(make, team, None, name="No capacity stated")
    db.session.commit()

    referral = refer(api, db, make)
    resource = task(api, referral)

    assert referral.connector_id is None
    assert resource["owner"] == {"reference": f"Organization/team-{team.id}",
                                 "display": team.name}
    assert "restriction" in resource  # the clock runs in the queue too
    overview = hub.overview(team)
    assert referral in overview.unassigned and overview.waiting_for_capacity
    found = api.get(f"Task?owner=Organization/team-{team.id}").json
    assert [e["resource"]["id"] for e in found["entry"]] == [f"t-{referral.id}"]


def test_a_coordinators_reassignment_changes_the_owner_and_the_version(api, db, make, team):
    first = connector(make, team, 5, name="First Pick")
    cover = connector(make, team, None, name="Cover")
    coordinator = make.user(Role.COORDINATOR, team=team)
    db.session.commit()
    referral = refer(api, db, make)
    before = task(api, referral)
    assert before["owner"]["reference"] == f"PractitionerRole/pr-{first.id}"

    hub.assign(referral, cover, actor=coordinator, reason="First Pick is on leave")
    db.session.commit()
    after = task(api, referral)

    assert after["owner"] == {"reference": f"PractitionerRole/pr-{cover.id}", "display": "Cover"}
    assert int(after["meta"]["versionId"]) > int(before["meta"]["versionId"])
    assert after["restriction"] == before["restriction"]  # a new holder, the same deadline


def test_the_first_contact_that_reaches_the_person_starts_the_work_and_ends_the_deadline(
        api, db, make, team):
    holder = connector(make, team, 5, name="Holder")
    db.session.commit()
    referral = refer(api, db, make)
    caseload.accept_referral(referral, actor=holder)
    db.session.commit()
    accepted = task(api, referral)
    assert (accepted["status"], business_status(accepted)) == ("accepted", "accepted")
    assert "restriction" in accepted

    caseload.record_contact(referral, actor=holder, at=utcnow(), method=ContactChannel.PHONE,
                            outcome=ContactOutcome.SPOKE)
    db.session.commit()
    after = task(api, referral)

    status, business, _, _ = codes.STATUS_MAP[ReferralStatus.IN_PROGRESS]
    assert (after["status"], business_status(after)) == (status, business)
    assert "restriction" not in after
    assert int(after["meta"]["versionId"]) > int(accepted["meta"]["versionId"])
