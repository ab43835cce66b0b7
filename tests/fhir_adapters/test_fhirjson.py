"""FHIR's JSON rules on the raw body: no nulls (but in aligned primitive arrays), and a
`_x` key holds an object (or, for a repeating primitive, an array of objects)."""
from __future__ import annotations

import pytest

from fhir_adapters import fhirjson
from fhir_adapters.errors import FhirError


def paths(body: dict) -> list[str]:
    return [path for path, _ in fhirjson.problems(body)]


def test_a_resource_without_nulls_keeps_the_rules():
    assert fhirjson.problems({"resourceType": "Patient", "gender": "female",
                              "_gender": {"extension": [{"url": "https://e.org/x",
                                                         "valueString": "x"}]},
                              "name": [{"given": ["Ada"], "family": "Lovelace"}]}) == []


@pytest.mark.parametrize("body, path", [
    ({"resourceType": "ServiceRequest", "requester": None}, "ServiceRequest.requester"),
    ({"resourceType": "Patient", "telecom": [{"system": "phone", "value": None}]},
     "Patient.telecom[0].value"),
    ({"resourceType": "Patient", "telecom": [None]}, "Patient.telecom[0]"),
    ({"resourceType": "Patient", "name": [{"given": ["Ada", None]}]}, "Patient.name[0].given[1]"),
    ({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient",
                                                        "birthDate": None}}]},
     "Bundle.entry[0].resource.birthDate"),
    ({"resourceType": "Patient", "_gender": {"extension": None}}, "Patient._gender.extension"),
    ({"resourceType": "Patient", "extension": [[None]]}, "Patient.extension[0][0]"),
])
def test_a_null_is_found_and_named_by_its_path(body, path):
    assert paths(body) == [path]


def test_a_null_in_a_primitive_array_is_allowed_when_its_extension_stands_beside_it():
    name = {"given": ["Ada", None], "_given": [None, {"extension": [
        {"url": "https://e.org/x", "valueString": "x"}]}]}
    assert paths({"resourceType": "Patient", "name": [name]}) == []


@pytest.mark.parametrize("given, extensions", [
    (["Ada", None], [None, None]),  # nothing at all in the second place
    (["Ada", None], [None]),  # the arrays do not line up
    (["Ada", None], {"extension": []}),  # not an array
])
def test_a_null_in_a_primitive_array_needs_an_extension_at_the_same_place(given, extensions):
    found = paths({"resourceType": "Patient", "name": [{"given": given, "_given": extensions}]})
    assert "Patient.name[0].given[1]" in found


@pytest.mark.parametrize("value, kind", [("1", "string"), ("null", "string"), ("[]", "string"),
                                         ('{"extension": []}', "string"), (5, "number"),
                                         (True, "boolean")])
def test_a_primitive_extension_key_must_hold_an_object(value, kind):
    found = fhirjson.problems({"resourceType": "Patient", "gender": "female", "_gender": value})
    assert [path for path, _ in found] == ["Patient._gender"]
    assert f"got a JSON {kind}" in found[0][1]


def test_a_repeating_primitive_extension_holds_objects_or_aligned_nulls():
    assert paths({"resourceType": "Patient", "name": [
        {"given": ["Ada", "May"], "_given": ["x", None]}]}) == ["Patient.name[0]._given[0]"]
    assert paths({"resourceType": "Patient", "name": [
        {"_given": [None]}]}) == ["Patient.name[0]._given[0]"]
    assert paths({"resourceType": "Patient", "name": [{"_given": [[]]}]}) == [
        "Patient.name[0]._given[0]"]


def test_check_raises_a_400_naming_every_path():
    with pytest.raises(FhirError) as caught:
        fhirjson.check({"resourceType": "ServiceRequest", "requester": None, "note": [None]})
    error = caught.value
    assert error.status == 400 and error.code == "structure"
    assert error.expression == ["ServiceRequest.requester", "ServiceRequest.note[0]"]
    assert "ServiceRequest.requester: null is not allowed" in error.diagnostics


def test_a_body_full_of_nulls_reports_twenty_and_counts_the_rest():
    with pytest.raises(FhirError) as caught:
        fhirjson.check({"resourceType": "Patient", "extension": [None] * 30})
    assert len(caught.value.expression) == 20
    assert "(and 10 more)" in caught.value.diagnostics


def test_nesting_deeper_than_the_recursion_limit_is_walked():
    body: dict = {"resourceType": "Patient"}
    node = body
    for _ in range(5000):
        node["extension"] = [{"url": "https://e.org/x"}]
        node = node["extension"][0]
    node["valueString"] = None
    found = paths(body)
    assert len(found) == 1 and found[0].endswith(".valueString")
