"""The hub's phone line: one short form, three outcomes, a searchable audited log."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from referrals.calls import service
from referrals.errors import NotPermitted
from referrals.models import (
    AuditEvent,
    CallOutcome,
    HubCall,
    Referral,
    Role,
    VolunteerOffer,
    VolunteerRequest,
)
from referrals.workdays import UK

CALL = {"caller_name": "Pat Jones", "caller_phone": "07700 900123", "for_someone_else": "no",
        "need": "Lonely since her husband died; would like a weekly phone call",
        "outcome": "volunteer_request", "request_need": "befriending_calls",
        "postcode": "kb1 2ab", "days": ["mon", "wed"], "parts_of_day": ["morning"]}


@pytest.fixture
def team(make):
    return make.team(name="Vale Connectors")


@pytest.fixture
def practice(make, team):
    return make.practice(team=team, name="Vale Surgery")


@pytest.fixture
def coordinator(login_as, team):
    return login_as(Role.COORDINATOR, team=team)


def test_a_call_becomes_a_volunteer_request_the_matching_pages_can_list(client, coordinator, db):
    response = client.submit("/hub/calls/new", CALL)
    assert response.status_code == 303
    call = db.session.scalars(select(HubCall)).one()
    assert response.headers["Location"].endswith(f"/hub/calls/{call.id}")
    request = call.request
    assert (request.need, request.postcode, request.phone, request.status) == (
        VolunteerOffer.BEFRIENDING_CALLS, "KB1 2AB", "07700 900123", "open")
    assert request.when == ["mon-morning", "wed-morning"]
    assert request.team_id == coordinator.team_id and request.given_name == "Pat Jones"
    # The volunteer reads the request's notes: the caller's words stay in the call log.
    assert request.notes == "" and call.need.startswith("Lonely since her husband died")


def test_a_volunteer_request_from_a_call_carries_only_the_note_written_for_the_volunteer(
        client, coordinator, db):
    response = client.submit("/hub/calls/new", {**CALL, "volunteer_note": "Likes cricket"})
    assert response.status_code == 303
    call = db.session.scalars(select(HubCall)).one()
    assert call.request.notes == "Likes cricket"
    assert "husband" not in call.request.notes and "husband" in call.need
    assert call.taken_by_id == coordinator.id and call.outcome is CallOutcome.VOLUNTEER_REQUEST
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pat Jones" in page and "Became a volunteer request" in page
    actions = db.session.execute(select(AuditEvent.action).where(
        AuditEvent.entity_type == "hub_call", AuditEvent.entity_id == call.id)).scalars().all()
    assert actions == ["create", "read"]


def test_calling_for_someone_who_has_not_agreed_can_only_give_information(client, coordinator,
                                                                           db):
    form = {**CALL, "for_someone_else": "yes", "person_name": "Edna Jones"}
    response = client.post("/hub/calls/new", data={**form, "csrf_token": client.csrf_token(
        "/hub/calls/new")})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "can only give information" in page and 'href="#outcome"' in page
    assert 'value="Pat Jones"' in page  # nothing typed is lost
    assert db.session.scalars(select(HubCall)).all() == []
    assert db.session.scalars(select(VolunteerRequest)).all() == []

    response = client.submit("/hub/calls/new", {**form, "outcome": "information",
                                                 "information_given": "Gave the number of "
                                                 "the befriending service"})
    assert response.status_code == 303
    call = db.session.scalars(select(HubCall)).one()
    assert (call.person_name, call.for_someone_else, call.their_agreement, call.request_id) == (
        "Edna Jones", True, False, None)


@pytest.mark.parametrize("change, field, message", [
    ({"caller_name": ""}, "caller_name", "Enter the caller&#39;s name"),
    ({"need": ""}, "need", "Enter what they need"),
    ({"outcome": ""}, "outcome", "Select what the call became"),
    ({"postcode": "nowhere"}, "postcode", "Enter a full UK postcode"),
    ({"request_need": ""}, "request_need", "Select what kind of help"),
    ({"volunteer_note": "x" * 2001}, "volunteer_note", "The note for the volunteer must be"),
    ({"caller_phone": "call me"}, "caller_phone", "Enter a phone number"),
    ({"outcome": "information"}, "information_given", "Enter what information you gave"),
])
def test_each_mistake_is_named_next_to_its_field(client, coordinator, change, field, message):
    response = client.submit("/hub/calls/new", {**CALL, **change})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and f'href="#{field}' in page


def test_a_self_referral_call_goes_to_a_prefilled_form_and_through_intake(client, coordinator,
                                                                          practice, db):
    response = client.submit("/hub/calls/new", {
        "caller_name": "Alan Turing", "caller_phone": "07700 900456", "for_someone_else": "no",
        "need": "Wants to meet people", "outcome": "self_referral"})
    assert response.status_code == 303
    call = db.session.scalars(select(HubCall)).one()
    form_url = f"/hub/calls/{call.id}/self-referral"
    assert response.headers["Location"].endswith(form_url)
    page = client.get(form_url).get_data(as_text=True)
    assert 'value="Alan"' in page and 'value="Turing"' in page and "Wants to meet people" in page

    details = {"given_name": "Alan", "family_name": "Turing", "birth_date-day": "23",
               "birth_date-month": "6", "birth_date-year": "1950", "postcode": "KB1 3DE",
               "practice": str(practice.id), "phone": "07700 900456",
               "preferred_contact": "phone", "what_would_help": "Wants to meet people"}
    missing_consent = client.submit(form_url, details)
    assert missing_consent.status_code == 422
    assert "once the person has agreed" in missing_consent.get_data(as_text=True)

    response = client.submit(form_url, {**details, "consent": "y"})
    assert response.status_code == 303
    db.session.expire_all()
    call = db.session.get(HubCall, call.id)
    referral = db.session.get(Referral, call.referral_id)
    assert referral.source == "self" and referral.practice_id == practice.id
    assert referral.consent_method.value == "verbal-phone"
    assert client.get(form_url).status_code == 303  # made once only


def test_the_log_searches_by_date_and_outcome_and_pages(client, coordinator, make, db):
    other = make.user(Role.CONNECTOR, team=make.team())
    for days_ago, outcome in [(0, "information"), (1, "volunteer_request"), (10, "information")]:
        db.session.add(HubCall(team_id=coordinator.team_id, outcome=CallOutcome(outcome),
                               caller_name=f"Caller {days_ago}", need="x",
                               received_at=datetime.now(UK) - timedelta(days=days_ago)))
    db.session.add(HubCall(team_id=other.team_id, outcome=CallOutcome.INFORMATION,
                           caller_name="Another team's caller", need="x"))
    db.session.commit()
    page = client.get("/hub/calls").get_data(as_text=True)
    assert "3 calls." in page and "Another team" not in page
    page = client.get("/hub/calls?outcome=information").get_data(as_text=True)
    assert "2 calls." in page and "Caller 1<" not in page
    since = (date.today() - timedelta(days=2)).strftime("%d/%m/%Y")
    page = client.get(f"/hub/calls?from_day={since}&outcome=information").get_data(as_text=True)
    assert "1 call." in page and "Caller 0" in page
    bad = client.get("/hub/calls?from_day=31/02/2026")
    assert bad.status_code == 422 and "Enter a real date" in bad.get_data(as_text=True)
    paged = service.search_calls(coordinator, per_page=2, page=2)
    assert (paged.pages, paged.total, [c.caller_name for c in paged.rows]) == (2, 3, ["Caller 10"])
    assert service.counts_by_outcome(coordinator.team_id) == {
        CallOutcome.SELF_REFERRAL: 0, CallOutcome.VOLUNTEER_REQUEST: 1,
        CallOutcome.INFORMATION: 2}


@pytest.mark.parametrize("role", [Role.REFERRER, Role.MANAGER, Role.ADMIN, Role.PARTNER,
                                  Role.VOLUNTEER])
def test_only_hub_staff_reach_the_phone_line(client, login_as, role):
    login_as(role)
    assert client.get("/hub/calls").status_code == 403
    assert client.get("/hub/calls/new").status_code == 403


def test_another_teams_call_is_not_found_and_the_service_refuses_outsiders(client, coordinator,
                                                                          make, db):
    call = HubCall(team_id=make.team().id, outcome=CallOutcome.INFORMATION, caller_name="X",
                   need="x")
    db.session.add(call)
    db.session.commit()
    assert client.get(f"/hub/calls/{call.id}").status_code == 404
    with pytest.raises(NotPermitted):
        service.record_call(service.CallDetails(caller_name="A", need="b",
                                                outcome=CallOutcome.INFORMATION,
                                                information_given="c"),
                            actor=make.user(Role.REFERRER))


def test_a_connector_logs_calls_for_their_own_team(make, db, team):
    connector = make.user(Role.CONNECTOR, team=team)
    call = service.record_call(service.CallDetails(
        caller_name="Ann", need="Where is the lunch club?", outcome=CallOutcome.INFORMATION,
        information_given="St Mary's, Wednesdays"), actor=connector)
    assert (call.team_id, call.taken_by_id) == (team.id, connector.id)
    assert service.read_call(make.user(Role.CONNECTOR, team=make.team()), call.id) is None
