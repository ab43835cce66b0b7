"""The volunteering pages: the connector asks and proposes, the volunteer answers on their
own page, either side ends, the hub sees check-ins due; errors next to their fields."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from referrals.models import AuditEvent, MatchStatus, VolunteerRequest
from referrals.volunteering import service


def sign_in(client, db, user, password="correct horse battery"):
    db.session.commit()
    if client.get("/login").status_code == 302:  # someone else is signed in: sign out
        client.post("/logout", data={"csrf_token": client.csrf_token("/notifications")})
    response = client.submit("/login", {"email": user.email, "password": password})
    assert response.status_code == 302
    return user


def ask(client, referral, **overrides):
    data = {"need": "befriending_calls", "when": ["mon-morning"], "notes": "Weekly chat"}
    data.update(overrides)
    url = f"/caseload/referrals/{referral.id}/volunteers"
    return client.submit(url, data)


def test_the_connector_asks_finds_and_proposes_a_volunteer(client, db, hub, referral,
                                                           volunteers):
    dave = volunteers(hub.team)
    sign_in(client, db, hub.connector)
    page = client.get(f"/caseload/referrals/{referral.id}/volunteers").get_data(as_text=True)
    assert 'aria-current="page">Volunteers</a>' in page
    response = ask(client, referral)
    assert response.status_code == 302
    request_url = response.headers["Location"]
    page = client.get(request_url).get_data(as_text=True)
    assert "Dave Wilson" in page and "offers befriending phone calls" in page
    response = client.submit(request_url + "/proposals", {"volunteer_id": str(dave.id)},
                             page=request_url)
    assert response.status_code == 302
    page = client.get(request_url).get_data(as_text=True)
    assert "has been asked" in page and "Proposed" in page
    page = client.get(f"/caseload/referrals/{referral.id}/volunteers").get_data(as_text=True)
    assert "Dave Wilson: proposed" in page


def test_asking_without_a_need_shows_the_error_next_to_it(client, db, hub, referral):
    sign_in(client, db, hub.connector)
    response = ask(client, referral, need="", notes="Kept")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Select what the person needs a volunteer for" in page and "Kept" in page
    assert 'href="#need"' in page
    assert db.session.scalar(select(VolunteerRequest.id)) is None


def test_proposing_an_unknown_volunteer_is_refused_without_a_500(client, db, hub, referral,
                                                                  volunteers):
    sign_in(client, db, hub.connector)
    url = ask(client, referral).headers["Location"]
    for value in ("", "abc", "99999"):
        response = client.submit(url + "/proposals", {"volunteer_id": value}, page=url)
        assert response.status_code == 422


@pytest.fixture
def proposed(app, hub, referral, volunteers):
    dave = volunteers(hub.team)
    with app.test_request_context():
        weekly = service.create_request(referral, need="befriending_calls", when=[],
                                        notes="Likes cricket", actor=hub.connector)
        return service.propose(weekly, dave, actor=hub.connector)


def assert_no_health_details(page: str, referral) -> None:
    """None of the person's NHS number, surname, reason ("loneliness") or phone."""
    for secret in (referral.patient.nhs_number, "Lovelace", "oneliness", "07700 900123"):
        assert secret not in page


def test_the_volunteer_accepts_from_their_page_and_never_sees_health_details(
        client, db, proposed, referral):
    dave = proposed.volunteer
    sign_in(client, db, dave.user)
    listing = client.get("/volunteering/matches").get_data(as_text=True)
    assert "Ada: befriending phone calls" in listing
    url = f"/volunteering/matches/{proposed.id}"
    page = client.get(url).get_data(as_text=True)
    assert_no_health_details(page, referral)
    assert "Likes cricket" in page and "LS1" in page
    response = client.submit(url + "/answer", {"answer": "accept",
                                               "version": str(proposed.version)}, page=url)
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "07700 900123" in page  # how to contact them, once accepted
    assert referral.patient.nhs_number not in page
    db.session.refresh(proposed)
    assert proposed.status is MatchStatus.ACCEPTED
    reads = db.session.scalars(select(AuditEvent).where(
        AuditEvent.actor_id == dave.user_id, AuditEvent.action == "read")).all()
    assert reads and all(r.patient_id == referral.patient_id for r in reads)


def test_a_stale_answer_is_told_what_happened_and_keeps_the_reason_typed(
        app, client, db, proposed, hub):
    dave = proposed.volunteer
    seen = proposed.version
    with app.test_request_context():
        service.end_match(proposed, reason="Found someone nearer", actor=hub.connector)
    sign_in(client, db, dave.user)
    url = f"/volunteering/matches/{proposed.id}"
    response = client.submit(url + "/answer", {"answer": "decline", "note": "On holiday",
                                               "version": str(seen)}, page=url)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this match" in page and "On holiday" in page


