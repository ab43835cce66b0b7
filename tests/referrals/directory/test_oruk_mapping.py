"""The pure Open Referral mapping: ORUK -> field dicts -> models -> ORUK loses nothing."""
from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from referrals.directory import oruk
from referrals.directory import vocabulary as v
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
    TaxonomyTerm,
)
from tests.referrals.directory.conftest import (
    FOREIGN_TERM,
    _oruk_location,
    oruk_id,
    oruk_service,
)


def models_from(record: oruk.ServiceRecord) -> Offer:
    """Transient models built from a record, as the importer would store them."""
    fields = dict(record.offer)
    fields["kind"] = fields["kind"] or OfferKind.SERVICE
    fields["capacity_status"] = fields["capacity_status"] or CapacityStatus.OPEN
    offer = Offer(**fields)
    if record.organisation:
        offer.organisation = DirectoryOrganisation(**record.organisation)
    locations = {loc["id"]: Location(**loc) for loc in record.locations}
    for site in record.sites:
        offer.sites.append(ServiceAtLocation(**site, location=locations[site["location_id"]]))
    offer.schedules = [Schedule(**s) for s in record.schedules]
    offer.cost_options = [CostOption(**c) for c in record.cost_options]
    terms = {t["id"]: TaxonomyTerm(**t) for t in record.terms}
    offer.attributes = [OfferAttribute(**a, term=terms[a["taxonomy_term_id"]])
                        for a in record.attributes]
    return offer


def round_trip(service: dict) -> dict:
    return oruk.service(models_from(oruk.service_record(copy.deepcopy(service))))


def normalised(value):
    """Empty values dropped and lists of objects ordered by id: how ORUK compares."""
    if isinstance(value, dict):
        return {k: normalised(x) for k, x in value.items() if x not in (None, "", [], {})}
    if isinstance(value, list):
        items = [normalised(x) for x in value]
        if all(isinstance(x, dict) and "id" in x for x in items):
            items.sort(key=lambda x: x["id"])
        return items
    return value


@pytest.fixture
def walk():
    return oruk_service("Health Walk", categories=("physical-activity", "social-groups"),
                        sites=(_oruk_location("park", 1.0, access=("step-free", "parking")),),
                        day="TU", opens="10:00", closes="11:00", ages=(18, 99),
                        languages=("en", "pl"))


def test_kindly_fields_are_read_from_an_oruk_service(walk):
    record = oruk.service_record(walk)
    offer = record.offer

    assert offer["name"] == "Health Walk"
    assert offer["status"] is OfferStatus.ACTIVE
    assert offer["kind"] is OfferKind.GROUP
    assert offer["capacity_status"] is CapacityStatus.OPEN
    assert offer["fees_description"] == "Free"
    assert offer["is_free"] is True
    assert (offer["minimum_age"], offer["maximum_age"]) == (18, 99)
    assert offer["languages"] == ["en", "pl"]
    assert offer["contact_name"] == "Sam Organiser"
    assert offer["contact_phone"] == "01632 960000"
    assert offer["last_verified_on"] == date(2026, 10, 1)
    assert offer["verified_by_email"] == "coordinator@kindly.example"
    assert offer["updated_at"] == datetime(2026, 10, 1, 9, tzinfo=UTC)
    assert record.organisation["name"] == "Kindlebury Community Trust"
    assert record.locations[0]["accessibility"] == ["step-free", "parking"]
    assert record.locations[0]["postal_code"] == "KB1 1AB"
    assert record.schedules[0]["byday"] == "TU"
    assert record.schedules[0]["opens_at"] == time(10)
    assert record.cost_options[0]["amount"] == Decimal(0)
    # Kind and capacity are columns; only the categories become attribute rows.
    assert [a["taxonomy_term_id"] for a in record.attributes] == [
        v.CATEGORY_BY_CODE["physical-activity"].id, v.CATEGORY_BY_CODE["social-groups"].id]
    assert {t["id"]: t["code"] for t in record.terms}[
        v.CATEGORY_BY_CODE["physical-activity"].id] == "physical-activity"


def test_a_service_in_kindlys_own_shape_comes_back_unchanged(walk):
    assert round_trip(walk) == walk


def test_fields_kindly_does_not_model_are_kept_and_exported_at_every_level(walk):
    walk.update(alternate_name="The Tuesday walk", accreditations="Walking for Health",
                service_areas=[{"id": oruk_id("area"), "name": "Kindlebury",
                                "extent_type": "geojson"}],
                funding=[{"id": oruk_id("fund"), "source": "Lottery"}])
    walk["organization"]["tax_status"] = "charity"
    walk["organization"]["phones"] = [{"id": oruk_id("org-phone"), "number": "01632 960999",
                                       "type": "voice"}]
    site = walk["service_at_locations"][0]
    site["contacts"] = [{"id": oruk_id("site-contact"), "name": "Walk leader"}]
    site["location"]["transportation"] = "Bus 12 stops at the gate"
    site["location"]["addresses"][0]["region"] = "West Midlands"
    site["location"]["accessibility"][0]["url"] = "https://trust.kindlebury.example/access"
    walk["schedules"][0]["notes"] = "Not on bank holidays"
    walk["schedules"][0]["timezone"] = 0
    walk["cost_options"][0]["valid_from"] = "2026-01-01"
    walk["languages"][0]["note"] = "All walks in English"
    walk["contacts"][0]["title"] = "Walks coordinator"
    walk["attributes"][2]["value"] = "primary"
    walk["attributes"][2]["taxonomy_term"]["language"] = "en"

    assert round_trip(walk) == walk


