"""Scope: an API client sees and creates only for its own practices; the rest is absent (404)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from referrals.admin.service import create_api_client
from referrals.models import Patient, Referral, ReferralStatus
from tests.fhir_adapters import payloads
from tests.fhir_adapters.conftest import Api

NHS = "https://fhir.nhs.uk/Id/nhs-number"


@pytest.fixture
def ours(db, make, practice):
    """A referral at `practice` (the `api` client's), as the `other_api` client must not see."""
    referral = make.referral(practice)
    db.session.commit()
    return {"id": str(referral.id), "patient": str(referral.patient_id),
            "nhs": referral.patient.nhs_number, "reference": referral.reference}


def shape(response) -> tuple:
    """What a client can tell from a 404: status, media type, issue codes and severities."""
    body = response.json
    return (response.status_code, response.mimetype, body["resourceType"],
            [(i["severity"], i["code"], sorted(i)) for i in body["issue"]])


@pytest.mark.parametrize("path, absent", [
    ("ServiceRequest/{id}", "ServiceRequest/424242"),
    ("Task/t-{id}", "Task/t-424242"),
    ("Patient/{patient}", "Patient/424242"),
    ("Consent/c-{id}", "Consent/c-424242"),
])
def test_another_practices_resource_is_a_404_just_like_one_that_does_not_exist(
        api, other_api, ours, path, absent):
    assert api.get(path.format(**ours)).status_code == 200
    hidden = other_api.get(path.format(**ours))
    missing = other_api.get(absent)
    assert hidden.status_code == 404
    assert shape(hidden) == shape(missing)
    assert ours["nhs"] not in hidden.get_data(as_text=True)
    assert ours["reference"] not in hidden.get_data(as_text=True)


@pytest.mark.parametrize("query", [
    "ServiceRequest", "ServiceRequest?_id={id}", "ServiceRequest?identifier={reference}",
    "ServiceRequest?patient=Patient/{patient}",
    "ServiceRequest?patient:identifier=" + NHS + "|{nhs}",
    "ServiceRequest?subject=Patient/{patient}", "ServiceRequest?status=active",
    "Task", "Task?focus=ServiceRequest/{id}", "Task?patient=Patient/{patient}",
    "Task?_id=t-{id}", "Task?status=requested",
    "Patient", "Patient?identifier=" + NHS + "|{nhs}", "Patient?_id={patient}",
])
def test_another_practices_referrals_are_absent_from_searches(api, other_api, ours, query):
    assert api.get(query.format(**ours)).json["total"] >= 1
    body = other_api.get(query.format(**ours)).json
    assert body["total"] == 0
    assert not [e for e in body.get("entry", []) if e["search"]["mode"] != "outcome"]


def test_an_include_never_brings_in_another_practices_patient(api, other_api, db, make,
                                                              other_practice, ours):
    make.referral(other_practice)
    db.session.commit()
    body = other_api.get("ServiceRequest?_include=ServiceRequest:patient").json
    included = [e["resource"]["id"] for e in body["entry"] if e["search"]["mode"] == "include"]
    assert ours["patient"] not in included and len(included) == 1


def test_another_practices_referral_cannot_be_revoked(api, other_api, db, ours):
    resource = api.get(f"ServiceRequest/{ours['id']}").json
    resource["status"] = "revoked"
    resource["note"] = [{"text": "Not ours to cancel"}]
    response = other_api.put(f"ServiceRequest/{ours['id']}", resource,
                             headers={"If-Match": 'W/"1"'})
    assert response.status_code == 404
    referral = db.session.get(Referral, int(ours["id"]))
    assert (referral.status, referral.version) == (ReferralStatus.RECEIVED, 1)


def referral_count(db) -> int:
    return db.session.scalar(select(func.count(Referral.id)))


def test_a_client_cannot_refer_for_a_practice_that_is_not_theirs(other_api, db, make):
    # other_api holds a token for B67890 only; the Bundle names A12345 throughout.
    response = other_api.post("", payloads.transaction(make.nhs_number(), ods_code="A12345"))
    assert response.status_code == 404
    assert response.json["issue"][0]["code"] == "not-found"
    response = other_api.post("ServiceRequest", payloads.with_contained_patient(
        make.nhs_number(), ods_code="A12345"))
    assert response.status_code == 404
    assert referral_count(db) == 0


def test_a_client_cannot_refer_for_a_practice_that_does_not_exist(api, db, make):
    response = api.post("", payloads.transaction(make.nhs_number(), ods_code="Z99999"))
    assert response.status_code == 404
    assert referral_count(db) == 0


def test_a_client_cannot_refer_another_practices_patient_by_nhs_number_alone(
        api, other_api, db, make, practice, ours):
    # Closed, so there is no duplicate: only scope stands in the way.
    from referrals import workflow
    workflow.transition(db.session.get(Referral, int(ours["id"])), ReferralStatus.CANCELLED,
                        actor=None, reason="Closed")
    db.session.commit()
    hidden = other_api.post("ServiceRequest", payloads.by_nhs_number(ours["nhs"],
                                                                     ods_code="B67890"))
    unknown = other_api.post("ServiceRequest", payloads.by_nhs_number(make.nhs_number(),
                                                                      ods_code="B67890"))
    assert hidden.status_code == unknown.status_code == 422
    assert hidden.json == unknown.json
    assert "Lovelace" not in hidden.get_data(as_text=True)
    assert db.session.get(Patient, int(ours["patient"])).practice_id == practice.id
    assert api.post("ServiceRequest", payloads.by_nhs_number(ours["nhs"])).status_code == 201


def test_a_duplicate_at_another_practice_is_refused_without_saying_which_referral(
        other_api, db, ours):
    response = other_api.post("", payloads.transaction(ours["nhs"], ods_code="B67890"))
    assert response.status_code == 409
    (issue,) = response.json["issue"]
    assert issue["code"] == "duplicate"
    assert ours["reference"] not in issue["diagnostics"]
    assert referral_count(db) == 1


def test_a_client_for_two_practices_sees_both(client, db, make, practice, other_practice, ours):
    make.referral(other_practice)
    _, token = create_api_client("Federation gateway", [practice, other_practice], actor=None)
    db.session.commit()
    assert Api(client, token).get("ServiceRequest").json["total"] == 2


def test_a_referral_from_another_practices_clinician_is_not_filed_under_the_clients(
        other_api, db, make):
    # The requester's organisation is A12345 (not other_api's); the patient's GP is B67890.
    bundle = payloads.transaction(make.nhs_number(), ods_code="A12345")
    payloads.entry(bundle, "Patient")["generalPractitioner"] = [
        {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code",
                        "value": "B67890"}}]
    assert other_api.post("", bundle).status_code == 404
    assert referral_count(db) == 0