def test_declining_without_a_reason_is_an_error_next_to_the_field(client, db, proposed):
    sign_in(client, db, proposed.volunteer.user)
    url = f"/volunteering/matches/{proposed.id}"
    response = client.submit(url + "/answer", {"answer": "decline", "note": "",
                                               "version": str(proposed.version)}, page=url)
    assert response.status_code == 422
    assert "Enter why you cannot take this on" in response.get_data(as_text=True)


def test_another_volunteer_or_a_partner_cannot_open_the_match(client, db, make, proposed,
                                                              hub, volunteers):
    other = volunteers(hub.team, "Other Olly")
    sign_in(client, db, other.user)
    assert client.get(f"/volunteering/matches/{proposed.id}").status_code == 404
    assert client.get(f"/volunteering/requests/{proposed.request_id}").status_code == 403
    assert client.get("/volunteering/requests").status_code == 403


def test_the_volunteer_logs_hours_and_ends_the_match_with_a_reason(app, client, db, proposed,
                                                                   hub):
    dave = proposed.volunteer
    with app.test_request_context():
        service.answer(proposed, accept=True, actor=dave.user, today=service.utcnow().date())
    sign_in(client, db, dave.user)
    url = f"/volunteering/matches/{proposed.id}"
    bad = client.submit(url + "/hours", {"on": "31/02/2026", "hours": "lots"}, page=url)
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Enter a real date" in text and "Enter the hours as a number" in text
    good = client.submit(url + "/hours", {"on": "01/01/2026", "hours": "1.5"}, page=url)
    assert good.status_code == 302
    empty = client.submit(url + "/end", {"reason": "", "version": str(proposed.version)},
                          page=url)
    assert empty.status_code == 422
    assert "Enter why the match is ending" in empty.get_data(as_text=True)
    db.session.refresh(proposed)
    ended = client.submit(url + "/end", {"reason": "Moving away",
                                         "version": str(proposed.version)}, page=url)
    assert ended.status_code == 302
    db.session.refresh(proposed)
    assert proposed.status is MatchStatus.ENDED and proposed.end_reason == "Moving away"
    assert "1.5 hours" in client.get(url).get_data(as_text=True)


def test_the_hub_sees_check_ins_due_and_records_one(app, client, db, proposed, hub):
    with app.test_request_context():
        service.answer(proposed, accept=True, actor=proposed.volunteer.user,
                       today=service.utcnow().date().replace(year=2020))
    sign_in(client, db, hub.coordinator)
    listing = client.get("/volunteering/requests").get_data(as_text=True)
    assert f'id="due-{proposed.id}"' in listing and "Overdue" in listing
    url = f"/volunteering/requests/{proposed.request_id}"
    bad = client.submit(f"/volunteering/matches/{proposed.id}/check-ins",
                        {"rating": "", "version": str(proposed.version)}, page=url)
    assert bad.status_code == 422
    assert f'href="#rating-{proposed.id}"' in bad.get_data(as_text=True)
    good = client.submit(f"/volunteering/matches/{proposed.id}/check-ins",
                         {"rating": "going_well", "note": "Fine",
                          "version": str(proposed.version)}, page=url)
    assert good.status_code == 302
    listing = client.get("/volunteering/requests").get_data(as_text=True)
    assert not re.search(f'id="due-{proposed.id}"', listing)


def test_a_request_from_the_phone_line_is_listed_and_matched_like_any_other(
        app, client, db, hub, volunteers):
    from referrals.models import VolunteerOffer

    sue = volunteers(hub.team, "Sue Shops", offers=("shopping",))
    call = VolunteerRequest(team_id=hub.team.id, need=VolunteerOffer.SHOPPING,
                            given_name="Bert", phone="07700 900777", postcode="LS1 4AP",
                            latitude=53.796, longitude=-1.547, when=["tue-morning"])
    db.session.add(call)
    sign_in(client, db, hub.colleague)  # any connector of the team works the phone line's
    assert f'id="request-{call.id}"' in client.get("/volunteering/requests").get_data(
        as_text=True)
    url = f"/volunteering/requests/{call.id}"
    assert "Sue Shops" in client.get(url).get_data(as_text=True)
    assert client.submit(url + "/proposals", {"volunteer_id": str(sue.id)}).status_code == 302
    sign_in(client, db, hub.other_team_connector)
    assert client.get(url).status_code == 404
    match = service.matches_for(call)[0]
    with app.test_request_context():
        service.answer(match, accept=True, actor=sue.user, today=service.utcnow().date())
    sign_in(client, db, sue.user)
    page = client.get(f"/volunteering/matches/{match.id}").get_data(as_text=True)
    assert "Bert" in page and "07700 900777" in page and "LS1" in page


