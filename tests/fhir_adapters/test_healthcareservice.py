"""HealthcareService and Location mappers: an offer of the directory as FHIR."""
from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location as FhirLocation

from fhir_adapters import healthcareservice as hs_map
from fhir_adapters import location as location_map
from referrals.models import (
    CapacityStatus,
    Location,
    OfferKind,
    OfferStatus,
    TaxonomyTerm,
)
from tests.fhir_adapters import offers, validators

CAPACITY_EXT = "https://kindly.example/fhir/StructureDefinition/capacity-status"
CATEGORY = "https://kindly.example/fhir/CodeSystem/offer-category"
KIND = "https://kindly.example/fhir/CodeSystem/offer-kind"
ORG_ID = "https://kindly.example/fhir/Id/directory-organisation"


def valid(resource: dict) -> dict:
    """The resource, once the R4B model and Medplum have both accepted it."""
    {"HealthcareService": HealthcareService, "Location": FhirLocation}[
        resource["resourceType"]].model_validate(resource)
    validators.validate_independently(resource)
    return resource


@pytest.fixture
def walk(db):
    return offers.offer(db.session, name="Riverside walk", categories=("physical-activity",
                                                                       "social-groups"))


def test_an_offer_is_a_healthcare_service_with_its_name_id_and_description(walk):
    resource = valid(hs_map.to_fhir(walk))
    assert (resource["id"], resource["name"], resource["active"]) == (
        walk.id, "Riverside walk", True)
    assert resource["comment"] == walk.description


def test_last_updated_is_the_offers_and_there_is_no_version(db, walk):
    walk.updated_at = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    assert hs_map.to_fhir(walk)["meta"] == {"lastUpdated": "2024-05-01T09:30:00Z"}


@pytest.mark.parametrize("status, active", [
    (OfferStatus.ACTIVE, True), (OfferStatus.INACTIVE, False), (OfferStatus.DEFUNCT, False),
    (OfferStatus.TEMPORARILY_CLOSED, False),
])
def test_only_an_active_offer_is_active(walk, status, active):
    walk.status = status
    assert valid(hs_map.to_fhir(walk))["active"] is active


def test_the_provider_is_named_and_identified_but_not_a_reference(walk):
    provided_by = hs_map.to_fhir(walk)["providedBy"]
    assert provided_by == {"identifier": {"system": ORG_ID, "value": walk.organisation.id},
                           "display": "Kindly Walkers"}


def test_an_offer_without_an_organisation_has_no_provider(db):
    offer = offers.offer(db.session)
    offer.organisation = None
    assert "providedBy" not in valid(hs_map.to_fhir(offer))


def test_categories_come_from_kindlys_code_system_and_the_kind_is_the_type(walk):
    resource = hs_map.to_fhir(walk)
    assert [c["coding"][0]["code"] for c in resource["category"]] == [
        "physical-activity", "social-groups"]
    assert {c["coding"][0]["system"] for c in resource["category"]} == {CATEGORY}
    assert resource["category"][0]["coding"][0]["display"] == "Walking and physical activity"
    assert resource["type"] == [{"coding": [{"system": KIND, "code": "group",
                                             "display": "Group or activity"}],
                                 "text": "Group or activity"}]


def test_terms_of_other_taxonomies_are_categories_in_words(db, walk):
    term = TaxonomyTerm(id=offers.new_id(), name="Outdoor activities")
    db.session.add(term)
    walk.attributes.append(offers.OfferAttribute(id=offers.new_id(), term=term))
    db.session.flush()
    assert valid(hs_map.to_fhir(walk))["category"][-1] == {"text": "Outdoor activities"}


def test_kindlys_kind_and_capacity_terms_are_not_categories(db, walk):
    from referrals.directory import vocabulary
    for taxonomy_id in (vocabulary.KIND_TAXONOMY_ID, vocabulary.CAPACITY_TAXONOMY_ID):
        db.session.add(offers.Taxonomy(id=taxonomy_id, name=taxonomy_id))
        term = TaxonomyTerm(id=offers.new_id(), taxonomy_id=taxonomy_id, code="group",
                            name="Group or activity")
        walk.attributes.append(offers.OfferAttribute(id=offers.new_id(), term=term))
    db.session.flush()
    assert len(hs_map.to_fhir(walk)["category"]) == 2


@pytest.mark.parametrize("kind", list(OfferKind))
def test_every_kind_is_a_type(db, kind):
    resource = valid(hs_map.to_fhir(offers.offer(db.session, kind=kind)))
    assert resource["type"][0]["coding"][0]["code"] == kind.value


def test_phone_email_and_website_are_telecoms(walk):
    assert hs_map.to_fhir(walk)["telecom"] == [
        {"system": "phone", "value": "01632 960001", "use": "work"},
        {"system": "email", "value": "walks@example.org", "use": "work"},
        {"system": "url", "value": "https://walks.example.org", "use": "work"},
    ]


def test_an_offer_with_no_contact_details_has_no_telecom(db):
    offer = offers.offer(db.session, contact_phone="", email="", url="")
    assert "telecom" not in valid(hs_map.to_fhir(offer))


