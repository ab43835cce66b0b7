"""Every error on /fhir is an OperationOutcome with the right status; nothing is a 500.

(The `api` fixture fails any test that gets a 500, and validates every body.)
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from referrals.admin.service import revoke_api_client
from referrals.models import Referral, ReferralStatus
from tests.fhir_adapters import payloads


def issue_of(response, status: int) -> dict:
    """The first issue of an OperationOutcome answer with this status."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/fhir+json"
    body = response.json
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] in ("error", "fatal")
    return body["issue"][0]


def referral_count(db) -> int:
    return db.session.scalar(select(func.count(Referral.id)))


@pytest.fixture
def open_referral(db, make, practice):
    referral = make.referral(practice)
    db.session.commit()
    return {"id": str(referral.id), "nhs": referral.patient.nhs_number,
            "reference": referral.reference}


# --- 400: not JSON, or not FHIR -----------------------------------------------------------


@pytest.mark.parametrize("raw", [b"{", b"not json", b"", b"\xff\xfe\x00", b'{"a": 1}}'])
@pytest.mark.parametrize("path", ["", "ServiceRequest"])
def test_a_body_that_is_not_json_is_a_400(api, raw, path):
    issue = issue_of(api.post(path, raw=raw), 400)
    assert issue["code"] == "structure"


@pytest.mark.parametrize("raw", [b"[]", b"[{}]", b"5", b'"Bundle"', b"null", b"true",
                                 b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000])
@pytest.mark.parametrize("path", ["", "ServiceRequest"])
def test_json_that_is_not_a_resource_is_a_400(api, raw, path):
    issue_of(api.post(path, raw=raw), 400)


def test_a_service_request_without_status_is_a_400_naming_the_element(api, make):
    resource = payloads.with_contained_patient(make.nhs_number())
    del resource["status"]
    issue = issue_of(api.post("ServiceRequest", resource), 400)
    assert issue["code"] == "structure"
    assert "ServiceRequest.status" in issue["expression"]
    assert "ServiceRequest.status" in issue["diagnostics"]


def test_an_unknown_element_is_a_400_naming_the_element(api, make):
    resource = payloads.with_contained_patient(make.nhs_number())
    resource["colour"] = "blue"
    issue = issue_of(api.post("ServiceRequest", resource), 400)
    assert "ServiceRequest.colour" in issue["expression"]


def test_a_structure_error_inside_a_bundle_names_the_entry_and_element(api, make):
    bundle = payloads.transaction(make.nhs_number())
    del payloads.entry(bundle, "ServiceRequest")["intent"]
    issue = issue_of(api.post("", bundle), 400)
    assert any(path.startswith("Bundle.entry.5.") and path.endswith(".intent")
               for path in issue["expression"]), issue


@pytest.mark.parametrize("change", [
    {"authoredOn": "01/05/2024"},
    {"note": "a string, not a list"},
    {"category": {"text": "an object, not a list"}},
    {"status": 5},
    {"id": "sr 1/!"},
    {"occurrenceDateTime": "2024-05-01", "occurrencePeriod": {"start": "2024-05-01"}},
])
def test_wrongly_typed_elements_are_a_400(api, make, change):
    resource = {**payloads.with_contained_patient(make.nhs_number()), **change}
    issue = issue_of(api.post("ServiceRequest", resource), 400)
    assert issue["expression"]


def test_a_resource_of_another_type_is_a_400(api, make):
    issue = issue_of(api.post("ServiceRequest", payloads.patient(make.nhs_number())), 400)
    assert issue["expression"] == ["resourceType"]
    issue_of(api.post("", payloads.patient(make.nhs_number())), 400)


@pytest.mark.parametrize("resource", [
    {"resourceType": "Foo"},
    {"resourceType": ["Patient"]},
    {"resourceType": {"a": 1}},
    {},
    {"resourceType": "Resource"},
])
def test_a_bundle_entry_that_is_not_a_known_resource_is_a_400(api, make, resource):
    bundle = payloads.transaction(make.nhs_number())
    bundle["entry"].append({"resource": resource, "request": {"method": "POST", "url": "x"}})
    issue_of(api.post("", bundle), 400)


