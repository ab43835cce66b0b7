"""Directory fixtures shared by the directory's tests (append new fixtures at the end)."""
from __future__ import annotations

import itertools
from datetime import date, time
from decimal import Decimal

import pytest

from referrals.models import (
    CapacityStatus,
    CostOption,
    DirectoryOrganisation,
    Location,
    Offer,
    OfferKind,
    OfferStatus,
    Schedule,
    ServiceAtLocation,
)


class DirectoryBuilder:
    """`offers.organisation()` and `offers.offer(...)`: directory rows written straight to
    the database, the way an import leaves them (string ids, no service rules)."""

    def __init__(self, session):
        self.session = session
        self._seq = itertools.count(1)

    def organisation(self, name: str | None = None, **kwargs) -> DirectoryOrganisation:
        n = next(self._seq)
        organisation = DirectoryOrganisation(id=kwargs.pop("id", f"org-{n}"),
                                             name=name or f"Organisation {n}", **kwargs)
        self.session.add(organisation)
        self.session.flush()
        return organisation

    def offer(self, name: str | None = None, *, organisation=None, kind=OfferKind.GROUP,
              status=OfferStatus.ACTIVE, capacity=CapacityStatus.OPEN,
              verified_on: date | None = None, postcode: str | None = "KB1 1AB",
              day: str | None = "TU", opens=time(10), closes=time(12), free=True,
              **kwargs) -> Offer:
        n = next(self._seq)
        offer = Offer(id=kwargs.pop("id", f"offer-{n}"), name=name or f"Offer {n}",
                      organisation=organisation or self.organisation(), kind=kind,
                      status=status, capacity_status=capacity, last_verified_on=verified_on,
                      is_free=free, **kwargs)
        if postcode is not None:
            location = Location(id=f"loc-{n}", name=f"Hall {n}", address_1="1 High Street",
                                city="Kindlebury", postal_code=postcode)
            offer.sites.append(ServiceAtLocation(id=f"sal-{n}", location=location))
        if day is not None:
            offer.schedules.append(Schedule(id=f"sch-{n}", freq="WEEKLY", byday=day,
                                            opens_at=opens, closes_at=closes))
        offer.cost_options.append(
            CostOption(id=f"cost-{n}", option="Free", amount=Decimal(0)) if free
            else CostOption(id=f"cost-{n}", option="Per session", amount=Decimal("3.50"),
                            amount_description="Per session"))
        self.session.add(offer)
        self.session.flush()
        return offer


@pytest.fixture
def offers(db):
    return DirectoryBuilder(db.session)


# --- Open Referral: a small imported directory and the ORUK schema validator ----------

import copy as _copy  # noqa: E402
import json as _json  # noqa: E402
import os as _os  # noqa: E402
import uuid as _uuid  # noqa: E402
from pathlib import Path as _Path  # noqa: E402
from types import SimpleNamespace as _Namespace  # noqa: E402

ORUK_SCHEMA_DIR = _Path(__file__).resolve().parents[4] / "shared" / "reference" / "oruk-schema"
_IDS = _uuid.UUID("0b7a5c1e-7b0e-4a57-9a53-0c2d7f3e8a11")
# The small town's centre (KB1 1AB) and a few postcodes around it.
CENTRE_LAT, CENTRE_LON = 52.80, -2.10
POSTCODES = [
    {"postcode": "KB1 1AB", "latitude": "52.8", "longitude": "-2.1"},
    {"postcode": "KB4 4AA", "latitude": "52.9", "longitude": "-2.1"},  # 11 km north
    {"postcode": "KB1", "latitude": "52.801", "longitude": "-2.101"},  # district centroid
]


def oruk_id(name: str) -> str:
    """A fixed UUID for a readable name, so tests can name their objects."""
    return str(_uuid.uuid5(_IDS, name))


def _north_east(km_north: float, km_east: float = 0.0) -> tuple[float, float]:
    import math

    return (round(CENTRE_LAT + km_north / 111.2, 6),
            round(CENTRE_LON + km_east / (111.2 * math.cos(math.radians(CENTRE_LAT))), 6))


