"""When someone else changed the referral since a page was opened, the page says what
changed, keeps what was typed, and (where it can still be done) lets it be sent again."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from referrals.caseload import service as casework
from referrals.hub import service as hub_service
from referrals.matching import service as matching
from referrals.models import (
    ConnectionKind,
    ConnectionStatus,
    ContactChannel,
    ContactOutcome,
    Referral,
    ReferralStatus,
    Role,
    utcnow,
)
from tests.referrals.intake.conftest import Page

S = ReferralStatus
_VERSION = re.compile(r'name="version" value="(\d+)"')


@pytest.fixture
def team(make):
    practice = make.practice()
    return (practice, make.user(Role.CONNECTOR, team=practice.team, name="Sam Field"),
            make.user(Role.COORDINATOR, team=practice.team, name="Kit Lead"))


def sign_in(client, db, user):
    db.session.commit()
    assert client.submit("/login", {"email": user.email,
                                    "password": "correct horse battery"}).status_code == 302


def form_version(client, url: str) -> str:
    found = _VERSION.findall(client.get(url).get_data(as_text=True))
    assert found, f"no version on {url}"
    return found[0]


def someone_else_records_a_contact(db, referral, actor):
    casework.record_contact(referral, actor=actor, at=utcnow() - timedelta(minutes=5),
                            method=ContactChannel.PHONE, outcome=ContactOutcome.SPOKE)
    db.session.commit()


def test_closing_after_a_colleague_changed_it_shows_what_changed_and_keeps_the_note(
        db, client, make, team):
    practice, connector, coordinator = team
    referral = make.referral(practice, connector=connector, status=S.IN_PROGRESS)
    sign_in(client, db, connector)
    url = f"/caseload/referrals/{referral.id}/close"
    opened = form_version(client, url)
    someone_else_records_a_contact(db, referral, coordinator)

    note = "She has joined the Tuesday walk and feels less alone."
    response = client.submit(url, {"closing": "completed", "note": note, "version": opened})

    assert response.status_code == 409
    page = Page(response)
    assert "Someone else changed this referral" in page.text()
    assert "Kit Lead: Contact recorded (phone, spoke with them)" in page.text()
    assert page.by_id("note").text == note  # what was typed, still in the form
    assert _VERSION.findall(response.get_data(as_text=True)) == [str(referral.version)]
    assert db.session.get(Referral, referral.id).status is S.IN_PROGRESS

    again = client.submit(url, {"closing": "completed", "note": note,
                                "version": str(referral.version)})
    assert again.status_code == 302
    assert db.session.get(Referral, referral.id).status is S.COMPLETED


def test_rejecting_a_referral_a_colleague_just_accepted_keeps_the_reason_to_copy(
        db, client, make, team):
    practice, connector, coordinator = team
    referral = make.referral(practice)
    sign_in(client, db, coordinator)
    workspace = f"/caseload/referrals/{referral.id}"
    opened = form_version(client, workspace)
    casework.accept_referral(referral, actor=connector)
    db.session.commit()

    response = client.submit(f"{workspace}/reject", {
        "reason": "Needs the memory clinic first", "version": opened}, page=workspace)

    assert response.status_code == 409
    text = Page(response).text()
    assert "Sam Field: Status: received → accepted" in text
    assert "What you typed has not been saved" in text
    assert "Needs the memory clinic first" in text
    assert db.session.get(Referral, referral.id).status is S.ACCEPTED


def test_accepting_from_the_queue_what_a_colleague_took_says_who_took_it(
        db, client, make, team):
    practice, connector, _ = team
    colleague = make.user(Role.CONNECTOR, team=practice.team, name="Ria Colleague")
    referral = make.referral(practice)
    sign_in(client, db, connector)
    opened = form_version(client, "/caseload/queue")
    casework.accept_referral(referral, actor=colleague)
    db.session.commit()

    response = client.submit(f"/caseload/referrals/{referral.id}/accept",
                             {"version": opened}, page="/caseload/queue",
                             follow_redirects=True)

    text = Page(response).text()
    assert "is no longer in the team queue" in text  # and no longer this connector's to see
    assert db.session.get(Referral, referral.id).connector_id == colleague.id


def test_accepting_from_the_queue_what_a_colleague_changed_says_what_changed(
        db, client, make, team):
    practice, connector, coordinator = team
    referral = make.referral(practice)
    sign_in(client, db, connector)
    opened = form_version(client, "/caseload/queue")
    casework.reject_referral(referral, actor=coordinator, reason="Not for us")
    db.session.commit()

    response = client.submit(f"/caseload/referrals/{referral.id}/accept",
                             {"version": opened}, page="/caseload/queue",
                             follow_redirects=True)

    text = Page(response).text()
    assert "could not be accepted: someone else changed it" in text
    assert "Status: received → rejected (Kit Lead)" in text
    assert db.session.get(Referral, referral.id).status is S.REJECTED


def test_reassigning_after_someone_else_did_shows_it_and_keeps_the_reason(
        db, client, make, team):
    practice, connector, coordinator = team
    other = make.user(Role.CONNECTOR, team=practice.team, name="Ria Colleague")
    referral = make.referral(practice)
    sign_in(client, db, coordinator)
    url = f"/hub/referrals/{referral.id}/assign"
    opened = form_version(client, url)
    hub_service.assign(referral, other, actor=coordinator, reason="Cover")
    db.session.commit()

    response = client.submit(url, {"connector": str(connector.id), "reason": "Balancing load",
                                   "version": opened})

    assert response.status_code == 409
    page = Page(response)
    assert "Assigned to Ria Colleague" in page.text()
    assert page.by_id("reason").text == "Balancing load"
    assert db.session.get(Referral, referral.id).connector_id == other.id


def test_a_practice_cancelling_after_the_hub_moved_it_on_sees_what_happened(
        db, client, make, team):
    practice, connector, coordinator = team
    referrer = make.user(Role.REFERRER, practice=practice)
    referral = make.referral(practice, referrer=referrer)
    sign_in(client, db, referrer)
    url = f"/referrals/{referral.id}"
    opened = form_version(client, url)
    hub_service.assign(referral, connector, actor=coordinator, reason="Routing")
    db.session.commit()

    response = client.submit(f"{url}/cancel", {"reason": "Patient moved to Leeds",
                                               "version": opened}, page=url)

    assert response.status_code == 409
    page = Page(response)
    assert "Assigned to Sam Field" in page.text()
    assert page.by_id("reason").text == "Patient moved to Leeds"
    # Still received, so the practice may still cancel: sending it again does.
    again = client.submit(f"{url}/cancel", {"reason": "Patient moved to Leeds",
                                            "version": str(referral.version)}, page=url)
    assert again.status_code == 302
    assert db.session.get(Referral, referral.id).status is S.CANCELLED


def test_what_suits_them_saved_over_a_colleagues_change_is_refused_and_kept(
        db, client, make, team):
    practice, connector, coordinator = team
    referral = make.referral(practice, connector=connector, status=S.IN_PROGRESS)
    sign_in(client, db, connector)
    url = f"/caseload/referrals/{referral.id}/preferences"
    opened = form_version(client, url)
    matching.save_preferences(referral, availability=["TU-morning"], prefers_free=True,
                              max_distance_km=5.0, access_needs=[], language="",
                              actor=coordinator)
    db.session.commit()

    response = client.submit(url, {"availability": ["FR-evening"], "max_distance_km": "2",
                                   "version": opened})

    assert response.status_code == 409
    page = Page(response)
    assert "Kit Lead: What suits them updated" in page.text()
    assert page.by_id("max_distance_km").get("value") == "2"
    assert db.session.get(Referral, referral.id).availability == ["TU-morning"]


def test_a_contact_for_a_referral_closed_meanwhile_is_not_lost(db, client, make, team):
    practice, connector, coordinator = team
    referral = make.referral(practice, connector=connector, status=S.IN_PROGRESS)
    sign_in(client, db, connector)
    workspace = f"/caseload/referrals/{referral.id}"
    opened = form_version(client, f"{workspace}/contacts")  # the contacts section's form
    casework.close_referral(referral, "declined", actor=coordinator, note="Said no")
    db.session.commit()

    now = utcnow()
    response = client.submit(f"{workspace}/contacts", {
        "contact_date": now.strftime("%d/%m/%Y"), "contact_time": "09:00",
        "method": "phone", "outcome": "spoke", "version": opened,
        "notes": "Long chat about her late husband's allotment"}, page=workspace)

    assert response.status_code == 409
    text = Page(response).text()
    assert "Kit Lead: Status: in progress → declined" in text
    assert "Long chat about her late husband's allotment" in text
    assert db.session.get(Referral, referral.id).contacts == []


def test_moving_a_connection_a_colleague_just_moved_shows_what_it_is_now(
        db, client, make, team):
    from tests.referrals.matching.test_connections import Offers

    practice, connector, coordinator = team
    referral = make.referral(practice, connector=connector, status=S.IN_PROGRESS)
    today = utcnow().date()
    connection = matching.record_connection(referral, Offers(db.session)("Lunch club"),
                                            kind=ConnectionKind.REFERRAL, actor=connector,
                                            today=today)
    sign_in(client, db, connector)
    url = f"/caseload/referrals/{referral.id}/connections/{connection.id}"
    opened = form_version(client, url)
    matching.update_connection(connection, status=ConnectionStatus.ACCEPTED, on=today,
                               actor=coordinator, today=today)
    db.session.commit()

    response = client.submit(url, {"status": "declined", "on_day": str(today.day),
                                   "on_month": str(today.month), "on_year": str(today.year),
                                   "note": "Not keen on groups", "version": opened})

    assert response.status_code == 409
    page = Page(response)
    assert "it is now accepted" in page.text()
    assert page.by_id("note").text == "Not keen on groups"
    assert connection.status is ConnectionStatus.ACCEPTED