@pytest.mark.parametrize("body", [
    {"resourceType": "Bundle", "type": "transaction", "entry": "everything"},
    {"resourceType": "Bundle", "type": "transaction", "entry": [1, 2, 3]},
    {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": 5}]},
    {"resourceType": "Bundle", "type": "transaction", "entry": [{"request": {}}]},
    {"resourceType": "Bundle", "type": "transaction", "entry": []},
    {"resourceType": "Bundle", "type": "transaction"},
    {"resourceType": "Bundle"},
    {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": {
        "resourceType": "ServiceRequest", "status": "active", "intent": "order",
        "subject": {"reference": "Patient/1"}}, "request": {"method": "POST"}}]},
    {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": {
        "resourceType": "ServiceRequest", "status": "active", "intent": "order",
        "subject": {"reference": "Patient/1"},
        "contained": [{"resourceType": "Nope"}]}, "request": {"method": "POST"}}]},
])
def test_deeply_wrong_bundles_are_refused_never_a_500(api, db, body):
    response = api.post("", body)
    assert 400 <= response.status_code < 500
    assert response.json["resourceType"] == "OperationOutcome"
    assert referral_count(db) == 0


@pytest.mark.parametrize("depth", [300, 2000])
def test_extensions_nested_very_deeply_are_a_400(api, make, depth):
    # Written as text: json.dumps itself cannot nest this deep.
    resource = json.dumps(payloads.with_contained_patient(make.nhs_number()))
    nested = '{"url": "https://example.org/x", "extension": [' * depth + \
        '{"url": "https://example.org/x", "valueString": "x"}' + "]}" * depth
    raw = resource[:-1] + f', "modifierExtension": [{nested}]}}'
    issue_of(api.post("ServiceRequest", raw=raw.encode()), 400)


# --- 415 and 406: media types -------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml",
                                          "application/fhir+xml",
                                          "application/x-www-form-urlencoded"])
def test_a_body_of_another_media_type_is_a_415(api, make, content_type):
    body = json.dumps(payloads.transaction(make.nhs_number())).encode()
    issue = issue_of(api.post("", raw=body, content_type=content_type), 415)
    assert issue["code"] == "not-supported"


def test_a_body_without_a_content_type_is_a_415(api, make):
    body = json.dumps(payloads.transaction(make.nhs_number())).encode()
    response = api.post("", raw=body, content_type=None)
    assert "Content-Type" not in response.request.headers
    issue_of(response, 415)


@pytest.mark.parametrize("content_type", ["application/fhir+json", "application/json",
                                          "application/fhir+json; charset=utf-8"])
def test_json_media_types_are_accepted(api, make, content_type):
    response = api.post("", payloads.transaction(make.nhs_number()), content_type=content_type)
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["metadata", "ServiceRequest", "Task"])
def test_asking_for_xml_is_a_406(api, path):
    issue = issue_of(api.get(path, headers={"Accept": "application/fhir+xml"}), 406)
    assert issue["code"] == "not-supported"
    issue_of(api.get(f"{path}?_format=xml"), 406)


@pytest.mark.parametrize("accept", ["application/fhir+json", "application/json", "*/*",
                                    "application/fhir+xml;q=0.9, application/fhir+json"])
def test_asking_for_json_is_answered(api, accept):
    assert api.get("ServiceRequest", headers={"Accept": accept}).status_code == 200


# --- 401: who is calling --------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer  ", "Basic dXNlcjpwdw==",
                                           "Bearer kindly_not-a-real-token", "Bearer 12345"])
@pytest.mark.parametrize("method, path", [("GET", "ServiceRequest"), ("GET", "Task/t-1"),
                                          ("GET", "Patient/1"), ("POST", "")])