def test_each_venue_is_a_location_reference(walk):
    (location,) = walk.locations
    assert hs_map.to_fhir(walk)["location"] == [
        {"reference": f"Location/{location.id}", "display": "Riverside Park Café"}]


def test_weekly_schedules_are_available_times(db):
    offer = offers.offer(db.session, schedules=(("TU", time(10), time(12, 30)),
                                                ("MO,WE,FR", time(18), None),
                                                ("SA", None, None)))
    assert valid(hs_map.to_fhir(offer))["availableTime"] == [
        {"daysOfWeek": ["tue"], "availableStartTime": "10:00:00",
         "availableEndTime": "12:30:00"},
        {"daysOfWeek": ["mon", "wed", "fri"], "availableStartTime": "18:00:00"},
        {"daysOfWeek": ["sat"]},
    ]


def test_monthly_and_fortnightly_schedules_are_described_in_words_not_forced_weekly(db):
    offer = offers.offer(db.session, schedules=(("1TH", time(14), time(16)),))
    offer.schedules.append(offers.Schedule(id=offers.new_id(), freq="WEEKLY", interval=2,
                                           byday="WE", opens_at=time(10), closes_at=time(11)))
    db.session.flush()
    resource = valid(hs_map.to_fhir(offer))
    assert "availableTime" not in resource
    assert resource["availabilityExceptions"] == (
        "First Thursday of the month, 14:00 to 16:00; Every other Wednesday, 10:00 to 11:00")


def test_an_offer_with_no_schedule_has_no_times(db):
    resource = valid(hs_map.to_fhir(offers.offer(db.session, schedules=())))
    assert "availableTime" not in resource and "availabilityExceptions" not in resource


@pytest.mark.parametrize("low, high, description, expected", [
    (18, None, "", "Ages 18 and over."),
    (None, 25, "Young carers.", "Ages up to 25. Young carers."),
    (50, 90, "", "Ages 50 to 90."),
    (None, None, "Carers of someone with dementia.", "Carers of someone with dementia."),
])
def test_eligibility_is_the_ages_and_description_in_words(db, low, high, description, expected):
    offer = offers.offer(db.session, minimum_age=low, maximum_age=high,
                         eligibility_description=description)
    assert valid(hs_map.to_fhir(offer))["eligibility"] == [{"comment": expected}]


def test_an_offer_open_to_everyone_has_no_eligibility(walk):
    assert "eligibility" not in hs_map.to_fhir(walk)


def test_languages_are_bcp_47_codes_and_none_means_english(db):
    offer = offers.offer(db.session, languages=["pl", "bfi"])
    assert valid(hs_map.to_fhir(offer))["communication"] == [
        {"coding": [{"system": "urn:ietf:bcp:47", "code": "pl", "display": "Polish"}]},
        {"coding": [{"system": "urn:ietf:bcp:47", "code": "bfi",
                     "display": "British Sign Language"}]},
    ]
    offer.languages = []
    assert hs_map.to_fhir(offer)["communication"][0]["coding"][0]["code"] == "en"


@pytest.mark.parametrize("capacity", list(CapacityStatus))
def test_capacity_is_a_kindly_extension_with_the_offers_code(db, capacity):
    offer = offers.offer(db.session, capacity_status=capacity)
    assert valid(hs_map.to_fhir(offer))["extension"] == [
        {"url": CAPACITY_EXT, "valueCode": capacity.value}]


def test_cost_access_and_contact_name_are_extra_details(db):
    offer = offers.offer(db.session, is_free=False, contact_name="Sam")
    assert valid(hs_map.to_fhir(offer))["extraDetails"] == (
        "Cost: £3: per session\n\nAccess: Step-free access, Seating available throughout"
        "\n\nContact: Sam")


def test_a_free_offer_says_so(walk):
    assert hs_map.to_fhir(walk)["extraDetails"].startswith("Cost: Free")


# --- Location -----------------------------------------------------------------------------


def test_a_venue_is_a_location_with_its_address_and_position(walk):
    (venue,) = walk.locations
    resource = valid(location_map.to_fhir(venue))
    assert resource == {
        "resourceType": "Location", "id": venue.id, "status": "active", "mode": "instance",
        "name": "Riverside Park Café",
        "address": {"use": "work", "line": ["1 Park Road"], "city": "Kindleton",
                    "postalCode": "KB1 1AA", "country": "GB"},
        "position": {"longitude": -1.2, "latitude": 52.1},
    }


def test_a_virtual_venue_has_no_address_or_position(db):
    venue = Location(id=offers.new_id(), location_type="virtual", name="Online",
                     description="A video call", country="GB")
    db.session.add(venue)
    db.session.flush()
    resource = valid(location_map.to_fhir(venue))
    assert "address" not in resource and "position" not in resource
    assert resource["description"] == "A video call"


def test_a_venue_with_only_a_postcode_and_no_coordinates(db):
    venue = Location(id=offers.new_id(), postal_code="KB2 2BB", country="")
    db.session.add(venue)
    db.session.flush()
    resource = valid(location_map.to_fhir(venue))
    assert resource["address"] == {"postalCode": "KB2 2BB", "use": "work"}
    assert "position" not in resource and "name" not in resource
