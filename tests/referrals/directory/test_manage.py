"""The coordinator's directory pages: for coordinators only, errors by the field, no 500."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from referrals.geo import load_postcodes
from referrals.models import (
    AuditEvent,
    CapacityStatus,
    DirectoryOrganisation,
    Offer,
    OfferKind,
    OfferStatus,
    Role,
)
from referrals.workdays import UK
from tests.counting import reads
from tests.referrals.intake.conftest import Page

PAGES = ["/hub/directory", "/hub/directory/needs-checking", "/hub/directory/offers/new",
         "/hub/directory/offers/{offer}", "/hub/directory/offers/{offer}/edit",
         "/hub/directory/offers/{offer}/retire", "/hub/directory/organisations",
         "/hub/directory/organisations/new", "/hub/directory/organisations/{org}",
         "/hub/directory/organisations/{org}/retire"]
ACTIONS = ["/hub/directory/offers/{offer}/verify", "/hub/directory/offers/{offer}/capacity",
           "/hub/directory/offers/{offer}/retire", "/hub/directory/offers/new",
           "/hub/directory/offers/{offer}/edit", "/hub/directory/organisations/new",
           "/hub/directory/organisations/{org}", "/hub/directory/organisations/{org}/retire"]


def today() -> date:
    return datetime.now(UK).date()


@pytest.fixture
def coordinator(login_as):
    return login_as(Role.COORDINATOR)


@pytest.fixture
def walk(db, offers):
    offer = offers.offer("Tuesday Strollers",
                         organisation=offers.organisation("Kindlebury Walkers"),
                         verified_on=today() - timedelta(days=10))
    db.session.commit()
    return offer


@pytest.fixture
def form(walk):
    """Offer form data that passes every rule; override any field (None drops it)."""

    def build(**overrides):
        data = {
            "name": "Lunch club", "organisation": walk.organisation_id, "kind": "group",
            "description": "Hot lunch and company.", "categories": ["food-lunch-clubs"],
            "status": "active", "venue_name": "Church hall", "address_1": "2 Church Street",
            "address_2": "", "city": "Kindlebury", "postcode": "KB1 1AB", "latitude": "",
            "longitude": "", "accessibility": ["step-free"], "session_1_day": "WE",
            "session_1_opens": "12:00", "session_1_closes": "14:00", "session_2_day": "",
            "session_2_opens": "", "session_2_closes": "", "cost": "charge", "amount": "4.50",
            "cost_description": "Two courses", "minimum_age": "60", "maximum_age": "",
            "eligibility_description": "", "languages": ["en"], "contact_name": "Pat",
            "contact_phone": "01632 960004", "email": "lunch@example.org",
            "website": "example.org/lunch",
        }
        data.update(overrides)
        return {key: value for key, value in data.items() if value is not None}

    return build


def url(template, offer):
    return template.format(offer=offer.id, org=offer.organisation_id)


# --- who may use the pages ------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.REFERRER, Role.CONNECTOR, Role.MANAGER, Role.ADMIN])
@pytest.mark.parametrize("template", PAGES)
def test_only_coordinators_may_open_the_directory_pages(client, login_as, walk, role, template):
    login_as(role)

    assert client.get(url(template, walk)).status_code == 403


@pytest.mark.parametrize("role", [Role.REFERRER, Role.CONNECTOR, Role.MANAGER, Role.ADMIN])
@pytest.mark.parametrize("template", ACTIONS)
def test_only_coordinators_may_change_the_directory(client, login_as, walk, role, template,
                                                    db):
    login_as(role)

    response = client.submit(url(template, walk), {"capacity": "full"}, page="/notifications")

    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Offer, walk.id).capacity_status is CapacityStatus.OPEN


@pytest.mark.parametrize("template", PAGES)
def test_anyone_signed_out_is_asked_to_sign_in(client, walk, template):
    response = client.get(url(template, walk))

    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"


@pytest.mark.parametrize("template", ACTIONS)
def test_every_change_needs_the_forms_csrf_token(client, coordinator, walk, template):
    response = client.post(url(template, walk), data={"capacity": "full", "name": "X"})

    assert response.status_code == 400


def test_coordinators_find_the_directory_in_their_navigation(client, coordinator):
    links = Page(client.get("/hub")).links()

    assert links["Directory"] == "/hub/directory"


def test_unknown_offers_and_organisations_are_not_found(client, coordinator):
    for path in ("/hub/directory/offers/nope", "/hub/directory/offers/nope/edit",
                 "/hub/directory/organisations/nope", "/hub/directory/offers/" + "x" * 65):
        assert client.get(path).status_code == 404


# --- the list ---------------------------------------------------------------------


def test_the_list_shows_each_offer_with_its_checks_and_counts_those_needing_checking(
        db, client, coordinator, offers, walk):
    offers.offer("Never checked choir", verified_on=None)
    offers.offer("Stale shed", verified_on=today() - timedelta(days=183),
                 capacity=CapacityStatus.FULL)
    db.session.commit()

    page = Page(client.get("/hub/directory"))

    rows = {" ".join(r.find(".//a").itertext()).split()[0]: " ".join("".join(r.itertext()).split())
            for r in page.findall(".//tbody/tr")}
    assert "Kindlebury Walkers" in rows["Tuesday"] and "Needs checking" not in rows["Tuesday"]
    assert "Needs checking" in rows["Never"] and "Never" in rows["Never"]
    assert "Needs checking" in rows["Stale"] and "Full" in rows["Stale"]
    summary = page.by_id("needs-checking-summary")
    link = summary.find(".//a")
    assert " ".join(link.itertext()) == "2 active offers need checking"
    filtered = Page(client.get(link.get("href")))
    assert "Tuesday Strollers" not in filtered.text()
    assert "Stale shed" in filtered.text() and "Never checked choir" in filtered.text()


def test_the_list_searches_names_and_organisations_and_ignores_nonsense_filters(
        client, coordinator, walk):
    assert "Tuesday Strollers" in Page(client.get("/hub/directory?q=walkers")).text()
    assert "Tuesday Strollers" not in Page(client.get("/hub/directory?q=choir")).text()
    response = client.get("/hub/directory?status=x&kind=%00&category=nope&capacity=1&page=abc"
                          "&needs_checking=maybe&q=" + "%25" * 500)
    assert response.status_code == 200


def test_the_needs_checking_list_is_oldest_first(db, client, coordinator, offers, walk):
    offers.offer("Old", verified_on=today() - timedelta(days=300))
    offers.offer("Older", verified_on=today() - timedelta(days=900))
    offers.offer("Never", verified_on=None)
    db.session.commit()

    page = Page(client.get("/hub/directory/needs-checking"))

    names = [" ".join(r.find(".//a").itertext()) for r in page.findall(".//tbody/tr")]
    assert names == ["Never", "Older", "Old"]


# --- quick actions -------------------------------------------------------------------


def test_marking_verified_from_the_list_goes_back_to_the_same_list(db, client, coordinator,
                                                                   offers):
    offer = offers.offer("Choir", verified_on=None)
    db.session.commit()
    back = "/hub/directory?needs_checking=1"

    response = client.submit(f"/hub/directory/offers/{offer.id}/verify", {"next": back},
                             page=back)

    assert response.status_code == 302 and response.location == back
    db.session.expire_all()
    saved = db.session.get(Offer, offer.id)
    assert saved.last_verified_on == today() and saved.verified_by_id == coordinator.id
    assert saved.verified_by_email == coordinator.email
    assert "Choir marked as verified today." in Page(client.get(back)).text()


def test_setting_capacity_full_is_one_action_and_says_what_changed(db, client, coordinator,
                                                                   walk):
    response = client.submit(f"/hub/directory/offers/{walk.id}/capacity",
                             {"capacity": "full", "next": "/hub/directory"},
                             page="/hub/directory")

    assert response.location == "/hub/directory"
    db.session.expire_all()
    saved = db.session.get(Offer, walk.id)
    assert saved.capacity_status is CapacityStatus.FULL and saved.capacity_updated_at
    assert ("Tuesday Strollers: capacity changed from open to new people to full."
            in Page(client.get("/hub/directory")).text())


def test_a_nonsense_capacity_changes_nothing_and_says_so(db, client, coordinator, walk):
    response = client.submit(f"/hub/directory/offers/{walk.id}/capacity",
                             {"capacity": "bursting"}, page="/hub/directory")

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Offer, walk.id).capacity_status is CapacityStatus.OPEN
    assert "Choose open, waiting list or full" in Page(client.get(response.location)).text()


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/hub/directory",
                                  "/login", "javascript:alert(1)"])
def test_quick_actions_only_go_back_to_directory_pages(client, coordinator, walk, back):
    response = client.submit(f"/hub/directory/offers/{walk.id}/verify", {"next": back},
                             page="/hub/directory")

    assert response.location == f"/hub/directory/offers/{walk.id}"


# --- creating and editing offers --------------------------------------------------------


def test_a_coordinator_adds_an_offer_and_sees_it(db, client, coordinator, form):
    load_postcodes([{"postcode": "KB1 1AB", "latitude": "52.8", "longitude": "-2.1"}])
    db.session.commit()

    response = client.submit("/hub/directory/offers/new", form())

    assert response.status_code == 302
    offer = db.session.scalars(select(Offer).where(Offer.name == "Lunch club")).one()
    assert response.location == f"/hub/directory/offers/{offer.id}"
    assert offer.locations[0].latitude == 52.8 and not offer.is_free
    page = Page(client.get(response.location))
    assert "Lunch club added to the directory." in page.text()
    assert "Wednesdays, 12:00 to 14:00" in page.text()
    assert "£4.50: Two courses" in page.text()
    assert "could not place this postcode" not in page.text()


def test_an_unknown_postcode_is_saved_and_the_coordinator_is_told(db, client, coordinator,
                                                                  form):
    response = client.submit("/hub/directory/offers/new", form(postcode="KB9 9ZZ"))

    page = Page(client.get(response.location))
    assert "We could not place this postcode on the map" in page.text()
    assert "Not on the map" in page.text()


def test_bad_input_is_shown_by_each_field_and_what_was_typed_is_kept(db, client, coordinator,
                                                                     form):
    response = client.submit("/hub/directory/offers/new", form(
        name="", session_1_opens="14:00", session_1_closes="12:00", amount="lots",
        minimum_age="130", maximum_age="x", postcode="nowhere", latitude="52.8", email="bad",
        session_2_day="FR", cost_description="Soup <b>and</b> bread"))

    assert response.status_code == 422
    page = Page(response)
    assert page.error_for("name") == "Enter the offer's name"
    assert page.error_for("session_1_closes") == (
        "The time session 1 finishes must be after it starts")
    assert page.error_for("session_2_opens").startswith("Enter the time session 2 starts")
    assert page.error_for("amount") == "Enter an amount in pounds, like 3.50"
    assert page.error_for("minimum_age") == "Enter an age from 0 to 120"
    assert page.error_for("maximum_age") == "Enter a whole number, like 18"
    assert page.error_for("postcode") == "Enter a real postcode, like KB1 1AB"
    assert page.error_for("longitude").startswith("Enter both latitude and longitude")
    assert page.error_for("email").startswith("Enter an email address")
    assert page.summary_links()["#session_1_closes"].startswith("The time session 1")
    assert page.value_of("amount") == "lots"
    assert page.value_of("minimum_age") == "130"
    assert page.value_of("session_1_opens") == "14:00"
    assert page.value_of("cost_description") == "Soup <b>and</b> bread"
    assert page.checked("categories") == ["food-lunch-clubs"]
    assert page.checked("cost") == ["charge"]
    assert [page.find(f".//select[@name='session_{n}_day']/option[@selected]").get("value")
            for n in (1, 2, 3)] == ["WE", "FR", ""]
    assert db.session.scalar(select(func.count(Offer.id))) == 1  # only the walk


def test_nothing_typed_is_a_500(db, client, coordinator, form):
    for data in ({}, {"name": "\x00" * 10}, form(name="x" * 5000, organisation="x" * 500),
                 form(kind="spaceship", status="gone", cost="maybe", languages=["xx"]),
                 form(latitude="1e308", longitude="-1e308", amount="99999999999"),
                 form(session_1_opens="25:99", session_1_day="XX", website="http:// a")):
        response = client.submit("/hub/directory/offers/new", data)
        assert response.status_code == 422, data
        assert Page(response).find(".//*[@class='nhsuk-error-summary']") is not None


def test_the_edit_page_shows_the_offer_as_saved_and_saves_changes(db, client, coordinator,
                                                                  walk, form):
    edit = f"/hub/directory/offers/{walk.id}/edit"
    page = Page(client.get(edit))
    assert page.value_of("name") == "Tuesday Strollers"
    assert page.value_of("session_1_opens") == "10:00"
    assert page.value_of("postcode") == "KB1 1AB"
    assert page.checked("cost") == ["free"]

    response = client.submit(edit, form(name="Wednesday Strollers", cost="free", amount=""))

    assert response.location == f"/hub/directory/offers/{walk.id}"
    db.session.expire_all()
    saved = db.session.get(Offer, walk.id)
    assert saved.name == "Wednesday Strollers" and saved.is_free
    assert [s.id for s in saved.sites] == [f"sal-{walk.id.split('-')[1]}"]


def test_an_imported_status_stays_a_choice_when_editing(db, client, coordinator, offers):
    offer = offers.offer("Paused", status=OfferStatus.TEMPORARILY_CLOSED)
    db.session.commit()

    page = Page(client.get(f"/hub/directory/offers/{offer.id}/edit"))

    assert page.checked("status") == ["temporarily closed"]


def test_retiring_an_offer_asks_first(db, client, coordinator, walk):
    confirm = f"/hub/directory/offers/{walk.id}/retire"
    assert "Yes, retire this offer" in Page(client.get(confirm)).text()
    db.session.expire_all()
    assert db.session.get(Offer, walk.id).status is OfferStatus.ACTIVE

    response = client.submit(confirm, {})

    assert response.location == f"/hub/directory/offers/{walk.id}"
    db.session.expire_all()
    assert db.session.get(Offer, walk.id).status is OfferStatus.INACTIVE
    assert "Tuesday Strollers is now inactive." in Page(client.get(response.location)).text()
    assert "already inactive" in Page(client.get(confirm)).text()


# --- organisations --------------------------------------------------------------------


def test_a_coordinator_adds_and_edits_an_organisation(db, client, coordinator):
    response = client.submit("/hub/directory/organisations/new",
                             {"name": "Kindlebury Men's Shed", "website": "shed.example.org"})

    organisation = db.session.scalars(select(DirectoryOrganisation)).one()
    assert response.location == f"/hub/directory/organisations/{organisation.id}"
    assert organisation.website == "https://shed.example.org"

    response = client.submit(response.location, {"name": "The Men's Shed", "phone": "bad"})
    assert response.status_code == 422
    assert Page(response).error_for("phone").startswith("Enter a phone number")
    assert Page(response).value_of("name") == "The Men's Shed"

    response = client.submit(f"/hub/directory/organisations/{organisation.id}",
                             {"name": "The Men's Shed"})
    assert response.location == "/hub/directory/organisations"
    db.session.expire_all()
    assert db.session.get(DirectoryOrganisation, organisation.id).name == "The Men's Shed"


def test_an_organisation_without_a_name_is_refused_by_the_field(client, coordinator):
    response = client.submit("/hub/directory/organisations/new", {"name": " "})

    assert response.status_code == 422
    assert Page(response).error_for("name") == "Enter the organisation's name"


def test_retiring_an_organisation_lists_the_offers_it_will_close_then_closes_them(
        db, client, coordinator, offers, walk):
    offers.offer("Sunday walk", organisation=walk.organisation)
    db.session.commit()
    confirm = f"/hub/directory/organisations/{walk.organisation_id}/retire"

    text = Page(client.get(confirm)).text()
    assert "2 active offers will become inactive" in text
    assert "Sunday walk" in text and "Tuesday Strollers" in text

    response = client.submit(confirm, {})

    assert response.location == "/hub/directory/organisations"
    assert ("Kindlebury Walkers is retired and 2 active offers are now inactive."
            in Page(client.get(response.location)).text())
    assert db.session.scalar(select(func.count(Offer.id)).where(
        Offer.status == OfferStatus.ACTIVE)) == 0
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.actor_id == coordinator.id)).all()
    assert actions.count("retire") == 3


def test_a_new_offer_can_start_from_its_organisation(client, coordinator, walk):
    page = Page(client.get(f"/hub/directory/offers/new?organisation={walk.organisation_id}"))

    selected = page.find(".//select[@name='organisation']/option[@selected]")
    assert selected.get("value") == walk.organisation_id


def test_the_offer_page_shows_everything_with_the_quick_actions(client, coordinator, walk):
    page = Page(client.get(f"/hub/directory/offers/{walk.id}"))

    text = page.text()
    assert "Kindlebury Walkers" in text and "Tuesdays, 10:00 to 12:00" in text
    assert "Mark verified" in text and "Open to new people" in text
    assert page.find(f".//form[@action='/hub/directory/offers/{walk.id}/verify']") is not None


def test_kind_labels_are_shown(client, coordinator, offers, db):
    offers.offer("Helpers", kind=OfferKind.VOLUNTEERING)
    db.session.commit()

    assert "Volunteering opportunity" in Page(client.get("/hub/directory")).text()



# --- every list a page at a time -----------------------------------------------------


@pytest.fixture
def small_pages(app):
    size = app.config["PAGE_SIZE"]
    app.config["PAGE_SIZE"] = 3
    yield 3
    app.config["PAGE_SIZE"] = size


@pytest.mark.parametrize("path, add", [
    ("/hub/directory/needs-checking", lambda offers: offers.offer(verified_on=None)),
    ("/hub/directory/organisations", lambda offers: offers.organisation()),
])
def test_the_coordinators_lists_come_a_page_at_a_time(db, client, coordinator, offers,
                                                     small_pages, path, add):
    def page(url):
        with reads(db) as found:
            response = client.get(url)
        assert response.status_code == 200
        return found.rows, response.get_data(as_text=True)

    for _ in range(4):
        add(offers)
    db.session.commit()
    few, first = page(path)
    for _ in range(12):
        add(offers)
    db.session.commit()
    many, _ = page(path)
    assert many == few  # the rows read do not grow with the directory
    assert "page 1 of 2" in first
    assert f'href="{path}?page=2"' in first
    last = page(f"{path}?page=99")[1]  # past the end: the last page
    assert "page 6 of 6" in last and "?page=5" in last


def test_needs_checking_pages_hold_every_offer_once(db, client, coordinator, offers,
                                                    small_pages):
    names = {offers.offer(f"Offer {n:02d}", verified_on=None).name for n in range(7)}
    db.session.commit()
    seen = set()
    for number in (1, 2, 3):
        html = client.get(f"/hub/directory/needs-checking?page={number}").get_data(as_text=True)
        seen |= {name for name in names if f">{name}<" in html}
    assert seen == names