def _oruk_location(slug: str, km_north: float | None, km_east: float = 0.0, *,
                   postcode="KB1 1AB", access=("step-free",)) -> dict:
    from referrals.directory import vocabulary

    loc_id = oruk_id(f"location:{slug}")
    if km_north is None:
        return {"id": loc_id, "location_type": "virtual", "name": f"{slug} (by phone)"}
    lat, lon = _north_east(km_north, km_east)
    return {
        "id": loc_id, "location_type": "physical", "name": f"{slug} venue",
        "latitude": lat, "longitude": lon,
        "addresses": [{"id": oruk_id(f"address:{slug}"), "location_id": loc_id,
                       "address_1": "1 High Street", "city": "Kindlebury",
                       "state_province": "Staffordshire", "postal_code": postcode,
                       "country": "GB", "address_type": "physical"}],
        "accessibility": [{"id": oruk_id(f"access:{slug}:{code}"), "location_id": loc_id,
                           "details": code,
                           "description": vocabulary.ACCESSIBILITY_BY_CODE[code].label}
                          for code in access],
    }


def _oruk_attribute(service_id: str, term: dict) -> dict:
    return {"id": oruk_id(f"attribute:{service_id}:{term['id']}"), "link_id": service_id,
            "link_type": "service", "link_entity": "service", "taxonomy_term_id": term["id"],
            "taxonomy_term": term}


def oruk_service(slug: str, *, kind="group", capacity="open", categories=(), extra_terms=(),
                 status="active", sites=(), day=None, opens=None, closes=None, cost=0,
                 ages=(None, None), description="", languages=("en",)) -> dict:
    """One fully nested ORUK service in the shape Kindly's export writes."""
    from referrals.directory import oruk, vocabulary

    service_id = oruk_id(f"service:{slug}")
    org_id = oruk_id("organisation:trust")
    service = {
        "id": service_id, "organization_id": org_id, "name": slug,
        "description": description or f"All about {slug}.", "status": status,
        "fees": "Free" if cost == 0 else f"£{cost} per session",
        "assured_date": "2026-10-01", "assurer_email": "coordinator@kindly.example",
        "last_modified": "2026-10-01T09:00:00Z",
        "organization": {"id": org_id, "name": "Kindlebury Community Trust",
                         "description": "Runs the community centre.",
                         "website": "https://trust.kindlebury.example/"},
        "service_at_locations": [
            {"id": oruk_id(f"site:{slug}:{n}"), "service_id": service_id,
             "location_id": loc["id"], "location": loc} for n, loc in enumerate(sites)],
        "schedules": [] if day is None else [
            {"id": oruk_id(f"schedule:{slug}"), "service_id": service_id, "freq": "WEEKLY",
             "interval": 1, "byday": day, "opens_at": opens, "closes_at": closes}],
        "cost_options": [{"id": oruk_id(f"cost:{slug}"), "service_id": service_id,
                          "option": "Free" if cost == 0 else "Per session", "amount": cost}],
        "languages": [{"id": oruk_id(f"language:{slug}:{code}"), "service_id": service_id,
                       "name": vocabulary.LANGUAGES[code], "code": code} for code in languages],
        "contacts": [{"id": oruk_id(f"contact:{slug}"), "service_id": service_id,
                      "name": "Sam Organiser",
                      "phones": [{"id": oruk_id(f"phone:{slug}"), "number": "01632 960000"}]}],
        "attributes": [
            _oruk_attribute(service_id, oruk.vocabulary_term(vocabulary.KIND_TERMS[kind])),
            _oruk_attribute(service_id,
                            oruk.vocabulary_term(vocabulary.CAPACITY_TERMS[capacity])),
            *(_oruk_attribute(service_id,
                              oruk.category_term(vocabulary.CATEGORY_BY_CODE[code]))
              for code in categories),
            *(_oruk_attribute(service_id, term) for term in extra_terms),
        ],
    }
    if ages[0] is not None:
        service["minimum_age"] = ages[0]
    if ages[1] is not None:
        service["maximum_age"] = ages[1]
    return service


FOREIGN_TAXONOMY_ID = oruk_id("taxonomy:esd")
FOREIGN_TERM = {"id": oruk_id("term:esd:community-gardens"), "name": "Community gardens",
                "description": "Gardens run by and for the community.",
                "taxonomy_id": FOREIGN_TAXONOMY_ID, "code": "1234",
                "taxonomy_detail": {"id": FOREIGN_TAXONOMY_ID, "name": "esd services",
                                    "description": "LGA services list",
                                    "uri": "http://id.esd.org.uk/list/services",
                                    "version": "4.0"}}


