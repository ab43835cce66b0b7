"""GET /fhir/metadata: a public CapabilityStatement listing exactly what the API does."""
from __future__ import annotations

import pytest

from tests.fhir_adapters import test_api_servicerequest, test_api_task

INTERACTIONS = {
    "ServiceRequest": {"read", "search-type", "create", "update"},
    "Task": {"read", "search-type"},
    "Patient": {"read", "search-type"},
    "Consent": {"read"},
    "Procedure": {"read", "search-type"},
    "HealthcareService": {"read", "search-type"},
    "Location": {"read"},
    "QuestionnaireResponse": {"read", "search-type"},
    "Observation": {"read", "search-type"},
    "DocumentReference": {"read", "search-type"},
    "Binary": {"read"},
}


@pytest.fixture
def statement(api):
    response = api.get("metadata", token=None)
    assert response.status_code == 200
    return response.json


def test_metadata_is_public_and_declares_fhir_4_0_1(statement):
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["kind"] == "instance"
    assert "application/fhir+json" in statement["format"]
    (rest,) = statement["rest"]
    assert rest["mode"] == "server"
    assert rest["security"]["description"]
    assert statement["implementation"]["url"] == "http://localhost/fhir"


def test_metadata_lists_exactly_the_supported_interactions(statement):
    (rest,) = statement["rest"]
    declared = {r["type"]: {i["code"] for i in r["interaction"]} for r in rest["resource"]}
    assert declared == INTERACTIONS
    assert [i["code"] for i in rest["interaction"]] == ["transaction"]


def declared_params(statement, resource_type) -> set[str]:
    (resource,) = [r for r in statement["rest"][0]["resource"] if r["type"] == resource_type]
    return {p["name"] for p in resource.get("searchParam", [])}


@pytest.mark.parametrize("resource_type, tested", [
    ("ServiceRequest", test_api_servicerequest.SEARCHES),
    ("Task", test_api_task.SEARCHES),
])
def test_metadata_declares_exactly_the_search_parameters_that_are_tested_to_work(
        statement, resource_type, tested):
    # Each name in SEARCHES has a test proving it filters; this proves none is missing
    # from, or extra in, the CapabilityStatement.
    assert declared_params(statement, resource_type) == set(tested)


def test_metadata_declares_the_patient_search_parameters(statement):
    assert declared_params(statement, "Patient") == {"_id", "identifier"}


def test_metadata_declares_the_includes(statement):
    includes = {r["type"]: r.get("searchInclude") for r in statement["rest"][0]["resource"]}
    assert includes["ServiceRequest"] == ["ServiceRequest:patient"]
    assert includes["Task"] == ["Task:focus"]


@pytest.mark.parametrize("resource_type, param", [
    ("ServiceRequest", "category"), ("ServiceRequest", "code"), ("Task", "code"),
    ("Task", "part-of"), ("Patient", "name"), ("Patient", "birthdate"),
])
def test_a_parameter_the_statement_leaves_out_is_reported_as_ignored(api, statement,
                                                                     resource_type, param):
    assert param not in declared_params(statement, resource_type)
    body = api.get(f"{resource_type}?{param}=x").json
    outcomes = [e["resource"] for e in body.get("entry", []) if e["search"]["mode"] == "outcome"]
    assert outcomes and outcomes[0]["issue"][0]["code"] == "not-supported"
