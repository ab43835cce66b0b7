"""The volunteer's own page (issue 15): their details, offers and availability, which they
keep current; stepping back for a break or for good; and downloading what Kindly holds
about them (their matches' needs only, never the person's health information)."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from referrals.models import (
    AuditEvent,
    CheckInRating,
    MatchStatus,
    Role,
    SafeguardingConcern,
    VolunteerCheckIn,
    VolunteerHours,
    VolunteerMatch,
    VolunteerOffer,
    VolunteerRequest,
    VolunteerStatus,
)
from referrals.volunteers import service, views
from tests.referrals.intake.conftest import Page


@pytest.fixture
def dave(login_as, team, volunteer, db):
    """An approved volunteer, signed in."""
    account = login_as(Role.VOLUNTEER)
    record = volunteer(team, status=VolunteerStatus.APPROVED, references_on=date.today(),
                       dbs_on=date.today(), user_id=account.id, email=account.email,
                       availability_note="Not in August")
    db.session.commit()
    return record


def details(**overrides):
    data = {"offers": ["befriending_calls", "lifts"], "skills": "",
            "availability": ["tue-afternoon"], "availability_note": "", "phone": "01632 960 123",
            "postcode": "KB3 5EF", "travel_miles": "10"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_volunteer_lands_on_their_own_page_which_is_audited(client, dave, db):
    page = Page(client.get("/", follow_redirects=True))

    assert page.find(".//h1").text == "My volunteering"
    assert "Befriending phone calls" in page.text()
    assert "Monday morning" in page.text() and "Not in August" in page.text()
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "volunteer", AuditEvent.entity_id == dave.id,
        AuditEvent.action == "read")).first() is not None


def test_a_volunteer_never_reaches_the_coordinators_pages(client, dave):
    assert client.get("/hub/volunteers").status_code == 403
    assert client.get(f"/hub/volunteers/{dave.id}").status_code == 403
    assert client.get("/hub").status_code == 403


def test_staff_have_no_volunteering_page(client, login_as):
    login_as(Role.COORDINATOR)
    assert client.get("/volunteering").status_code == 403


def test_they_change_what_they_offer_when_they_are_free_and_how_to_reach_them(
        client, dave, db):
    response = client.submit("/volunteering/details", {**details(), "version": str(dave.version)})

    assert response.status_code == 303
    db.session.refresh(dave)
    assert dave.offers == ["befriending_calls", "lifts"]
    assert dave.availability == ["tue-afternoon"]
    assert (dave.phone, dave.postcode) == ("01632 960 123", "KB3 5EF")
    assert dave.travel_km == pytest.approx(16.1, abs=0.1)


def test_a_mistake_in_their_details_is_shown_next_to_the_field(client, dave, db):
    response = client.submit("/volunteering/details",
                             {**details(availability=None), "version": str(dave.version)})

    assert response.status_code == 422
    assert Page(response).error_for("availability") == (
        "Select at least one time you are usually free")
    db.session.refresh(dave)
    assert dave.availability == ["mon-morning"]


def test_a_break_stops_matching_until_they_come_back(client, dave, team, db):
    response = client.submit("/volunteering/step-back", {
        "version": str(dave.version), "kind": "break", "reason": "Moving house"})

    assert response.status_code == 303
    db.session.refresh(dave)
    assert (dave.status, dave.status_reason) == (VolunteerStatus.LAPSED,
                                                 "Taking a break: Moving house")
    assert db.session.scalars(service.matchable_volunteers(team.id, today=date.today())).all() == []

    back = client.submit("/volunteering/come-back", {"version": str(dave.version)},
                         page="/volunteering")

    assert back.status_code == 303
    db.session.refresh(dave)
    assert dave.status is VolunteerStatus.APPROVED


def test_leaving_needs_a_choice_and_records_the_reason(client, dave, db):
    nothing = client.submit("/volunteering/step-back", {"version": str(dave.version)})
    left = client.submit("/volunteering/step-back", {
        "version": str(dave.version), "kind": "leave", "reason": ""})

    assert nothing.status_code == 422
    assert Page(nothing).error_for("kind") == "Select whether you need a break or want to leave"
    assert left.status_code == 303
    db.session.refresh(dave)
    assert (dave.status, dave.status_reason) == (VolunteerStatus.LEFT, "Left")


def test_the_download_holds_their_record_matches_and_hours_but_no_health_information(
        client, dave, team, db):
    request = VolunteerRequest(team=team, need=VolunteerOffer.BEFRIENDING_CALLS,
                               given_name="Margaret", notes="Recently diagnosed with dementia")
    match = VolunteerMatch(volunteer=dave, request=request, status=MatchStatus.ACCEPTED,
                           next_check_in_on=date(2026, 12, 17))
    db.session.add_all([request, match])
    db.session.flush()
    db.session.add(VolunteerHours(volunteer=dave, match_id=match.id, on=date(2026, 12, 1),
                                  hours=1.5, note="Weekly call"))
    db.session.commit()

    response = client.get("/volunteering/download.json")
    readable = client.get("/volunteering/download")

    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["volunteer"]["email"] == dave.email
    assert data["volunteer"]["offers"] == ["Befriending phone calls"]
    assert data["matches"] == [{
        "need": "Befriending phone calls", "status": "Accepted",
        "proposed_at": match.proposed_at.isoformat(), "responded_at": None,
        "next_check_in_on": "2026-12-17", "ended_at": None, "end_reason": ""}]
    assert data["hours"] == [{"on": "2026-12-01", "hours": 1.5, "note": "Weekly call"}]
    body = response.get_data(as_text=True) + readable.get_data(as_text=True)
    assert "dementia" not in body and "Margaret" not in body
    assert "Weekly call" in readable.get_data(as_text=True)
    downloads = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_id == dave.id, AuditEvent.action == "download")).all()
    assert len(downloads) == 2


def test_a_stale_page_does_not_overwrite_a_newer_change(client, dave, db):
    opened_at = dave.version
    client.submit("/volunteering/details", {**details(), "version": str(opened_at)})

    stale = client.submit("/volunteering/details", {
        **details(phone="07700 900 999"), "version": str(opened_at)})

    assert stale.status_code == 409
    assert Page(stale).value_of("phone") == "07700 900 999"
    db.session.refresh(dave)
    assert dave.phone == "01632 960 123"


def test_other_parts_add_their_sections_to_the_page_through_the_registry(
        client, dave, monkeypatch):
    seen = []
    monkeypatch.setattr(views, "PAGE_SECTIONS", [lambda v: seen.append(v.id) or {"matches": []}])

    assert client.get("/volunteering").status_code == 200
    assert seen == [dave.id]


def test_the_download_holds_check_in_dates_and_the_concerns_they_raised(
        client, dave, team, db, make):
    request = VolunteerRequest(team=team, need=VolunteerOffer.BEFRIENDING_CALLS,
                               given_name="Margaret")
    match = VolunteerMatch(volunteer=dave, request=request, status=MatchStatus.ACCEPTED)
    db.session.add_all([request, match])
    db.session.flush()
    connector = make.user(Role.CONNECTOR, team=team)
    db.session.add_all([
        VolunteerCheckIn(match_id=match.id, rating=CheckInRating.SOME_CONCERNS,
                         note="Her memory is getting worse", next_check_in_on=date(2026, 12, 31),
                         recorded_by_id=connector.id),
        SafeguardingConcern(team_id=team.id, match_id=match.id, raised_by_id=dave.user_id,
                            concern="I saw bruises on her arm", hub_emailed=True),
        SafeguardingConcern(team_id=team.id, match_id=match.id, raised_by_id=connector.id,
                            concern="Someone else's words")])
    db.session.commit()

    data = json.loads(client.get("/volunteering/download.json").get_data(as_text=True))
    readable = client.get("/volunteering/download").get_data(as_text=True)

    [check_in] = data["check_ins"]
    assert (check_in["need"], check_in["next_check_in_on"], check_in["recorded_by"]) == (
        "Befriending phone calls", "2026-12-31", "The hub")
    assert "note" not in check_in and check_in["recorded_at"]
    [concern] = data["safeguarding_concerns"]
    assert concern["concern"] == "I saw bruises on her arm"
    assert concern["status"] == "Sent to the hub's coordinators, and emailed to the hub"
    assert concern["raised_at"]
    assert "I saw bruises on her arm" in readable and "2026-12-31" in readable
    for body in (json.dumps(data), readable):
        assert "memory" not in body and "Someone else" not in body and "Margaret" not in body
