"""/fhir/HealthcareService and /fhir/Location: the directory, readable by any API client."""
from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from sqlalchemy import select

from referrals.models import AuditEvent, OfferKind, OfferStatus
from tests.fhir_adapters import offers

BASE = "http://localhost/fhir"
CATEGORY = "https://kindly.example/fhir/CodeSystem/offer-category"
KIND = "https://kindly.example/fhir/CodeSystem/offer-kind"


def ids(bundle: dict, mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def at(day: int) -> datetime:
    return datetime(2024, 3, day, 12, 0, tzinfo=UTC)


@pytest.fixture
def town(db):
    """walk: active walking group (1 March); choir: active group, music (10 March);
    advice: inactive service, money (20 March); volunteer: volunteering (20 March)."""
    session = db.session
    made = {
        "walk": offers.offer(session, name="Riverside Walk", categories=("physical-activity",)),
        "choir": offers.offer(session, name="Kindleton Community Choir",
                              categories=("music-singing", "social-groups")),
        "advice": offers.offer(session, name="Money Advice 100%", kind=OfferKind.SERVICE,
                               status=OfferStatus.INACTIVE, categories=("money-debt",)),
        "volunteer": offers.offer(session, name="Walk leader", kind=OfferKind.VOLUNTEERING,
                                  categories=("volunteering",)),
    }
    for key, day in (("walk", 1), ("choir", 10), ("advice", 20), ("volunteer", 20)):
        made[key].updated_at = at(day)
    db.session.commit()
    return {key: offer.id for key, offer in made.items()}


def test_any_api_client_reads_an_offer_whatever_its_practices(api, other_api, town):
    for caller in (api, other_api):
        response = caller.get(f"HealthcareService/{town['walk']}")
        assert response.status_code == 200
        assert response.json["name"] == "Riverside Walk"


def test_the_directory_needs_a_token(api, town):
    assert api.get(f"HealthcareService/{town['walk']}", token=None).status_code == 401
    assert api.get("HealthcareService", token=None).status_code == 401


def test_reading_the_directory_is_not_audited_as_nobodys_record_is_read(api, db, town):
    before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    api.get(f"HealthcareService/{town['walk']}")
    api.get("HealthcareService")
    after = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    assert after == before


@pytest.mark.parametrize("service_id", [
    "7d3c1c1e-0000-4000-8000-000000000000", "424242", "a" * 65, "not%20an%20id", "%C2%B2",
    "x%2Fy",
])
def test_an_unknown_offer_is_a_404_operation_outcome(api, town, service_id):
    response = api.get(f"HealthcareService/{service_id}")
    assert response.status_code == 404
    assert response.json["issue"][0]["code"] == "not-found"


def test_every_location_an_offer_names_can_be_read(api, town):
    service = api.get(f"HealthcareService/{town['walk']}").json
    (location,) = service["location"]
    response = api.get(location["reference"])
    assert response.status_code == 200
    assert response.json["name"] == location["display"]


@pytest.mark.parametrize("location_id", ["424242", "a" * 65, "%C2%B2"])
def test_an_unknown_location_is_a_404(api, town, location_id):
    assert api.get(f"Location/{location_id}").json["issue"][0]["code"] == "not-found"


# Every HealthcareService search parameter the CapabilityStatement declares, with a value
# and the offers (of the town above) it must find.
SEARCHES = {
    "_id": ("{walk},{choir}", {"walk", "choir"}),
    "name": ("riverside", {"walk"}),
    "active": ("false", {"advice"}),
    "service-category": (f"{CATEGORY}|social-groups", {"choir"}),
    "service-type": (f"{KIND}|volunteering", {"volunteer"}),
    "_lastUpdated": ("ge2024-03-10", {"choir", "advice", "volunteer"}),
}


@pytest.mark.parametrize("name", SEARCHES)
def test_each_declared_search_parameter_finds_exactly_its_offers(api, town, name):
    value, expected = SEARCHES[name]
    response = api.get(f"HealthcareService?{name}={quote(value.format(**town))}")
    assert response.status_code == 200
    assert set(ids(response.json)) == {town[k] for k in expected}
    assert response.json["total"] == len(expected)


@pytest.mark.parametrize("query, expected", [
    ("", {"walk", "choir", "advice", "volunteer"}),
    ("name=WALK", {"volunteer"}),
    ("name=community", set()),
    ("name:contains=community", {"choir"}),
    ("name:exact=Riverside Walk", {"walk"}),
    ("name:exact=riverside walk", set()),
    ("name=100%25", set()),
    ("name:contains=100%25", {"advice"}),
    ("name:contains=_", set()),
    ("name=riverside,kindleton", {"walk", "choir"}),
    ("active=true", {"walk", "choir", "volunteer"}),
    ("active=true,false", {"walk", "choir", "advice", "volunteer"}),
    ("service-category=music-singing,money-debt", {"choir", "advice"}),
    ("service-category=http://other.example|music-singing", set()),
    ("service-category=no-such-category", set()),
    ("service-type=group", {"walk", "choir"}),
    ("service-type=banana", set()),
    ("active=true&service-type=group&name=kindleton", {"choir"}),
])
def test_healthcare_service_searches_take_fhir_value_forms(api, town, query, expected):
    response = api.get(f"HealthcareService?{query}")
    assert response.status_code == 200
    assert set(ids(response.json)) == {town[k] for k in expected}


@pytest.mark.parametrize("query", ["active=yes", "_lastUpdated=soon", "_count=many",
                                   "_count=-1", "_after=not%20a%20cursor",
                                   "_include=HealthcareService:organization",
                                   "_include=Task:focus"])
def test_a_bad_search_parameter_is_a_400(api, town, query):
    response = api.get(f"HealthcareService?{query}")
    assert response.status_code == 400
    assert response.json["resourceType"] == "OperationOutcome"


def test_an_unsupported_parameter_is_reported_and_ignored(api, town):
    body = api.get("HealthcareService?location=Location/1").json
    assert body["total"] == 4
    (outcome,) = [e["resource"] for e in body["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome["issue"][0]["code"] == "not-supported"


def test_results_page_with_a_next_link_that_walks_them_all(api, town):
    seen, url = [], "HealthcareService?_count=3"
    while url:
        body = api.get(url).json
        assert body["total"] == 4
        seen += ids(body)
        links = {link["relation"]: link["url"] for link in body["link"]}
        url = links.get("next", "").removeprefix(BASE + "/") or None
    assert sorted(seen) == sorted(town.values())


def test_count_zero_gives_only_the_total(api, town):
    body = api.get("HealthcareService?_count=0").json
    assert (body["total"], body.get("entry")) == (4, None)


def test_include_location_adds_each_venue_once(api, db, town):
    shared = offers.Location(id=offers.new_id(), name="Town Hall", postal_code="KB1 2CC")
    first = offers.offer(db.session, name="Tea dance", location=shared)
    second = offers.offer(db.session, name="Tai chi", location=shared)
    db.session.commit()
    body = api.get(f"HealthcareService?_id={first.id},{second.id}"
                   "&_include=HealthcareService:location").json
    assert ids(body, "include") == [shared.id]
    (include,) = [e for e in body["entry"] if e["search"]["mode"] == "include"]
    assert include["fullUrl"] == f"{BASE}/Location/{shared.id}"


def test_metadata_declares_exactly_the_tested_parameters_and_the_include(api):
    statement = api.get("metadata", token=None).json
    (entry,) = [r for r in statement["rest"][0]["resource"] if r["type"] == "HealthcareService"]
    assert {p["name"] for p in entry["searchParam"]} == set(SEARCHES)
    assert entry["searchInclude"] == ["HealthcareService:location"]
    assert entry["versioning"] == "no-version"


@pytest.mark.parametrize("query", [
    "_count=1e3", "_count=99999999999999999999999", "_include=", "_include=*", "name=",
    "name=%00", "name:exact=%00", "name:contains=%F0%9F%92%A9", "_id=%00", "_id=a%2Fb",
    "service-category=|", "service-category=%7C%7C%7C", "service-type=%00", "active=",
    "_lastUpdated=gt2024-01-01T25:00:00Z", "_lastUpdated=ge0001-01-01T00:00:00%2B14:00",
    "_after=%00", "_after=" + "a" * 65, "_sort=-name", "%FF=1", "name:missing=true",
])
def test_odd_search_parameters_never_produce_a_500(api, town, query):
    response = api.get(f"HealthcareService?{query}")
    assert response.status_code in (200, 400)
    assert response.json["resourceType"] in ("Bundle", "OperationOutcome")
