"""The partner's pages (/partner) and the connector's consent at handover, through the
browser's forms: post/redirect/get, errors by their fields, a stale answer kept, and
another organisation's handovers and listings 404."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select

from referrals.matching import service as matching
from referrals.models import (
    AuditEvent,
    CapacityStatus,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    OutboxMessage,
    ReferralStatus,
    Role,
    SafeguardingConcern,
    User,
)
from referrals.partners import service as partners
from tests.conftest import Client
from tests.referrals.matching import test_connections as connections
from tests.referrals.matching.test_views import local_today, record_form, sign_in, url

hub, offers = connections.hub, connections.offers
C = ConnectionStatus
SHARED = matching.Handover(share=True, contact="ada@example.org", note="Likes gardening")


@pytest.fixture
def referral(db, make, hub):
    return make.referral(hub.practice, connector=hub.connector,
                         status=ReferralStatus.IN_PROGRESS,
                         person={"given_name": "Ada", "family_name": "Lovelace"})


@pytest.fixture
def offer(offers):
    return offers("Kindlebury Befrienders")


@pytest.fixture
def partner(make, offer):
    return make.user(Role.PARTNER, organisation=offer.organisation)


def handed_over(referral, offer, hub, handover=SHARED) -> Connection:
    return matching.record_connection(referral, offer, kind=ConnectionKind.REFERRAL,
                                      handover=handover, actor=hub.connector,
                                      today=local_today())


def answer_form(status, day=None, **extra):
    day = day or local_today()
    data = {"status": status, "on-day": str(day.day), "on-month": str(day.month),
            "on-year": str(day.year), "note": ""}
    data.update(extra)
    return data


# --- the connector records consent ----------------------------------------------------


def test_the_connectors_record_form_stores_consent_to_share(client, db, hub, referral, offer):
    sign_in(client, db, hub.connector)
    response = client.submit(url(referral, "/connections"), record_form(
        offer, kind="referral", share="y", contact="07700 900456",
        handover_note="Meet at the door"), page=url(referral, "/suggestions"))
    assert response.status_code == 302
    connection = db.session.scalars(select(Connection)).one()
    assert (connection.share_with_partner, connection.partner_contact,
            connection.handover_note) == (True, "07700 900456", "Meet at the door")


def test_consent_without_a_contact_is_an_error_by_the_field(client, db, hub, referral, offer):
    sign_in(client, db, hub.connector)
    response = client.submit(url(referral, "/connections"), record_form(
        offer, kind="referral", share="y"), page=url(referral, "/suggestions"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter how the organisation can contact them" in html
    assert 'href="#contact-' in html
    assert db.session.scalars(select(Connection)).first() is None


# --- the partner's pages ----------------------------------------------------------------


def test_a_partner_signs_in_to_their_handovers_and_reads_only_what_was_shared(
        client, db, hub, referral, offer, partner):
    connection = handed_over(referral, offer, hub)
    sign_in(client, db, partner)
    home = client.get("/", follow_redirects=True)
    assert home.request.path == "/partner"
    page = client.get(f"/partner/handovers/{connection.id}").get_data(as_text=True)
    assert "Ada" in page and "ada@example.org" in page and "Likes gardening" in page
    assert "Lovelace" not in page and referral.patient.nhs_number not in page
    assert "Loneliness" not in page
    reads = db.session.scalars(select(AuditEvent).where(
        AuditEvent.actor_id == partner.id, AuditEvent.action == "read")).all()
    assert {r.detail["view"] for r in reads} == {"partner-handovers", "partner-handover"}


def test_a_partner_takes_on_then_marks_attended_and_the_connector_sees_it(
        app, client, db, hub, referral, offer, partner):
    connection = handed_over(referral, offer, hub)
    sign_in(client, db, partner)
    page = f"/partner/handovers/{connection.id}"
    version = connection.version
    response = client.submit(page, answer_form("taken_on", version=str(version)))
    assert response.status_code == 303
    response = client.submit(page, answer_form("attended", version=str(version + 1)))
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Connection, connection.id).status is C.ATTENDED
    for name in ("_login_user", "csrf_token"):  # the tests' one app context keeps them
        g.pop(name, None)
    connector = Client(app.test_client())
    sign_in(connector, db, hub.connector)
    workspace = connector.get(url(referral, "/suggestions")).get_data(as_text=True)
    assert "Attended" in workspace


def test_no_capacity_without_a_date_is_an_error_by_the_field(
        client, db, hub, referral, offer, partner):
    connection = handed_over(referral, offer, hub)
    sign_in(client, db, partner)
    response = client.submit(f"/partner/handovers/{connection.id}", answer_form("no_capacity"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter the date you will have room again" in html
    assert 'href="#capacity_returns_on-day"' in html


def test_a_stale_answer_says_what_happened_and_keeps_the_note(
        client, db, hub, referral, offer, partner):
    connection = handed_over(referral, offer, hub)
    version = connection.version
    matching.update_connection(connection, status=C.DECLINED, on=local_today(),
                               actor=hub.connector, today=local_today())
    sign_in(client, db, partner)
    response = client.submit(f"/partner/handovers/{connection.id}", answer_form(
        "taken_on", version=str(version), note="We can see her Tuesday"))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else changed this connection" in html and "We can see her Tuesday" in html


def test_a_partner_of_another_organisation_gets_404_for_the_handover(
        client, db, make, hub, referral, offer, partner):
    connection = handed_over(referral, offer, hub)
    sign_in(client, db, make.user(Role.PARTNER))
    assert client.get(f"/partner/handovers/{connection.id}").status_code == 404
    assert "Ada" not in client.get("/partner").get_data(as_text=True)


# --- listings ---------------------------------------------------------------------------


def test_a_partner_confirms_and_sets_capacity_on_their_listing(
        client, db, offer, partner):
    sign_in(client, db, partner)
    page = f"/partner/listings/{offer.id}"
    assert client.submit(f"{page}/confirm", {}, page=page).status_code == 303
    returns = local_today() + timedelta(days=20)
    response = client.submit(f"{page}/capacity", {
        "capacity": "full", "returns_on-day": str(returns.day),
        "returns_on-month": str(returns.month), "returns_on-year": str(returns.year)},
        page=page)
    assert response.status_code == 303
    db.session.expire_all()
    assert offer.last_verified_on == local_today() and offer.verified_by_id == partner.id
    assert (offer.capacity_status, offer.capacity_returns_on) == (CapacityStatus.FULL, returns)


def test_a_partner_changes_only_the_times_places_and_contact(client, db, offer, partner):
    name, categories = offer.name, offer.category_codes
    sign_in(client, db, partner)
    page = f"/partner/listings/{offer.id}/edit"
    form = {"venue_name": "Church hall", "address_1": "1 High Street", "city": "Leeds",
            "postcode": "LS1 4AP", "session_1_day": "WE", "session_1_opens": "10:00",
            "session_1_closes": "12:00", "contact_phone": "01632 960111",
            "name": "Renamed by a partner"}
    response = client.submit(page, form)
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    assert (offer.name, offer.category_codes) == (name, categories)
    assert offer.contact_phone == "01632 960111"
    assert [s.byday for s in offer.schedules] == ["WE"]


def test_another_organisations_listing_is_404(client, db, make, offers, partner):
    theirs = offers("Choir")
    sign_in(client, db, partner)
    assert client.get(f"/partner/listings/{theirs.id}").status_code == 404
    assert client.get(f"/partner/listings/{theirs.id}/edit").status_code == 404
    response = client.submit(f"/partner/listings/{theirs.id}/confirm", {},
                             page="/partner/listings")
    assert response.status_code == 404
    assert theirs.last_verified_on is None


# --- accounts ---------------------------------------------------------------------------


def test_a_coordinator_invites_a_partner_for_an_organisation(client, db, login_as, make, offer):
    login_as(Role.COORDINATOR)
    response = client.submit("/users/invite", {"name": "Bev Collins", "role": "partner",
                                               "email": "bev@example.org"})
    assert response.status_code == 422
    assert "Select the organisation this partner works for" in response.get_data(as_text=True)
    response = client.submit("/users/invite", {
        "name": "Bev Collins", "role": "partner", "email": "bev@example.org",
        "organisation": offer.organisation_id})
    assert response.status_code == 303
    bev = db.session.scalars(select(User).where(User.email == "bev@example.org")).one()
    assert (bev.role, bev.organisation_id, bev.team_id) == (
        Role.PARTNER, offer.organisation_id, None)
    assert db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to == "bev@example.org")).first() is not None
    assert "Bev Collins" in client.get("/users").get_data(as_text=True)


def test_the_coordinators_directory_shows_until_when_an_offer_is_full(
        client, db, login_as, offer):
    offer.capacity_status = CapacityStatus.FULL
    offer.capacity_returns_on = local_today() + timedelta(days=30)
    login_as(Role.COORDINATOR)
    page = client.get(f"/hub/directory/offers/{offer.id}").get_data(as_text=True)
    assert f"until {offer.capacity_returns_on:%-d %b %Y}" in page


def test_a_coordinators_quick_full_keeps_the_day_the_partner_gave(client, db, login_as, offer):
    returns = local_today() + timedelta(days=30)
    offer.capacity_status, offer.capacity_returns_on = CapacityStatus.FULL, returns
    login_as(Role.COORDINATOR)
    page = f"/hub/directory/offers/{offer.id}"
    assert client.submit(f"{page}/capacity", {"capacity": "full"}, page=page).status_code == 302
    assert offer.capacity_returns_on == returns
    client.submit(f"{page}/capacity", {"capacity": "open"}, page=page)
    assert (offer.capacity_status, offer.capacity_returns_on) == (CapacityStatus.OPEN, None)


def test_the_connector_changes_what_is_shared_and_the_partner_sees_it_then_not(
        client, db, hub, referral, offer, partner):
    connection = handed_over(referral, offer, hub, handover=matching.Handover())
    sign_in(client, db, hub.connector)
    page = url(referral, f"/connections/{connection.id}")
    version = connection.version
    response = client.submit(f"{page}/sharing", {"share": "y", "version": str(version)},
                             page=page)
    assert response.status_code == 422
    assert "Enter how the organisation can contact them" in response.get_data(as_text=True)
    response = client.submit(f"{page}/sharing", {
        "share": "y", "contact": "07700 900321", "version": str(version)}, page=page)
    assert response.status_code == 302
    assert [h.contact for h in partners.handovers_for(partner)] == ["07700 900321"]
    response = client.submit(f"{page}/sharing", {"version": str(version + 1)}, page=page)
    assert response.status_code == 302
    [seen] = partners.handovers_for(partner)
    assert (seen.shared, seen.first_name, seen.contact) == (False, "", "")
    stale = client.submit(f"{page}/sharing", {"share": "y", "contact": "x@example.org",
                                              "version": str(version)}, page=page)
    assert stale.status_code == 409


def test_the_handovers_page_opens_on_those_waiting_for_an_answer(
        client, db, hub, referral, offer, offers, partner):
    waiting = handed_over(referral, offer, hub)
    other = offers("Lunch club")
    other.organisation = offer.organisation
    answered = handed_over(referral, other, hub)
    matching.update_connection(answered, status=C.DECLINED, on=local_today(),
                               actor=hub.connector, today=local_today())
    sign_in(client, db, partner)
    default = client.get("/partner").get_data(as_text=True)
    assert f"/partner/handovers/{waiting.id}" in default
    assert f"/partner/handovers/{answered.id}" not in default
    everything = client.get("/partner?show=all").get_data(as_text=True)
    assert f"/partner/handovers/{answered.id}" in everything


# --- safeguarding (issue 15, matching) -----------------------------------------------


def test_a_partner_raises_a_safeguarding_concern_from_the_handover_page(
        client, db, hub, referral, offer, partner):
    connection = handed_over(referral, offer, hub)
    sign_in(client, db, partner)
    page = client.get(f"/partner/handovers/{connection.id}").get_data(as_text=True)
    link = f"/volunteering/concerns/new?connection={connection.id}"
    assert f'href="{link}"' in page
    form = client.get(link)
    assert form.status_code == 200 and "999" in form.get_data(as_text=True)
    sent = client.submit(link, {"concern": "Seemed frightened of a neighbour"})
    assert sent.status_code == 302
    concern = db.session.scalars(select(SafeguardingConcern)).one()
    assert (concern.connection_id, concern.raised_by_id, concern.referral_id) == (
        connection.id, partner.id, referral.id)