def test_accessibility_codes_map_to_details_and_labels_and_unknown_ones_are_kept():
    location = _oruk_location("hall", 1.0, access=("hearing-loop",))
    location["accessibility"].append({"id": oruk_id("ramp"), "details": "portable-ramp",
                                      "description": "A portable ramp on request"})
    fields = oruk.location_fields(location, "location")

    assert fields["accessibility"] == ["hearing-loop"]
    exported = oruk.location(Location(**fields))
    assert exported["accessibility"] == location["accessibility"]
    # A feature added in Kindly gets the vocabulary's label and a stable id.
    fields["accessibility"] = ["hearing-loop", "bsl"]
    added = oruk.location(Location(**fields))["accessibility"][-1]
    assert added == {"id": oruk.generated_id(location["id"], "accessibility:bsl"),
                     "location_id": location["id"], "details": "bsl",
                     "description": "British Sign Language"}
    # ...and a feature removed in Kindly is no longer exported.
    fields["accessibility"] = []
    assert [a["details"] for a in oruk.location(Location(**fields))["accessibility"]] == [
        "portable-ramp"]


def test_languages_are_codes_in_kindly_and_keep_their_ids_on_export(walk):
    walk["languages"] = [
        {"id": oruk_id("l1"), "name": "Polish"},  # a name alone is enough
        {"id": oruk_id("l2"), "name": "Klingon"},  # unknown: kept, not a code
        {"id": oruk_id("l3"), "code": "CY", "name": "Welsh"},
    ]
    record = oruk.service_record(copy.deepcopy(walk))

    assert record.offer["languages"] == ["pl", "cy"]
    assert round_trip(walk)["languages"] == walk["languages"]


@pytest.mark.parametrize("costs, fees, free", [
    ([{"amount": 0}], "", True),
    ([{"option": "Free"}], "", True),
    ([{"amount_description": "Free for carers"}], "", True),
    ([{"amount": 0}, {"amount": 3}], "", False),
    ([{"option": "Donations welcome"}], "", False),
    ([], "Free", True),
    ([], "No charge", True),
    ([], "£2 a session", False),
    ([], "", False),
])
def test_an_offer_is_free_only_when_every_cost_option_costs_nothing(costs, fees, free):
    service = oruk_service("Cost test")
    service["fees"] = fees
    service["cost_options"] = [{"id": oruk_id(f"c{n}"), **c} for n, c in enumerate(costs)]

    assert oruk.service_record(service).offer["is_free"] is free


def test_fees_description_is_read_when_fees_is_absent_and_written_back_under_its_name(walk):
    del walk["fees"]
    walk["fees_description"] = "£1 for tea"
    record = oruk.service_record(copy.deepcopy(walk))
    offer = models_from(record)

    assert record.offer["fees_description"] == "£1 for tea"
    offer.fees_description = "£1.50 for tea"
    out = oruk.service(offer)
    assert (out["fees"], out["fees_description"]) == ("£1.50 for tea", "£1.50 for tea")


def test_values_written_differently_are_given_back_as_written(walk):
    walk["schedules"][0].update(opens_at="10:00:00+00:00", closes_at="11:30:00",
                                valid_from="2026-01-01T00:00:00Z")
    walk["last_modified"] = "2026-10-01T10:00:00+01:00"
    walk["cost_options"][0]["amount"] = 2.5
    record = oruk.service_record(copy.deepcopy(walk))

    assert record.schedules[0]["opens_at"] == time(10)
    assert record.offer["updated_at"] == datetime(2026, 10, 1, 9, tzinfo=UTC)
    assert round_trip(walk) == walk
    # Once Kindly's value changes, Kindly's own format is used.
    offer = models_from(record)
    offer.schedules[0].opens_at = time(9, 30)
    assert oruk.service(offer)["schedules"][0]["opens_at"] == "09:30"


def test_offer_kind_and_capacity_travel_as_attributes_to_kindlys_terms(walk):
    offer = models_from(oruk.service_record(walk))
    offer.kind, offer.capacity_status = OfferKind.VOLUNTEERING, CapacityStatus.FULL
    attributes = oruk.service(offer)["attributes"]

    kind, capacity = attributes[0], attributes[1]
    assert kind["id"] == walk["attributes"][0]["id"]  # the same attribute, a new term
    assert kind["taxonomy_term_id"] == v.KIND_TERMS["volunteering"].id
    assert kind["taxonomy_term"]["taxonomy_id"] == v.KIND_TAXONOMY_ID
    assert capacity["taxonomy_term_id"] == v.CAPACITY_TERMS["full"].id


