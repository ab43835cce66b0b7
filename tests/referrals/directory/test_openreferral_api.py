"""The Open Referral UK 3.0 API: every answer passes the published ORUK schemas, the
filters include what they should and exclude the rest, errors are JSON (never a 500),
and CORS is open on everything."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from referrals.directory import vocabulary as v
from referrals.directory.importing import import_pages
from referrals.extensions import db as _db
from tests.referrals.directory.conftest import (
    FOREIGN_TAXONOMY_ID,
    FOREIGN_TERM,
    _oruk_location,
    oruk_id,
    oruk_service,
)

ACTIVE = {"Tuesday Health Walk", "Wednesday Lunch Club", "Phone Befriending",
          "Garden Volunteers", "Evening Men's Shed"}


@pytest.fixture
def api(client, directory):
    """GET under /openreferral; every answer must be JSON with CORS open."""

    def get(path: str, expect: int = 200, **params):
        response = client.get(f"/openreferral{path}", query_string=params)
        assert response.status_code == expect, response.get_data(as_text=True)
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.mimetype == "application/json"
        return response.json

    return get


def names(page: dict) -> list[str]:
    return [item["name"] for item in page["contents"]]


def site_names(page: dict) -> list[str]:
    return [item["service"]["name"] for item in page["contents"]]


# --- what the API is ------------------------------------------------------------------


def test_the_api_says_it_is_open_referral_uk_3(api, validate_oruk):
    info = api("/")

    validate_oruk("api_info", info)
    assert info["version"] == "3.0"
    assert info["openapi_url"].endswith("openapi.json")


# --- services -------------------------------------------------------------------------


def test_services_lists_active_services_only_as_a_valid_page(api, validate_oruk):
    page = api("/services")

    validate_oruk("service_list", page)
    assert set(names(page)) == ACTIVE
    assert (page["total_items"], page["page_number"], page["size"]) == (5, 1, 5)
    assert (page["first_page"], page["last_page"], page["empty"]) == (True, True, False)
    first = page["contents"][0]
    assert "organization" in first and "schedules" not in first  # one-to-one fields


def test_services_with_full_gives_fully_nested_services(api, validate_oruk):
    page = api("/services", full="true", per_page=2)

    validate_oruk("service", page)
    assert all("service_at_locations" in item for item in page["contents"])


def test_each_service_is_served_fully_nested_whatever_its_status(api, directory,
                                                                 validate_oruk):
    for name, service_id in directory.ids.items():
        service = api(f"/services/{service_id}")

        validate_oruk("service", service)
        assert service["name"] == name
    choir = api(f"/services/{directory.ids['Closed Choir']}")
    assert choir["status"] == "inactive"
    garden = api(f"/services/{directory.ids['Garden Volunteers']}")
    location = garden["service_at_locations"][0]["location"]
    assert location["addresses"][0]["postal_code"] == "KB4 4AA"
    assert {a["taxonomy_term_id"] for a in garden["attributes"]} >= {
        v.KIND_TERMS["volunteering"].id, v.CAPACITY_TERMS["waiting-list"].id,
        FOREIGN_TERM["id"]}


CATEGORY = {code: v.CATEGORY_BY_CODE[code].id for code in (
    "physical-activity", "food-lunch-clubs", "music-singing")}


@pytest.mark.parametrize("params, expected", [
    ({"text": "lunch"}, {"Wednesday Lunch Club"}),
    ({"search": "walk"}, {"Tuesday Health Walk"}),
    ({"text": "community gardens"}, {"Garden Volunteers"}),  # a foreign term's name
    ({"text": "nothing-like-this"}, set()),
    ({"taxonomy_term_id": CATEGORY["physical-activity"]}, {"Tuesday Health Walk"}),
    ({"taxonomy_term_id": f"{CATEGORY['physical-activity']},{CATEGORY['food-lunch-clubs']}"},
     {"Tuesday Health Walk", "Wednesday Lunch Club"}),
    ({"taxonomy_term_id": CATEGORY["music-singing"]}, set()),  # only the inactive choir
    ({"taxonomy_term_id": v.KIND_TERMS["volunteering"].id}, {"Garden Volunteers"}),
    ({"taxonomy_term_id": v.KIND_TERMS["service"].id}, {"Phone Befriending"}),
    ({"taxonomy_term_id": v.CAPACITY_TERMS["waiting-list"].id}, {"Garden Volunteers"}),
    ({"taxonomy_term_id": v.CAPACITY_TERMS["full"].id}, set()),
    ({"taxonomy_term_id": FOREIGN_TERM["id"]}, {"Garden Volunteers"}),
    ({"taxonomy_id": FOREIGN_TAXONOMY_ID}, {"Garden Volunteers"}),
    ({"taxonomy_id": v.TAXONOMY_ID}, ACTIVE),
    ({"taxonomy_id": v.KIND_TAXONOMY_ID}, ACTIVE),
    ({"maximum_age": 17}, {"Garden Volunteers"}),
    ({"minimum_age": 100}, ACTIVE - {"Evening Men's Shed"}),
    ({"minimum_age": 10, "maximum_age": 15}, set()),
    ({"day": "TU"}, {"Tuesday Health Walk"}),
    ({"day": "tuesday"}, {"Tuesday Health Walk"}),
    ({"day": "Fri"}, {"Evening Men's Shed"}),
    ({"day": "SU"}, set()),
    ({"start_time": "17:00"}, {"Evening Men's Shed"}),
    ({"end_time": "11:00"}, {"Tuesday Health Walk", "Garden Volunteers"}),
    ({"start_time": "10:30", "end_time": "12:30"},
     {"Tuesday Health Walk", "Wednesday Lunch Club", "Garden Volunteers"}),
    ({"postcode": "KB1 1AB", "proximity": "1500"},
     {"Tuesday Health Walk", "Evening Men's Shed"}),
    ({"postcode": "kb11ab", "proximity": "3000"},
     {"Tuesday Health Walk", "Evening Men's Shed", "Wednesday Lunch Club"}),
    ({"postcode": "KB1 1AB", "proximity": "500"}, set()),
    ({"postcode": "KB4 4AA", "proximity": "4000"}, {"Garden Volunteers"}),
    ({"postcode": "KB1 1AB", "proximity": "3000", "day": "WE"}, {"Wednesday Lunch Club"}),
    ({"day": "SA", "taxonomy_term_id": v.KIND_TERMS["volunteering"].id},
     {"Garden Volunteers"}),
    ({"organization_id": oruk_id("organisation:trust")}, ACTIVE),
    ({"organization_id": oruk_id("organisation:nobody")}, set()),
])
def test_services_filters_include_what_matches_and_exclude_the_rest(api, validate_oruk,
                                                                    params, expected):
    page = api("/services", **params)

    validate_oruk("service_list", page)
    assert set(names(page)) == expected
    assert page["total_items"] == len(expected)
    assert page["empty"] is (not expected)


def test_a_postcode_orders_services_nearest_first(api):
    page = api("/services", postcode="KB1 1AB")

    assert names(page)[:3] == sorted(
        ["Tuesday Health Walk", "Evening Men's Shed"]) + ["Wednesday Lunch Club"]
    assert names(page)[3] == "Garden Volunteers"
    assert names(page)[-1] == "Phone Befriending"  # no place, so after the places


def test_services_pages_through_to_the_last_page_and_beyond(api, validate_oruk):
    first = api("/services", per_page=2)
    last = api("/services", per_page=2, page=3)
    beyond = api("/services", per_page=2, page=4)

    for page in (first, last, beyond):
        validate_oruk("service_list", page)
    assert (first["total_pages"], first["first_page"], first["last_page"]) == (3, True, False)
    assert (last["size"], last["first_page"], last["last_page"]) == (1, False, True)
    assert (beyond["size"], beyond["empty"], beyond["last_page"]) == (0, True, True)
    seen = names(first) + names(api("/services", per_page=2, page=2)) + names(last)
    assert sorted(seen) == sorted(ACTIVE)


def test_per_page_defaults_to_50_and_is_capped_at_200(api):
    assert api("/services")["total_pages"] == 1
    page = api("/services", per_page=500)
    assert page["total_pages"] == 1 and page["size"] == 5


@pytest.mark.parametrize("params, words", [
    ({"page": "0"}, "page"),
    ({"page": "two"}, "page"),
    ({"page": "1e309"}, "page"),
    ({"per_page": "0"}, "per_page"),
    ({"per_page": "NaN"}, "per_page"),
    ({"per_page": "2.5"}, "per_page"),
    ({"minimum_age": "-1"}, "minimum_age"),
    ({"maximum_age": "old"}, "maximum_age"),
    ({"day": "funday"}, "day"),
    ({"day": "\x00"}, "day"),
    ({"start_time": "25:00"}, "start_time"),
    ({"end_time": "noon"}, "end_time"),
    ({"proximity": "1000"}, "needs a postcode"),
    ({"postcode": "KB1 1AB", "proximity": "-5"}, "proximity"),
    ({"postcode": "KB1 1AB", "proximity": "inf"}, "proximity"),
    ({"postcode": "KB1 1AB", "proximity": "far"}, "proximity"),
    ({"postcode": "NOT A POSTCODE"}, "not a UK postcode"),
    ({"postcode": "KB7 7AA", "proximity": "1000"}, "not a postcode Kindly knows"),
])
@pytest.mark.parametrize("path", ["/services", "/service_at_locations"])
def test_a_bad_parameter_is_a_json_400_saying_which(api, path, params, words):
    error = api(path, expect=400, **params)

    assert error["status"] == 400
    assert words in error["detail"]


def test_an_unknown_service_is_a_json_404(api):
    error = api(f"/services/{oruk_id('nothing')}", expect=404)

    assert error["status"] == 404 and "No service" in error["detail"]


def test_an_unknown_path_is_a_json_404_and_a_write_is_a_json_405(client, directory):
    missing = client.get("/openreferral/organizations/x")
    write = client.post("/openreferral/services", json={})

    assert missing.status_code == 404 and missing.json["status"] == 404
    assert write.status_code == 405 and write.json["status"] == 405
    assert write.headers["Allow"] == "GET, HEAD, OPTIONS"
    for response in (missing, write):
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_preflight_request_is_answered_with_cors_headers(client, directory):
    response = client.options("/openreferral/services", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


# --- service at locations -------------------------------------------------------------


def test_service_at_locations_lists_each_place_of_each_active_service(api, validate_oruk):
    page = api("/service_at_locations")

    validate_oruk("service_at_location_list", page)
    assert sorted(site_names(page)) == sorted([*ACTIVE, "Evening Men's Shed"])
    assert page["total_items"] == 6


@pytest.mark.parametrize("params, expected", [
    ({"postcode": "KB1 1AB", "proximity": "1500"},
     ["Evening Men's Shed", "Tuesday Health Walk"]),  # the shed's park site, not its 5 km one
    ({"postcode": "KB1 1AB", "proximity": "6000"},
     ["Evening Men's Shed", "Tuesday Health Walk", "Wednesday Lunch Club",
      "Evening Men's Shed"]),
    ({"postcode": "KB1 1AB", "proximity": "6000", "day": "FR"},
     ["Evening Men's Shed", "Evening Men's Shed"]),
    ({"postcode": "KB1 1AB", "proximity": "900"}, []),
    ({"day": "SA"}, ["Garden Volunteers"]),
    ({"text": "lunch"}, ["Wednesday Lunch Club"]),
    ({"taxonomy_term_id": v.KIND_TERMS["service"].id}, ["Phone Befriending"]),
])
def test_service_at_locations_filters_by_distance_in_metres_and_the_service_filters(
        api, validate_oruk, params, expected):
    page = api("/service_at_locations", **params)

    validate_oruk("service_at_location_list", page)
    assert site_names(page) == expected
    assert page["total_items"] == len(expected)


def test_service_at_locations_from_a_postcode_come_nearest_first(api):
    page = api("/service_at_locations", postcode="KB1 1AB", proximity="10000")
    far = page["contents"][-1]

    assert far["service"]["name"] == "Garden Volunteers"
    assert site_names(page)[2] == "Wednesday Lunch Club"
    assert site_names(page)[3] == "Evening Men's Shed"


def test_service_at_locations_pages_to_the_last_page(api, validate_oruk):
    last = api("/service_at_locations", per_page=4, page=2)
    beyond = api("/service_at_locations", per_page=4, page=3)

    validate_oruk("service_at_location_list", last)
    validate_oruk("service_at_location_list", beyond)
    assert (last["size"], last["last_page"], last["total_pages"]) == (2, True, 2)
    assert beyond["empty"] is True


def test_each_service_at_location_is_served_fully_nested(api, directory, validate_oruk):
    page = api("/service_at_locations", per_page=10)
    for item in page["contents"]:
        site = api(f"/service_at_locations/{item['id']}")

        validate_oruk("service_at_location", site)
        assert site["service"]["id"] == item["service_id"]
        assert site["location"]["id"] == item["location_id"]
    api(f"/service_at_locations/{oruk_id('nowhere')}", expect=404)


# --- taxonomies -------------------------------------------------------------------------


def test_taxonomies_list_kindlys_own_and_every_imported_one(api, validate_oruk):
    page = api("/taxonomies")

    validate_oruk("taxonomy", page)
    ids = {t["id"] for t in page["contents"]}
    assert ids == {v.TAXONOMY_ID, v.KIND_TAXONOMY_ID, v.CAPACITY_TAXONOMY_ID,
                   FOREIGN_TAXONOMY_ID}
    one = api(f"/taxonomies/{FOREIGN_TAXONOMY_ID}")
    validate_oruk("taxonomy", one)
    assert one["uri"] == "http://id.esd.org.uk/list/services"
    api(f"/taxonomies/{oruk_id('none')}", expect=404)


def test_taxonomy_terms_list_every_term_and_filter_by_taxonomy(api, validate_oruk):
    everything = api("/taxonomy_terms", per_page=200)
    categories = api("/taxonomy_terms", taxonomy_id=v.TAXONOMY_ID, per_page=200)
    foreign = api("/taxonomy_terms", taxonomy_id=FOREIGN_TAXONOMY_ID)

    for page in (everything, categories, foreign):
        validate_oruk("taxonomy_term", page)
    # Every category is listed, used or not, and the kind and capacity terms too.
    assert {t["id"] for t in categories["contents"]} == {c.id for c in v.CATEGORIES}
    assert everything["total_items"] == len(v.CATEGORIES) + 3 + 3 + 1
    assert [t["id"] for t in foreign["contents"]] == [FOREIGN_TERM["id"]]
    paged = api("/taxonomy_terms", per_page=5, page=5)
    assert (paged["last_page"], paged["size"]) == (True, everything["total_items"] - 20)


def test_each_taxonomy_term_is_served_stored_or_from_kindlys_vocabulary(api, validate_oruk):
    for term_id in (FOREIGN_TERM["id"], v.CATEGORY_BY_CODE["housing"].id,
                    v.KIND_TERMS["group"].id):
        term = api(f"/taxonomy_terms/{term_id}")
        validate_oruk("taxonomy_term", term)
        assert term["id"] == term_id
    api(f"/taxonomy_terms/{oruk_id('none')}", expect=404)


# --- cost -----------------------------------------------------------------------------


def count_statements(client, url: str) -> int:
    statements = []
    engine = _db.engine

    def count(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


@pytest.fixture
def many(db):
    """55 services, each with a place, a schedule, categories and languages."""
    services = [oruk_service(f"Group {n:02d}", categories=("social-groups", "arts-crafts"),
                             sites=(_oruk_location(f"hall-{n}", n / 10),), day="MO",
                             opens="10:00", closes="11:00", languages=("en", "pl"))
                for n in range(55)]
    report = import_pages([services])
    assert not report.errors
    db.session.flush()


@pytest.mark.parametrize("path", ["/services?", "/services?full=true&",
                                  "/service_at_locations?",
                                  "/service_at_locations?postcode=KB1+1AB&proximity=20000&"])
def test_a_page_costs_the_same_number_of_queries_for_10_or_50_services(client, many, path):
    from referrals.geo import load_postcodes

    load_postcodes([{"postcode": "KB1 1AB", "latitude": "52.8", "longitude": "-2.1"}])
    client.get(f"/openreferral{path}per_page=1")  # warm up: nothing cached differs

    ten = count_statements(client, f"/openreferral{path}per_page=10")
    fifty = count_statements(client, f"/openreferral{path}per_page=50")

    assert ten == fifty
    assert fifty <= 12


GARBAGE = ["", " ", "-1", "1e999", "nan", "%_\\", "'; drop table offer;--", "\x00",
           "9" * 300, "😀", "TU,WE", "10:00:99", "[]"]
PARAMETERS = ["text", "search", "taxonomy_term_id", "taxonomy_id", "minimum_age",
              "maximum_age", "day", "start_time", "end_time", "postcode", "proximity",
              "organization_id", "page", "per_page", "full"]


@pytest.mark.parametrize("path", ["/services", "/service_at_locations", "/taxonomies",
                                  "/taxonomy_terms"])
def test_garbage_in_any_parameter_is_never_a_server_error(client, directory, path):
    for name in PARAMETERS:
        for value in GARBAGE:
            response = client.get(f"/openreferral{path}", query_string={name: value})

            assert response.status_code in (200, 400), (name, value, response.json)
            assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("ident", ["%00", "x" * 300, "😀", "..%2F..", "'"])
@pytest.mark.parametrize("kind", ["services", "service_at_locations", "taxonomies",
                                  "taxonomy_terms"])
def test_garbage_ids_are_a_json_404(client, directory, kind, ident):
    response = client.get(f"/openreferral/{kind}/{ident}")

    assert response.status_code == 404
    assert response.json["status"] == 404
