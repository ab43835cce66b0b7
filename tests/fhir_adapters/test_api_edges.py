"""The edges of /fhir: request size (413), JSON null and malformed primitive extensions
(400), each answered with an OperationOutcome and nothing stored."""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from referrals.models import Referral
from tests.fhir_adapters import payloads
from tests.fhir_adapters.test_api_errors import issue_of

MB = 1024 * 1024


def referral_count(db) -> int:
    return db.session.scalar(select(func.count(Referral.id)))


def with_note(bundle: dict, size: int) -> bytes:
    payloads.entry(bundle, "ServiceRequest")["note"] = [{"text": "x" * size}]
    return json.dumps(bundle).encode()


# --- 413: request size ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [2 * MB, 10 * MB])
def test_a_bundle_with_a_huge_note_is_a_413_and_nothing_is_stored(api, db, make, size):
    raw = with_note(payloads.transaction(make.nhs_number()), size)
    issue = issue_of(api.post("", raw=raw), 413)
    assert issue["code"] == "too-costly"
    assert referral_count(db) == 0


def test_a_huge_single_service_request_is_a_413(api, db, make):
    resource = payloads.with_contained_patient(make.nhs_number())
    resource["note"] = [{"text": "x" * (2 * MB)}]
    issue_of(api.post("ServiceRequest", raw=json.dumps(resource).encode()), 413)
    assert referral_count(db) == 0


def test_a_huge_body_without_a_content_length_is_a_413(client, api, db, make):
    """A chunked request has no Content-Length: the limit holds as the body is read."""
    raw = with_note(payloads.transaction(make.nhs_number()), 2 * MB)
    response = client.open("/fhir", method="POST", input_stream=io.BytesIO(raw),
                           headers={"Authorization": f"Bearer {api.token}",
                                    "Content-Type": "application/fhir+json",
                                    "Transfer-Encoding": "chunked"},
                           # What a server that de-chunks the body (werkzeug, gunicorn) sets.
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.request.content_length is None
    issue = issue_of(response, 413)
    assert issue["code"] == "too-costly"
    assert referral_count(db) == 0


def test_a_bundle_under_the_limit_is_taken(api, db, make):
    """A referral's notes are limited to 4000 characters; the body limit is far above."""
    raw = with_note(payloads.transaction(make.nhs_number()), 4000)
    assert api.post("", raw=raw).status_code == 200
    assert referral_count(db) == 1


def test_the_limit_is_a_setting(app, api, make):
    raw = with_note(payloads.transaction(make.nhs_number()), 1000)
    before = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = len(raw) - 1
    try:
        issue_of(api.post("", raw=raw), 413)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = before


def test_the_capability_statement_states_the_limit(api, app):
    description = api.get("metadata").json["description"]
    assert f"at most {app.config['MAX_CONTENT_LENGTH']} bytes (413)" in description


# --- 400: JSON null ------------------------------------------------------------------------


@pytest.mark.parametrize("element, value, path", [
    ("requester", None, "requester"),
    ("note", [{"text": None}], "note[0].text"),
    ("reasonCode", [None], "reasonCode[0]"),
    ("priority", None, "priority"),
])
def test_a_null_in_a_bundles_service_request_is_a_400_naming_the_path(api, db, make, element,
                                                                      value, path):
    bundle = payloads.transaction(make.nhs_number())
    payloads.entry(bundle, "ServiceRequest")[element] = value
    issue = issue_of(api.post("", bundle), 400)
    assert issue["code"] == "structure"
    assert issue["expression"] == [f"Bundle.entry[5].resource.{path}"]
    assert "null" in issue["diagnostics"]
    assert referral_count(db) == 0


def test_a_null_in_a_single_service_request_is_a_400(api, db, make):
    resource = payloads.with_contained_patient(make.nhs_number())
    resource["requester"] = None
    issue = issue_of(api.post("ServiceRequest", resource), 400)
    assert issue["expression"] == ["ServiceRequest.requester"]
    assert referral_count(db) == 0


def test_a_null_in_a_revocation_is_a_400_and_changes_nothing(api, db, make, practice):
    referral = make.referral(practice)
    db.session.commit()
    resource = api.get(f"ServiceRequest/{referral.id}").json
    resource["status"] = "revoked"
    resource["note"] = [{"text": None}]
    response = api.put(f"ServiceRequest/{referral.id}", resource, headers={"If-Match": 'W/"1"'})
    assert issue_of(response, 400)["expression"] == ["ServiceRequest.note[0].text"]
    db.session.refresh(referral)
    assert referral.version == 1


@pytest.mark.parametrize("telecom", [
    [{"system": "phone", "value": None}],
    [{"system": "phone", "value": None, "use": "mobile"},
     {"system": "email", "value": "ada@example.com"}],
    [None],
])
def test_a_telecom_whose_value_is_null_is_a_400_not_a_500(api, db, make, telecom):
    bundle = payloads.transaction(make.nhs_number())
    payloads.entry(bundle, "Patient")["telecom"] = telecom
    issue = issue_of(api.post("", bundle), 400)
    assert issue["expression"][0].startswith("Bundle.entry[3].resource.telecom[")
    resource = payloads.with_contained_patient(make.nhs_number())
    resource["contained"][0]["telecom"] = telecom
    issue = issue_of(api.post("ServiceRequest", resource), 400)
    assert issue["expression"][0].startswith("ServiceRequest.contained[0].telecom[")
    assert referral_count(db) == 0


def test_nulls_aligned_with_primitive_extensions_are_fhir_and_taken(api, db, make):
    bundle = payloads.transaction(make.nhs_number())
    payloads.entry(bundle, "Patient")["name"] = [{
        "use": "official", "family": "Lovelace", "given": ["Ada", None],
        "_given": [None, {"extension": [{
            "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
            "valueCode": "unknown"}]}]}]
    assert api.post("", bundle).status_code == 200
    assert db.session.scalars(select(Referral)).one().patient.given_name == "Ada"


# --- 400: a primitive extension that is not an object --------------------------------------


@pytest.mark.parametrize("value", ["1", "null", "[]", '{"extension": []}', 5, [1], True])
@pytest.mark.parametrize("where", ["bundle", "contained"])
def test_a_primitive_extension_key_that_is_not_an_object_is_a_400(api, db, make, value, where):
    if where == "bundle":
        body = payloads.transaction(make.nhs_number())
        payloads.entry(body, "Patient")["_gender"] = value
        path, expected = "", "Bundle.entry[3].resource._gender"
    else:
        body = payloads.with_contained_patient(make.nhs_number())
        body["contained"][0]["_gender"] = value
        path, expected = "ServiceRequest", "ServiceRequest.contained[0]._gender"
    issue = issue_of(api.post(path, body), 400)
    assert issue["code"] == "structure"
    if value == [1]:
        expected += "[0]"
    assert issue["expression"] == [expected]
    assert referral_count(db) == 0


def test_a_primitive_extension_object_is_taken(api, db, make):
    bundle = payloads.transaction(make.nhs_number())
    payloads.entry(bundle, "Patient")["_gender"] = {"extension": [{
        "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-Example",
        "valueString": "as recorded at the practice"}]}
    assert api.post("", bundle).status_code == 200