def small_directory_page() -> dict:
    """Six services around KB1 1AB with known distances, days, ages and costs."""
    park = _oruk_location("park", 1.0, access=("step-free", "parking"))
    services = [
        oruk_service("Tuesday Health Walk", categories=("physical-activity",), sites=(park,),
                     day="TU", opens="10:00", closes="11:00", ages=(18, None)),
        oruk_service("Wednesday Lunch Club", categories=("food-lunch-clubs",),
                     sites=(_oruk_location("hall", 0, 2.5, access=("accessible-toilet",)),),
                     day="WE", opens="12:00", closes="14:00", cost=3, ages=(60, None)),
        oruk_service("Phone Befriending", kind="service", categories=("befriending",),
                     sites=(_oruk_location("phone", None),), ages=(18, None)),
        oruk_service("Garden Volunteers", kind="volunteering", capacity="waiting-list",
                     categories=("gardening-nature", "volunteering"),
                     extra_terms=(FOREIGN_TERM,),
                     sites=(_oruk_location("allotments", 8.0, postcode="KB4 4AA"),),
                     day="SA", opens="10:00", closes="13:00", ages=(16, None),
                     languages=("en", "pl")),
        oruk_service("Closed Choir", status="inactive", categories=("music-singing",),
                     sites=(park,), day="TH", opens="19:00", closes="21:00"),
        oruk_service("Evening Men's Shed", categories=("mens-sheds",),
                     sites=(park, _oruk_location("shed", 5.0)), day="FR", opens="18:00",
                     closes="21:00", cost=2, ages=(18, 99)),
    ]
    return {"total_items": len(services), "total_pages": 1, "page_number": 1,
            "size": len(services), "first_page": True, "last_page": True, "empty": False,
            "contents": services}


@pytest.fixture
def directory(db):
    """A small directory loaded through the Open Referral importer, with postcodes.

    `directory.ids[name]` is a service's id, `directory.page` the ORUK page imported."""
    from referrals.directory.importing import import_pages
    from referrals.geo import load_postcodes

    load_postcodes(POSTCODES)
    page = small_directory_page()
    report = import_pages([_copy.deepcopy(page)])
    assert not report.errors, report.errors
    db.session.flush()
    return _Namespace(page=page, report=report,
                      ids={s["name"]: s["id"] for s in page["contents"]})


def _oruk_schemas() -> dict:
    from jsonschema import Draft202012Validator

    if not ORUK_SCHEMA_DIR.is_dir():
        # .ci/run sets this, so CI fails rather than skips; a bare clone elsewhere skips.
        if _os.environ.get("KINDLY_REQUIRE_ORUK_SCHEMAS"):
            pytest.fail(f"the ORUK schemas are missing: {ORUK_SCHEMA_DIR}")
        pytest.skip(f"the ORUK schemas are not beside the project ({ORUK_SCHEMA_DIR})")
    load = lambda name: _json.loads((ORUK_SCHEMA_DIR / name).read_text())  # noqa: E731
    openapi = load("openapi.json")
    schemas = {name: load(f"{name}.json") for name in (
        "service", "service_list", "service_at_location", "service_at_location_list")}
    page = _copy.deepcopy(openapi["components"]["schemas"]["Page"])
    page["properties"]["contents"] = {"type": "array"}
    page["required"] = [*page["properties"]]
    schemas["page"] = page
    info = _copy.deepcopy(
        openapi["paths"]["/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
    info["required"] = ["version", "profile", "openapi_url"]
    schemas["api_info"] = info
    # No compiled taxonomy schemas are published: the term is the one compiled into
    # service.json's attributes; the taxonomy follows HSDS 3.0's required fields.
    schemas["taxonomy_term"] = schemas["service"]["properties"]["attributes"]["items"][
        "properties"]["taxonomy_term"]
    schemas["taxonomy"] = {
        "type": "object", "required": ["id", "name", "description"],
        "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
                       "description": {"type": "string"},
                       "uri": {"type": "string", "format": "uri"},
                       "version": {"type": "string"}}}
    return {name: Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
            for name, schema in schemas.items()}


@pytest.fixture(scope="session")
def oruk_validators():
    return _oruk_schemas()


@pytest.fixture
def validate_oruk(oruk_validators):
    """`validate_oruk("service_list", payload)`: a page envelope is checked as a Page and
    each of its contents against the named schema; anything else against the schema."""

    def validate(name: str, payload) -> None:
        if name != "page" and isinstance(payload, dict) and "contents" in payload:
            validate("page", payload)
            for item in payload["contents"]:
                validate(name, item)
            return
        errors = sorted(oruk_validators[name].iter_errors(payload), key=lambda e: e.path)
        assert not errors, f"{name}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])

    return validate