def test_a_missing_or_invalid_token_is_a_401_with_www_authenticate(api, authorization, method,
                                                                   path):
    headers = {"Authorization": authorization} if authorization is not None else {}
    body = {"resourceType": "Bundle", "type": "transaction"} if method == "POST" else None
    response = api.request(method, path, body, token=None, headers=headers)
    issue = issue_of(response, 401)
    assert issue["code"] == "login"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_a_401(api, db, api_client_and_token, open_referral):
    assert api.get(f"ServiceRequest/{open_referral['id']}").status_code == 200
    revoke_api_client(api_client_and_token[0], actor=None)
    db.session.commit()
    response = api.get(f"ServiceRequest/{open_referral['id']}")
    issue_of(response, 401)
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_metadata_needs_no_token(api):
    assert api.get("metadata", token=None).status_code == 200


# --- 404: absent, or someone else's ---------------------------------------------------------


@pytest.mark.parametrize("path", [
    "ServiceRequest/99999999999999999999999", "ServiceRequest/2147483648",
    "ServiceRequest/999999999999999999", "ServiceRequest/-1", "ServiceRequest/1e3",
    "ServiceRequest/%C2%B2", "ServiceRequest/%D9%A1", "Task/t-99999999999999999999",
    "Task/t-2147483648", "Patient/99999999999999999999", "Patient/2147483648",
    "Consent/c-99999999999999999999", "Consent/424242",
])
def test_ids_that_cannot_be_ours_are_a_404(api, path):
    assert issue_of(api.get(path), 404)["code"] == "not-found"


@pytest.mark.parametrize("query", [
    "_id=99999999999999999999", "_id=2147483648", "patient=Patient/99999999999999",
    "focus=ServiceRequest/99999999999999", "requester=PractitionerRole/pr-99999999999999",
])
def test_searching_for_ids_that_cannot_be_ours_finds_nothing(api, query):
    resource = "Task" if query.startswith("focus") else "ServiceRequest"
    assert api.get(f"{resource}?{query}").json["total"] == 0


@pytest.mark.parametrize("query", ["_after=99999999999999999999", "_after=2147483648",
                                   "authored=ge9999-12-31", "authored=le9999-12-31T23:00:00-14:00",
                                   "_lastUpdated=gt9999-12-31T23:59:59Z",
                                   "_lastUpdated=ge0001-01-01T00:00:00%2B14:00"])
def test_search_values_out_of_range_are_a_400(api, query):
    issue_of(api.get(f"ServiceRequest?{query}"), 400)


def test_a_path_the_api_does_not_have_is_a_404_operation_outcome(api):
    issue_of(api.get("Observation/1"), 404)
    issue_of(api.get("ServiceRequest/1/_history/1"), 404)


@pytest.mark.parametrize("method, path", [("DELETE", "ServiceRequest/1"), ("PUT", "Task/t-1"),
                                          ("POST", "Patient"), ("PATCH", "ServiceRequest/1"),
                                          ("DELETE", "metadata")])
def test_an_interaction_the_api_does_not_offer_is_a_405_operation_outcome(api, method, path):
    issue_of(api.request(method, path, {"resourceType": "Parameters"}), 405)


# --- 409 and 422: business rules ------------------------------------------------------------


def test_a_second_open_referral_for_the_same_person_is_a_409(api, db, open_referral):
    issue = issue_of(api.post("", payloads.transaction(open_referral["nhs"])), 409)
    assert issue["code"] == "duplicate"
    issue = issue_of(api.post("ServiceRequest", payloads.by_nhs_number(open_referral["nhs"])),
                     409)
    assert open_referral["reference"] in issue["diagnostics"]
    assert referral_count(db) == 1


def test_an_nhs_number_with_a_wrong_check_digit_is_a_422(api, db, make):
    number = make.nhs_number()
    wrong = number[:9] + str((int(number[9]) + 1) % 10)
    issue = issue_of(api.post("", payloads.transaction(wrong)), 422)
    assert (issue["code"], issue["expression"]) == ("business-rule", ["Patient.identifier"])
    assert "check digit" in issue["diagnostics"]
    issue_of(api.post("ServiceRequest", payloads.by_nhs_number(wrong)), 422)
    issue_of(api.post("ServiceRequest", payloads.with_contained_patient(wrong)), 422)
    assert referral_count(db) == 0


