"""One search behind the public site, the Open Referral API and the connector's search."""
from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from referrals.directory import vocabulary
from referrals.directory.search import DirectoryQuery, search
from referrals.geo import load_postcodes
from referrals.models import (
    CapacityStatus,
    CostOption,
    DirectoryOrganisation,
    Location,
    Offer,
    OfferAttribute,
    OfferKind,
    OfferStatus,
    Schedule,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)

CENTRE = (52.80, -2.10)


@pytest.fixture
def town(db):
    """Postcodes, the category taxonomy and a way to add offers north of the centre."""
    load_postcodes([{"postcode": "KB1 1AB", "latitude": "52.8", "longitude": "-2.1"}])
    db.session.add(Taxonomy(id=vocabulary.TAXONOMY_ID, name=vocabulary.TAXONOMY_NAME))
    for category in vocabulary.CATEGORIES:
        db.session.add(TaxonomyTerm(id=category.id, code=category.code, name=category.name,
                                    taxonomy_id=vocabulary.TAXONOMY_ID))
    org = DirectoryOrganisation(id="org-1", name="Kindlebury Community Trust")
    db.session.add(org)
    count = iter(range(1000))

    def offer(name, *, km_north=None, day="TU", opens=time(10), closes=time(12),
              categories=("physical-activity",), free=True, kind=OfferKind.GROUP,
              status=OfferStatus.ACTIVE, ages=(None, None), virtual=False, description=""):
        n = next(count)
        item = Offer(id=f"offer-{n}", name=name, organisation=org, kind=kind, status=status,
                     is_free=free, minimum_age=ages[0], maximum_age=ages[1],
                     description=description)
        if not free:
            item.cost_options.append(CostOption(id=f"cost-{n}", option="Session",
                                                amount=Decimal("2.00")))
        if km_north is not None or virtual:
            location = Location(
                id=f"loc-{n}", name=f"Venue {n}",
                location_type="virtual" if virtual else "physical",
                latitude=None if virtual else CENTRE[0] + km_north / 111.2,
                longitude=None if virtual else CENTRE[1])
            item.sites.append(ServiceAtLocation(id=f"sal-{n}", location=location))
        if day:
            item.schedules.append(Schedule(id=f"sch-{n}", byday=day, opens_at=opens,
                                           closes_at=closes))
        for code in categories:
            item.attributes.append(OfferAttribute(
                id=f"attr-{n}-{code}", taxonomy_term_id=vocabulary.CATEGORY_BY_CODE[code].id))
        db.session.add(item)
        db.session.flush()
        return item

    return offer


def names(results):
    return [hit.offer.name for hit in results.hits]


def test_distance_from_a_postcode_includes_near_and_excludes_far_nearest_first(town):
    town("Two km walk", km_north=2)
    town("Half km walk", km_north=0.5)
    town("Five km walk", km_north=5)

    results = search(DirectoryQuery(postcode="KB1 1AB", within_km=3))

    assert names(results) == ["Half km walk", "Two km walk"]
    assert results.hits[0].distance_km == pytest.approx(0.5, abs=0.01)
    assert results.place.postcode == "KB1 1AB"


def test_phone_and_online_offers_count_as_near_and_come_after_places(town):
    town("Telephone befriending", virtual=True, categories=("befriending",))
    town("Walk", km_north=1)

    assert names(search(DirectoryQuery(postcode="KB1 1AB", within_km=3))) == [
        "Walk", "Telephone befriending"]
    assert names(search(DirectoryQuery(postcode="KB1 1AB", within_km=3,
                                       include_virtual=False))) == ["Walk"]


def test_an_unknown_postcode_is_reported_not_guessed(town):
    town("Walk", km_north=1)

    results = search(DirectoryQuery(postcode="ZZ9 9ZZ", within_km=3))

    assert results.unknown_postcode and results.hits == [] and results.total == 0


def test_day_matches_any_schedule_running_that_day_including_monthly_ones(town):
    town("Tuesday walk", day="TU")
    town("Monday and Wednesday walk", day="MO,WE")
    town("First Tuesday lunch", day="1TU")

    assert sorted(names(search(DirectoryQuery(day="TU")))) == ["First Tuesday lunch",
                                                               "Tuesday walk"]
    assert names(search(DirectoryQuery(day="WE"))) == ["Monday and Wednesday walk"]


def test_times_must_overlap_the_window_asked_for(town):
    town("Morning walk", opens=time(9), closes=time(11))
    town("Evening walk", opens=time(18), closes=time(20))

    assert names(search(DirectoryQuery(start_time=time(17)))) == ["Evening walk"]
    assert names(search(DirectoryQuery(end_time=time(12)))) == ["Morning walk"]
    assert names(search(DirectoryQuery(day="TU", start_time=time(11)))) == ["Evening walk"]


def test_words_match_name_description_organisation_and_category(town):
    town("Choir", categories=("music-singing",), description="Sing together")
    town("Walk")

    assert names(search(DirectoryQuery(text="sing"))) == ["Choir"]
    assert names(search(DirectoryQuery(text="SING together"))) == ["Choir"]
    assert len(search(DirectoryQuery(text="community trust")).hits) == 2
    assert names(search(DirectoryQuery(text="walking"))) == ["Walk"]  # the category's name
    assert names(search(DirectoryQuery(text="100%_"))) == []  # wildcards are literal


def test_category_kind_free_and_status_filters(town):
    town("Walk")
    town("Lunch club", categories=("food-lunch-clubs",), free=False)
    town("Garden volunteer", kind=OfferKind.VOLUNTEERING, categories=("volunteering",))
    town("Closed walk", status=OfferStatus.INACTIVE)

    assert names(search(DirectoryQuery(categories=["food-lunch-clubs"]))) == ["Lunch club"]
    assert names(search(DirectoryQuery(
        categories=[vocabulary.CATEGORY_BY_CODE["food-lunch-clubs"].id]))) == ["Lunch club"]
    assert names(search(DirectoryQuery(kinds={OfferKind.VOLUNTEERING}))) == ["Garden volunteer"]
    assert "Lunch club" not in names(search(DirectoryQuery(free_only=True)))
    assert "Closed walk" not in names(search(DirectoryQuery()))
    assert "Closed walk" in names(search(DirectoryQuery(include_inactive=True)))


def test_capacity_filter_keeps_offers_with_that_capacity(town):
    town("Open walk")
    full = town("Full lunch", categories=("food-lunch-clubs",))
    full.capacity_status = CapacityStatus.FULL

    assert names(search(DirectoryQuery(capacities={CapacityStatus.FULL}))) == ["Full lunch"]
    assert names(search(DirectoryQuery(capacities={CapacityStatus.OPEN}))) == ["Open walk"]


def test_age_filters_keep_offers_whose_ages_overlap(town):
    town("Young carers", ages=(18, 25))
    town("Over 50s", ages=(50, None))
    town("Anyone")

    assert sorted(names(search(DirectoryQuery(minimum_age=60, maximum_age=70)))) == [
        "Anyone", "Over 50s"]
    assert sorted(names(search(DirectoryQuery(maximum_age=20)))) == ["Anyone", "Young carers"]


def test_pages_split_the_results_and_count_them_all(town):
    for n in range(7):
        town(f"Walk {n}", km_north=n * 0.1)

    by_name = search(DirectoryQuery(per_page=3, page=3))
    by_distance = search(DirectoryQuery(postcode="KB1 1AB", per_page=3, page=2))

    assert (by_name.total, by_name.pages, names(by_name)) == (7, 3, ["Walk 6"])
    assert names(by_distance) == ["Walk 3", "Walk 4", "Walk 5"]