def test_a_connector_sees_only_the_requests_of_referrals_they_hold(client, db, app, hub,
                                                                   referral):
    with app.test_request_context():
        weekly = service.create_request(referral, need="lifts", when=[], notes="",
                                        actor=hub.connector)
    sign_in(client, db, hub.colleague)
    assert f'id="request-{weekly.id}"' not in client.get("/volunteering/requests").get_data(
        as_text=True)
    assert client.get(f"/volunteering/requests/{weekly.id}").status_code == 404
    assert client.get(f"/caseload/referrals/{referral.id}/volunteers").status_code == 404


def test_a_request_no_longer_needed_is_closed_with_a_reason_once_nothing_runs(
        client, db, hub, referral, volunteers):
    dave = volunteers(hub.team)
    sign_in(client, db, hub.connector)
    url = ask(client, referral).headers["Location"]
    request = db.session.scalars(select(VolunteerRequest)).one()
    empty = client.submit(url + "/close", {"reason": "", "version": str(request.version)},
                          page=url)
    assert empty.status_code == 422
    assert "Enter why the request is closing" in empty.get_data(as_text=True)
    client.submit(url + "/proposals", {"volunteer_id": str(dave.id)}, page=url)
    running = client.submit(url + "/close", {"reason": "Moved", "version": ""}, page=url)
    assert running.status_code == 422
    assert "End the proposal or match first" in running.get_data(as_text=True)
    match = service.matches_for(request)[0]
    client.submit(f"/volunteering/matches/{match.id}/end",
                  {"reason": "Moved away", "version": str(match.version)}, page=url)
    db.session.refresh(request)
    closed = client.submit(url + "/close", {"reason": "Moved away",
                                            "version": str(request.version)}, page=url)
    assert closed.status_code == 302
    db.session.refresh(request)
    assert request.status == "closed"
    assert f'id="request-{request.id}"' not in client.get("/volunteering/requests").get_data(
        as_text=True)


def test_a_closed_referral_shows_its_requests_but_takes_no_new_one(client, db, make, hub):
    from referrals.models import ReferralStatus

    closed = make.referral(hub.practice, connector=hub.connector,
                           status=ReferralStatus.COMPLETED)
    sign_in(client, db, hub.connector)
    page = client.get(f"/caseload/referrals/{closed.id}/volunteers").get_data(as_text=True)
    assert 'id="ask"' not in page and "Only the connector holding this referral" in page
    token = client.csrf_token(f"/caseload/referrals/{closed.id}/volunteers")
    response = client.post(f"/caseload/referrals/{closed.id}/volunteers",
                           data={"need": "lifts", "notes": "Typed text", "csrf_token": token})
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "No volunteer was asked for" in text and "Typed text" in text
    assert db.session.scalar(select(VolunteerRequest.id)) is None


def test_the_volunteers_own_page_lists_their_matches_without_health_details(
        client, db, proposed, referral):
    dave = proposed.volunteer
    sign_in(client, db, dave.user)
    page = client.get("/volunteering").get_data(as_text=True)
    assert "My matches" in page
    row = page[page.index(f'id="my-match-{proposed.id}"'):]
    row = row[:row.index("</tr>")]
    assert f'href="/volunteering/matches/{proposed.id}"' in row
    assert "Ada" in row and "Befriending phone calls" in row
    assert "Waiting for your answer" in row and "None yet" in row
    assert_no_health_details(page, referral)
    assert 'href="/volunteering/matches"' in page
    reads = db.session.scalars(select(AuditEvent).where(
        AuditEvent.actor_id == dave.user_id, AuditEvent.action == "read",
        AuditEvent.patient_id == referral.patient_id)).all()
    assert [r.detail["match_id"] for r in reads] == [proposed.id]

    client.submit(f"/volunteering/matches/{proposed.id}/answer",
                  {"answer": "accept", "version": str(proposed.version)},
                  page=f"/volunteering/matches/{proposed.id}")
    db.session.refresh(proposed)
    page = client.get("/volunteering").get_data(as_text=True)
    day = proposed.next_check_in_on
    assert "Accepted" in page and f"{day.day} " in page and str(day.year) in page


@pytest.mark.parametrize("coded_only", [True, False])
def test_a_volunteer_requests_note_never_reaches_the_practices_referral_page(
        client, db, hub, referral, coded_only):
    """The note for the volunteer is the hub's (referrals.sharing: HUB_ONLY). No practice
    output shows a volunteer request at all: its page, letter and FHIR are walked in
    tests/referrals/test_coded_only_walk.py; here the referral page, coded only or not,
    while the request's page in the hub shows the same words."""
    referral.coded_only = coded_only
    sign_in(client, db, hub.connector)
    asked = ask(client, referral, notes="Loves talking about steam trains")
    assert asked.status_code == 302
    hub_page = client.get(asked.headers["Location"])
    assert "Loves talking about steam trains" in hub_page.get_data(as_text=True)

    sign_in(client, db, referral.referrer)
    practice_page = client.get(f"/referrals/{referral.id}")

    assert practice_page.status_code == 200
    text = practice_page.get_data(as_text=True)
    assert referral.reference in text
    assert "steam trains" not in text