def test_a_referral_without_consent_is_a_422(api, db, make):
    bundle = payloads.without(payloads.transaction(make.nhs_number()), "Consent")
    del payloads.entry(bundle, "ServiceRequest")["supportingInfo"]
    issue = issue_of(api.post("", bundle), 422)
    assert issue["expression"] == ["ServiceRequest.supportingInfo"]


def test_a_consent_that_was_refused_is_no_consent(api, make):
    bundle = payloads.transaction(make.nhs_number())
    payloads.entry(bundle, "Consent")["provision"] = {"type": "deny"}
    issue_of(api.post("", bundle), 422)


def test_a_referral_without_a_reason_is_a_422(api, make):
    bundle = payloads.transaction(make.nhs_number())
    del payloads.entry(bundle, "ServiceRequest")["reasonCode"]
    issue = issue_of(api.post("", bundle), 422)
    assert issue["expression"] == ["ServiceRequest.reasonCode"]


def test_every_broken_intake_rule_is_reported_at_once(api, make):
    bundle = payloads.transaction("9990000019")
    payloads.entry(bundle, "Patient")["birthDate"] = "2999-01-01"
    del payloads.entry(bundle, "ServiceRequest")["reasonCode"]
    response = api.post("", bundle)
    assert response.status_code == 422
    paths = {tuple(i.get("expression", [])) for i in response.json["issue"]}
    assert {("Patient.identifier",), ("Patient.birthDate",),
            ("ServiceRequest.reasonCode",)} <= paths


def test_an_illegal_transition_is_a_422(api, db, open_referral):
    from referrals import workflow
    referral = db.session.get(Referral, int(open_referral["id"]))
    workflow.transition(referral, ReferralStatus.ACCEPTED, actor=None)
    db.session.commit()
    resource = api.get(f"ServiceRequest/{open_referral['id']}").json
    resource["status"] = "revoked"
    resource["note"] = [{"text": "Changed our minds"}]
    issue = issue_of(api.put(f"ServiceRequest/{open_referral['id']}", resource,
                             headers={"If-Match": 'W/"2"'}), 422)
    assert "accepted" in issue["diagnostics"].lower()


# --- codes and references fhir.resources lets through ------------------------------------------


@pytest.mark.parametrize("resource_type, element, value", [
    ("ServiceRequest", "intent", "banana"),
    ("ServiceRequest", "status", "open"),
    ("ServiceRequest", "priority", "whenever"),
    ("Patient", "gender", "F"),
])
def test_a_code_outside_its_value_set_is_refused(api, db, make, resource_type, element, value):
    bundle = payloads.transaction(make.nhs_number())
    payloads.entry(bundle, resource_type)[element] = value
    issue = issue_of(api.post("", bundle), 400)
    assert (issue["code"], issue["expression"]) == ("code-invalid",
                                                    [f"{resource_type}.{element}"])
    assert referral_count(db) == 0


def test_a_code_outside_its_value_set_is_refused_on_a_single_service_request(api, make):
    resource = payloads.with_contained_patient(make.nhs_number())
    resource["intent"] = "banana"
    assert issue_of(api.post("ServiceRequest", resource), 400)["code"] == "code-invalid"


@pytest.mark.parametrize("subject", [{"reference": "Practitioner/1"},
                                     {"reference": "#consent"}])
def test_a_subject_that_is_not_a_patient_is_refused(api, db, make, subject):
    resource = payloads.with_contained_patient(make.nhs_number())
    resource["subject"] = subject
    issue = issue_of(api.post("ServiceRequest", resource), 422)
    assert issue["expression"] == ["ServiceRequest.subject"]
    assert referral_count(db) == 0


def test_a_bundle_subject_pointing_at_the_practitioner_is_refused(api, db, make):
    bundle = payloads.transaction(make.nhs_number())
    practitioner_url = bundle["entry"][1]["fullUrl"]
    payloads.entry(bundle, "ServiceRequest")["subject"] = {"reference": practitioner_url}
    issue = issue_of(api.post("", bundle), 422)
    assert issue["expression"] == ["ServiceRequest.subject"]
    assert referral_count(db) == 0


