"""The public directory: anyone can search by words, category, day, cost and distance,
read an offer's page and find volunteering, without signing in and without seeing
anyone's personal data."""
from __future__ import annotations

import itertools
import re
from datetime import date, time
from decimal import Decimal

import pytest

from referrals.directory import vocabulary
from referrals.models import (
    CapacityStatus,
    CostOption,
    DirectoryOrganisation,
    Location,
    Offer,
    OfferAttribute,
    OfferKind,
    OfferStatus,
    PostcodePlace,
    Role,
    Schedule,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from tests.referrals.intake.conftest import Page, text_of

# The searcher's postcode, and how far north of it each venue is: 0.009° of latitude is
# about 1 km.
HOME = (52.2000, -1.1000)
KM = 0.009


class Town:
    """A small directory built straight into the tables, as an import would leave it."""

    def __init__(self, session):
        self.session = session
        self._ids = itertools.count(1)
        self.organisation = DirectoryOrganisation(
            id="org-1", name="Kindlebury Community Trust", phone="01632 960 001",
            email="hello@trust.example", website="https://trust.example")
        session.add(self.organisation)
        session.merge(Taxonomy(id=vocabulary.TAXONOMY_ID, name=vocabulary.TAXONOMY_NAME))
        for category in vocabulary.CATEGORIES:
            session.merge(TaxonomyTerm(id=category.id, taxonomy_id=vocabulary.TAXONOMY_ID,
                                       code=category.code, name=category.name))
        session.merge(PostcodePlace(postcode="KB1 1AB", latitude=HOME[0], longitude=HOME[1]))
        session.merge(PostcodePlace(postcode="KB9", latitude=HOME[0] + 40 * KM,
                                    longitude=HOME[1]))
        session.flush()

    def offer(self, name, *, km_north=1.0, categories=("social-groups",), byday="TU",
              opens=time(10), closes=time(12), free=True, cost=None, kind=OfferKind.GROUP,
              status=OfferStatus.ACTIVE, capacity=CapacityStatus.OPEN, description="",
              virtual=False, **fields) -> Offer:
        n = next(self._ids)
        offer = Offer(id=f"offer-{n}", name=name, organisation=self.organisation, kind=kind,
                      status=status, capacity_status=capacity, is_free=free,
                      description=description or f"{name} meets every week. Everyone welcome.",
                      **fields)
        location = Location(
            id=f"loc-{n}", location_type="virtual" if virtual else "physical",
            name="" if virtual else f"{name} Hall", address_1=f"{n} High Street",
            city="Kindlebury", postal_code="" if virtual else "KB1 2CD",
            latitude=None if virtual else HOME[0] + km_north * KM,
            longitude=None if virtual else HOME[1],
            accessibility=["step-free", "hearing-loop"])
        offer.sites.append(ServiceAtLocation(id=f"sal-{n}", location=location))
        if byday:
            offer.schedules.append(Schedule(id=f"sch-{n}", byday=byday, opens_at=opens,
                                            closes_at=closes))
        if cost:
            amount, words = cost
            offer.cost_options.append(CostOption(id=f"cost-{n}", amount=Decimal(amount),
                                                 amount_description=words))
        for code in categories:
            offer.attributes.append(OfferAttribute(
                id=f"attr-{n}-{code}", taxonomy_term_id=vocabulary.term_id(code)))
        self.session.add(offer)
        self.session.flush()
        return offer


@pytest.fixture
def town(db):
    return Town(db.session)


@pytest.fixture
def walks(town, db):
    """Three walking groups and a lunch club around KB1 1AB."""
    offers = {
        "near_tuesday": town.offer("Tuesday Strollers", km_north=1.9,
                                   categories=("physical-activity",)),
        "far_tuesday": town.offer("Riverside Ramblers", km_north=8,
                                  categories=("physical-activity",)),
        "near_thursday": town.offer("Thursday Health Walk", km_north=0.5, byday="TH",
                                    categories=("physical-activity",)),
        "lunch": town.offer("Friendship Lunch Club", km_north=2.5, byday="WE",
                            categories=("food-lunch-clubs",), free=False,
                            cost=("3.00", "two-course lunch")),
    }
    db.session.commit()
    return offers


def names(response) -> list[str]:
    """The offers listed on a results page, in order."""
    page = Page(response)
    return [text_of(a) for a in page.findall(".//a[@class='nhsuk-card__link']")]


def search(client, **args):
    response = client.get("/directory", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response


# --- searching -----------------------------------------------------------------------------


def test_the_directory_lists_every_active_offer_without_signing_in(client, walks, town, db):
    town.offer("Closed Choir", status=OfferStatus.INACTIVE)
    db.session.commit()

    response = search(client)

    assert sorted(names(response)) == sorted(
        ["Tuesday Strollers", "Riverside Ramblers", "Thursday Health Walk",
         "Friendship Lunch Club"])
    assert "4 results" in Page(response).text()


def test_words_find_offers_by_name_description_or_organisation(client, walks):
    # Whole words, in any form ("stroller"), never part of another word.
    assert names(search(client, q="stroller")) == ["Tuesday Strollers"]
    assert names(search(client, q="LUNCH club")) == ["Friendship Lunch Club"]
    assert len(names(search(client, q="Kindlebury Community Trust"))) == 4


def test_a_corrected_typo_says_what_was_searched_for_and_links_to_the_words_typed(
        client, walks):
    response = search(client, q="strolers", day="TU")

    assert names(response) == ["Tuesday Strollers"]
    page = Page(response)
    assert "Showing results for strollers." in page.text()
    link = page.find(".//p[@class='kindly-corrected']/a")
    assert text_of(link) == "Search instead for strolers"
    exact = client.get(link.get("href"))
    assert names(exact) == [] and "Showing results for" not in Page(exact).text()
    assert "day=TU" in link.get("href")


def test_category_day_and_free_only_narrow_the_results(client, walks):
    assert sorted(names(search(client, category="physical-activity"))) == [
        "Riverside Ramblers", "Thursday Health Walk", "Tuesday Strollers"]
    assert sorted(names(search(client, category="physical-activity", day="TU"))) == [
        "Riverside Ramblers", "Tuesday Strollers"]
    assert "Friendship Lunch Club" not in names(search(client, free="y"))
    assert "Friendship Lunch Club" in names(search(client, day="WE"))


def test_distance_from_a_postcode_includes_near_offers_and_excludes_far_ones(client, walks):
    response = search(client, postcode="kb11ab", distance="3", day="TU",
                      category="physical-activity")

    assert names(response) == ["Tuesday Strollers"]
    assert "1 result near KB1 1AB" in Page(response).text()
    assert "(1.9 km away)" in Page(response).text()


def test_a_postcode_without_a_distance_lists_nearest_first(client, walks):
    response = search(client, postcode="KB1 1AB")

    assert names(response) == ["Thursday Health Walk", "Tuesday Strollers",
                               "Friendship Lunch Club", "Riverside Ramblers"]


def test_an_outward_code_centroid_is_good_enough_to_search_from(client, walks):
    # KB9 9ZZ is not in the table, but its district's centre is: 40 km north.
    response = search(client, postcode="KB9 9ZZ", distance="20")

    assert names(response) == []
    assert "No results" in Page(response).text()


def test_an_unknown_postcode_says_so_next_to_the_field(client, walks):
    response = search(client, postcode="KB7 7AA", distance="3")
    page = Page(response)

    assert page.error_for("postcode").startswith("We could not find that postcode")
    assert page.summary_links() == {"#postcode": page.error_for("postcode")}
    assert names(response) == []
    assert page.find(".//title").text.startswith("Error: ")


@pytest.mark.parametrize("postcode", ["not a postcode", "12345", "KB1 1A", "<script>"])
def test_a_malformed_postcode_asks_for_a_real_one(client, walks, postcode):
    page = Page(search(client, postcode=postcode))

    assert page.error_for("postcode") == "Enter a real UK postcode, like KB1 1AB"
    assert 'value="<script>"' not in page.html


def test_a_distance_without_a_postcode_asks_for_the_postcode(client, walks):
    page = Page(search(client, distance="5"))

    assert page.error_for("postcode") == "Enter your postcode to search within 5 km"


@pytest.mark.parametrize("args", [
    {"category": "nonsense"}, {"day": "XX"}, {"distance": "7"}, {"distance": "-1"},
    {"page": "banana"}, {"page": "-3"}, {"page": "99999999999999999999"}, {"kind": "spaceship"},
    {"q": "%_\\'\""}, {"q": "x" * 500}, {"postcode": "\x00KB1 1AB"}, {"free": "maybe"},
])
def test_nonsense_in_the_address_never_breaks_the_page(client, walks, args):
    response = client.get("/directory", query_string=args)

    assert response.status_code == 200


def test_no_results_explain_what_to_try(client, walks):
    page = Page(search(client, q="zumba", day="SU", free="y"))

    assert "No results" in page.text()
    assert "use fewer or different words" in page.text()
    assert 'choose "Any day"' in page.text()
    assert page.links()["start a new search"] == "/directory"
    assert page.links()["ask a connector to contact you"] == "/directory/ask-a-connector"


def test_results_come_in_pages_that_keep_the_search(client, town, db):
    for n in range(23):
        town.offer(f"Coffee Morning {n:02d}", byday="FR")
    db.session.commit()

    first = Page(search(client, day="FR"))
    next_href = first.find(".//a[@rel='next']").get("href")
    second = client.get(next_href)
    last = client.get(next_href.replace("page=2", "page=3"))

    assert "23 results" in first.text() and "Page 1 of 3" in first.text()
    assert "day=FR" in next_href and "page=2" in next_href
    assert names(second)[0] == "Coffee Morning 10"
    assert len(names(last)) == 3
    assert first.find(".//a[@rel='prev']") is None


def test_each_result_shows_when_where_cost_and_capacity(client, walks, town, db):
    town.offer("Knit and Natter", byday="MO", opens=time(14), closes=time(16), free=False,
               cost=("2.50", "tea and cake"), capacity=CapacityStatus.WAITING_LIST,
               categories=("arts-crafts",))
    db.session.commit()

    card = Page(search(client, q="knit")).find(".//*[@class='nhsuk-card nhsuk-card--clickable kindly-result']")
    text = text_of(card)

    assert "Kindlebury Community Trust" in text
    assert "When Mondays, 14:00 to 16:00" in text
    assert "Where Knit and Natter Hall, Kindlebury, KB1 2CD" in text
    assert "Cost £2.50: tea and cake" in text
    assert "Waiting list" in text
    assert "Knit and Natter meets every week." in text


# --- one offer ------------------------------------------------------------------------------


def test_an_offers_page_tells_everything_a_person_needs(client, town, db):
    offer = town.offer(
        "Tuesday Strollers", categories=("physical-activity",), minimum_age=50,
        eligibility_description="For anyone who can walk for 30 minutes.",
        languages=["en", "pl"], contact_phone="07700 900 111", url="https://strollers.example",
        last_verified_on=date(2026, 9, 1), capacity=CapacityStatus.FULL,
        description="A gentle hour round the park.\nTea afterwards.")
    db.session.commit()

    response = client.get(f"/directory/offers/{offer.id}")
    page = Page(response)
    text = page.text()

    assert response.status_code == 200
    assert page.find(".//h1").text == "Tuesday Strollers"
    for expected in ["A gentle hour round the park.", "Tuesdays, 10:00 to 12:00",
                     "Tuesday Strollers Hall", "1 High Street, Kindlebury, KB1 2CD",
                     "Step-free access", "Hearing loop", "Free", "Ages 50 and over",
                     "For anyone who can walk for 30 minutes.", "English, Polish",
                     "07700 900 111", "hello@trust.example", "1 Sep 2026", "Full"]:
        assert expected in text, expected
    assert page.links()["Ask a connector to help you get there"] == (
        f"/directory/ask-a-connector?offer={offer.id}")
    assert "https://strollers.example" in page.links().values()


def test_an_offer_never_links_to_a_script(client, town, db):
    offer = town.offer("Odd Group", url="javascript:alert(1)")
    db.session.commit()

    html = client.get(f"/directory/offers/{offer.id}").get_data(as_text=True)

    assert "javascript:" not in html


@pytest.mark.parametrize("status", [OfferStatus.INACTIVE, OfferStatus.DEFUNCT])
def test_an_inactive_offer_is_not_found(client, town, db, status):
    offer = town.offer("Old Choir", status=status)
    db.session.commit()

    response = client.get(f"/directory/offers/{offer.id}")

    assert response.status_code == 404
    assert "Page not found" in Page(response).text()


@pytest.mark.parametrize("offer_id", ["no-such-offer", "x" * 65, "%00", "1"])
def test_an_unknown_offer_is_not_found(client, walks, offer_id):
    assert client.get(f"/directory/offers/{offer_id}").status_code == 404


# --- volunteering ---------------------------------------------------------------------------


def test_the_volunteer_section_lists_only_volunteering(client, walks, town, db):
    town.offer("Garden Volunteers", kind=OfferKind.VOLUNTEERING, byday="SA",
               categories=("volunteering", "gardening-nature"))
    town.offer("Community Car Scheme Drivers", kind=OfferKind.VOLUNTEERING, byday="",
               categories=("volunteering",))
    db.session.commit()

    response = client.get("/directory/volunteer")
    page = Page(response)

    assert response.status_code == 200
    assert page.find(".//h1").text == "Is there anything you can do to help?"
    assert sorted(names(response)) == ["Community Car Scheme Drivers", "Garden Volunteers"]
    assert names(client.get("/directory/volunteer", query_string={"day": "SA"})) == [
        "Garden Volunteers"]
    assert "Garden Volunteers" in names(search(client))


def test_a_hidden_kind_filter_narrows_the_main_search(client, walks, town, db):
    town.offer("Garden Volunteers", kind=OfferKind.VOLUNTEERING)
    db.session.commit()
    page = Page(search(client))

    assert page.find(".//select[@name='kind']") is None
    assert names(search(client, kind="volunteering")) == ["Garden Volunteers"]


# --- public and private -----------------------------------------------------------------


def test_the_public_pages_show_nobodys_personal_data(client, make, walks, db):
    referral = make.referral(person={"given_name": "Zebedee", "family_name": "Quill"})
    db.session.commit()
    number = referral.patient.nhs_number

    for url in ["/directory", "/directory/volunteer", "/directory/ask-a-connector",
                f"/directory/offers/{walks['lunch'].id}", "/directory?q=Zebedee"]:
        html = client.get(url).get_data(as_text=True)
        assert "Zebedee" not in html.replace("?q=Zebedee", "").replace('value="Zebedee"', "")
        assert number not in re.sub(r"\s", "", html)


def test_the_public_pages_need_no_sign_in_and_keep_signed_in_staff_signed_in(
        client, login_as, walks):
    anonymous = client.get("/directory")
    assert "Sign out" not in anonymous.get_data(as_text=True)
    assert 'href="/directory/volunteer"' in anonymous.get_data(as_text=True)

    login_as(Role.CONNECTOR)
    signed_in = client.get("/directory").get_data(as_text=True)

    assert "Sign out" in signed_in


def test_every_public_route_is_declared_public(app):
    for endpoint in ["directory.search", "directory.offer", "directory.volunteer",
                     "directory.self_referral", "directory.self_referral_sent"]:
        assert getattr(app.view_functions[endpoint], "access", None) == "public", endpoint


# --- the map (issue 14) ---------------------------------------------------------------------

TILES = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"


def _map(page: Page):
    return page.find(".//*[@class='kindly-map']")


def test_with_a_tile_url_the_results_carry_a_map_of_the_placed_offers(
        client, walks, town, db, app, monkeypatch):
    import json

    monkeypatch.setitem(app.config, "MAP_TILE_URL", TILES)
    monkeypatch.setitem(app.config, "MAP_ATTRIBUTION", "© Example Maps")
    town.offer("Phone Friends", virtual=True, byday="TU")
    db.session.commit()

    response = search(client, postcode="KB1 1AB", day="TU")
    page = Page(response)
    box = _map(page)

    assert box.get("data-tile-url") == TILES and box.get("data-attribution") == "© Example Maps"
    points = json.loads(box.get("data-points"))
    # Placed offers are mapped, with links; the phone one is listed but not mapped.
    assert {p["name"] for p in points} == {"Tuesday Strollers", "Riverside Ramblers"}
    assert "Phone Friends" in names(response)
    assert all(p["href"].startswith("/directory/offers/") for p in points)
    assert json.loads(box.get("data-home")) == [HOME[0], HOME[1]]
    assert box.get("role") == "region" and box.get("aria-label")
    assert "leaflet/leaflet.js" in page.html and "kindly-map.js" in page.html
    # Tiles come from the configured host, and from nowhere else.
    assert "img-src 'self' https://*.tiles.example.org;" in response.headers[
        "Content-Security-Policy"]


def test_an_offers_page_maps_its_venues_when_tiles_are_configured(
        client, town, db, app, monkeypatch):
    import json

    monkeypatch.setitem(app.config, "MAP_TILE_URL", TILES)
    offer = town.offer("Tuesday Strollers", km_north=1)
    db.session.commit()

    box = _map(Page(client.get(f"/directory/offers/{offer.id}")))

    [point] = json.loads(box.get("data-points"))
    assert point["name"] == "Tuesday Strollers" and point["href"] is None
    assert point["lat"] == pytest.approx(HOME[0] + KM)


def test_without_a_tile_url_there_is_no_map_and_no_map_script(client, walks, town, db, app):
    assert app.config["MAP_TILE_URL"] == ""
    response = search(client, postcode="KB1 1AB")
    offer_page = client.get(f"/directory/offers/{walks['near_tuesday'].id}")

    for page in (Page(response), Page(offer_page)):
        assert _map(page) is None and "leaflet" not in page.html
    assert "img-src 'self';" in response.headers["Content-Security-Policy"]
    assert len(names(response)) == 4  # the list, with distances, is still all there
