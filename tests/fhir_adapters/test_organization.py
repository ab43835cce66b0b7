"""Organization mapper: a GP practice by ODS code, and a connector team."""
from __future__ import annotations

from fhir.resources.R4B.organization import Organization

from fhir_adapters import organization as org_map
from tests.fhir_adapters import payloads

ODS = "https://fhir.nhs.uk/Id/ods-organization-code"


def test_a_practice_is_a_valid_r4b_organization_identified_by_its_ods_code(make):
    practice = make.practice(ods_code="Y01234", name="Riverside Surgery",
                             address="1 High Street, Market Town", postcode="LS1 4AP",
                             phone="0113 496 0000")
    resource = org_map.practice_to_fhir(practice)
    Organization.model_validate(resource)
    assert resource["id"] == f"p-{practice.id}"
    assert resource["identifier"] == [{"system": ODS, "value": "Y01234"}]
    assert resource["address"] == [{"use": "work", "line": ["1 High Street", "Market Town"],
                                     "postalCode": "LS1 4AP"}]
    assert resource["telecom"][0]["value"] == "0113 496 0000"


def test_a_practice_round_trips_to_its_ods_code_and_name(make):
    practice = make.practice(ods_code="Y01234", name="Riverside Surgery")
    assert org_map.from_fhir(org_map.practice_to_fhir(practice)) == {
        "ods_code": "Y01234", "name": "Riverside Surgery"}


def test_a_practice_without_address_or_phone_leaves_them_out(make):
    resource = org_map.practice_to_fhir(make.practice())
    Organization.model_validate(resource)
    assert "address" not in resource and "telecom" not in resource


def test_a_team_is_a_valid_r4b_organization_of_its_own_kind(make):
    team = make.team(name="Market Town Connectors")
    resource = org_map.team_to_fhir(team)
    Organization.model_validate(resource)
    assert resource["id"] == f"team-{team.id}"
    assert resource["name"] == "Market Town Connectors"
    assert all(i["system"] != ODS for i in resource["identifier"])


def test_from_fhir_upper_cases_the_ods_code_and_ignores_other_identifiers():
    resource = payloads.organization("y01234", "Riverside")
    resource["identifier"].insert(0, {"system": "https://example.org/local", "value": "L1"})
    assert org_map.from_fhir(resource) == {"ods_code": "Y01234", "name": "Riverside"}


def test_from_fhir_of_an_organization_without_an_ods_code_gives_an_empty_code():
    assert org_map.from_fhir({"resourceType": "Organization"}) == {"ods_code": "", "name": ""}