def test_an_offer_made_in_kindly_exports_stable_ids_that_import_back_without_extras():
    offer = Offer(id=oruk_id("kindly-made"), name="Knit and natter", kind=OfferKind.GROUP,
                  status=OfferStatus.ACTIVE, capacity_status=CapacityStatus.OPEN,
                  contact_name="Ann", contact_phone="01632 960111", languages=["en"],
                  is_free=True, fees_description="", extra={})
    first, second = oruk.service(offer), oruk.service(offer)

    assert first == second
    assert first["cost_options"][0]["option"] == "Free"  # free with no cost options
    record = oruk.service_record(copy.deepcopy(first))
    assert record.offer["extra"] == {}
    assert (record.offer["contact_name"], record.offer["contact_phone"]) == (
        "Ann", "01632 960111")
    assert record.offer["is_free"] is True


def test_a_foreign_taxonomy_term_and_its_taxonomy_are_kept_whole(walk):
    walk["attributes"].append({"id": oruk_id("esd-attr"), "link_id": walk["id"],
                               "taxonomy_term_id": FOREIGN_TERM["id"],
                               "taxonomy_term": copy.deepcopy(FOREIGN_TERM)})
    record = oruk.service_record(copy.deepcopy(walk))

    term = next(t for t in record.terms if t["id"] == FOREIGN_TERM["id"])
    assert term["code"] == ""  # only Kindly's categories have a category code
    assert term["extra"]["code"] == "1234"
    taxonomy = next(t for t in record.taxonomies if t["id"] == FOREIGN_TERM["taxonomy_id"])
    assert taxonomy == {"id": FOREIGN_TERM["taxonomy_id"], "name": "esd services",
                        "description": "LGA services list",
                        "uri": "http://id.esd.org.uk/list/services", "version": "4.0",
                        "complete": True}
    assert round_trip(walk) == walk


def test_schedules_nested_under_a_service_at_location_go_back_there(walk):
    schedule = walk.pop("schedules")[0]
    site = walk["service_at_locations"][0]
    site["schedules"] = [schedule]
    record = oruk.service_record(copy.deepcopy(walk))

    assert record.schedules[0]["service_at_location_id"] == site["id"]
    out = round_trip(walk)
    assert out["schedules"] == []
    assert out["service_at_locations"][0]["schedules"] == [
        {**schedule, "service_at_location_id": site["id"]}]


@pytest.mark.parametrize("change, where", [
    (lambda s: s.pop("name"), "name"),
    (lambda s: s.update(status="open"), "status"),
    (lambda s: s["schedules"][0].update(opens_at="25:00"), "schedules[0].opens_at"),
    (lambda s: s["schedules"][0].update(dtstart="next week"), "schedules[0].dtstart"),
    (lambda s: s["cost_options"][0].update(amount="a few pounds"), "cost_options[0].amount"),
    (lambda s: s.update(minimum_age=-3), "minimum_age"),
    (lambda s: s.update(maximum_age="old"), "maximum_age"),
    (lambda s: s["service_at_locations"][0]["location"].update(latitude=123),
     "service_at_locations[0].location.latitude"),
    (lambda s: s["service_at_locations"][0]["location"].update(location_type="boat"),
     "service_at_locations[0].location.location_type"),
    (lambda s: s.update(schedules={"id": "x"}), "schedules"),
    (lambda s: s["attributes"][0].pop("taxonomy_term") and s["attributes"][0].pop(
        "taxonomy_term_id"), "attributes[0].taxonomy_term_id"),
    (lambda s: s["attributes"].append(copy.deepcopy(s["attributes"][0]) | {"id": "k2"}),
     "attributes[4].taxonomy_term_id"),
])
def test_a_value_kindly_cannot_take_is_refused_saying_where_it_is(walk, change, where):
    change(walk)

    with pytest.raises(oruk.MappingError) as caught:
        oruk.service_record(walk)

    assert caught.value.where == where


def test_a_page_a_service_or_a_list_of_services_is_accepted():
    service = oruk_service("One")

    assert oruk.services_in({"contents": [service]}) == [service]
    assert oruk.services_in(service) == [service]
    assert oruk.services_in([service]) == [service]
    with pytest.raises(oruk.MappingError):
        oruk.services_in({"hello": "world"})


def test_the_page_envelope_counts_pages_and_knows_the_first_and_last():
    assert oruk.page([1, 2], total=5, page_number=1, per_page=2) == {
        "total_items": 5, "total_pages": 3, "page_number": 1, "size": 2, "first_page": True,
        "last_page": False, "empty": False, "contents": [1, 2]}
    last = oruk.page([5], total=5, page_number=3, per_page=2)
    assert (last["last_page"], last["first_page"]) == (True, False)
    nothing = oruk.page([], total=0, page_number=1, per_page=50)
    assert (nothing["empty"], nothing["total_pages"], nothing["last_page"]) == (True, 0, True)