def test_a_requester_role_whose_organisation_is_a_patient_is_refused(api, make):
    bundle = payloads.transaction(make.nhs_number())
    patient_url = bundle["entry"][3]["fullUrl"]
    payloads.entry(bundle, "PractitionerRole")["organization"] = {"reference": patient_url}
    issue = issue_of(api.post("", bundle), 422)
    assert issue["expression"] == ["PractitionerRole.organization"]


# --- garbage never produces a 500 ------------------------------------------------------------


GARBAGE = [
    [], [1, 2], 0, -1, 1e308, "ServiceRequest", None, True, {"resourceType": None},
    {"resourceType": 7}, {"resourceType": "ServiceRequest"},
    {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
     "subject": "Patient/1"},
    {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
     "subject": {"reference": 12}},
    {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
     "subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": 12}}},
    {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
     "subject": {"identifier": "9990000018"}},
    {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
     "subject": {"reference": "#p"}, "contained": [{"resourceType": "Patient", "id": "p",
                                                    "gender": "female"}]},
    {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
     "subject": {"reference": "#p"}, "contained": [{"resourceType": "Patient"}]},
    {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
     "subject": {"reference": "Patient/1"}, "supportingInfo": [{"reference": "#c"}],
     "contained": [{"resourceType": "Consent", "id": "c", "status": "active",
                    "scope": {"text": "x"}, "category": [{"text": "x"}],
                    "extension": [{"url": "https://kindly.example/fhir/StructureDefinition/"
                                   "consent-method", "valueCode": "telepathy"}]}]},
    {"resourceType": "ServiceRequest", "id": "x" * 65, "status": "active", "intent": "order",
     "subject": {"reference": "Patient/1"}},
    {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
     "subject": {"reference": "Patient/1"}, "reasonCode": [{"coding": [{"code": "x" * 10000}]}]},
    {"resourceType": "Bundle", "type": "transaction", "entry": [{"fullUrl": 5}]},
]


@pytest.mark.parametrize("body", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_posted_as_a_service_request_is_refused(api, db, body):
    response = api.post("ServiceRequest", raw=json.dumps(body).encode())
    assert 400 <= response.status_code < 500
    assert response.json["resourceType"] == "OperationOutcome"
    assert referral_count(db) == 0


@pytest.mark.parametrize("body", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_posted_as_a_transaction_is_refused(api, db, body):
    response = api.post("", raw=json.dumps(body).encode())
    assert 400 <= response.status_code < 500
    assert referral_count(db) == 0


@pytest.mark.parametrize("body", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_put_on_a_referral_is_refused(api, db, open_referral, body):
    response = api.put(f"ServiceRequest/{open_referral['id']}", raw=json.dumps(body).encode(),
                       headers={"If-Match": 'W/"1"'})
    assert 400 <= response.status_code < 500
    referral = db.session.get(Referral, int(open_referral["id"]))
    assert (referral.status, referral.version) == (ReferralStatus.RECEIVED, 1)


@pytest.mark.parametrize("query", [
    "_count=1e3", "_count=99999999999999999999999", "_include=", "_include=*", "status=",
    "patient=", "patient=Patient/", "patient=%00", "focus=ServiceRequest/%F0%9F%92%A9",
    "identifier=|", "identifier=%7C%7C%7C", "patient:identifier=|", "authored=", "authored=ge",
    "authored=2024-13-45", "_lastUpdated=gt2024-01-01T25:00:00Z", "requester=Organization/p-x",
    "owner=PractitionerRole/pr-", "business-status=|", "_sort=-authored", "_summary=count",
    "%FF=1", "status=active&status=",
])
@pytest.mark.parametrize("resource", ["ServiceRequest", "Task", "Patient"])
def test_odd_search_parameters_never_produce_a_500(api, open_referral, resource, query):
    response = api.get(f"{resource}?{query}")
    assert response.status_code in (200, 400)
    assert response.json["resourceType"] in ("Bundle", "OperationOutcome")
