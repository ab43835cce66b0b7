"""POST /fhir: a GP system sends a referral as a transaction Bundle."""
from __future__ import annotations

from sqlalchemy import func, select

from referrals import workflow
from referrals.admin.service import create_api_client
from referrals.models import Patient, Referral, ReferralStatus, Role
from tests.fhir_adapters import payloads
from tests.fhir_adapters.conftest import Api


def referral_count(db) -> int:
    return db.session.scalar(select(func.count(Referral.id)))


def stored(db, response) -> Referral:
    """The referral a transaction-response reports."""
    (location,) = [e["response"]["location"] for e in response.json["entry"]
                   if e["response"].get("location", "").startswith("ServiceRequest/")]
    return db.session.get(Referral, int(location.split("/")[1]))


def test_a_gp_system_holding_only_a_token_can_follow_a_referral_to_a_connectors_change(
        api, client, db, make, practice, login_as):
    # It reads the CapabilityStatement without a token...
    assert api.get("metadata", token=None).status_code == 200
    # ...POSTs a referral Bundle built from UK Core identifiers...
    nhs_number = make.nhs_number()
    response = api.post("", payloads.transaction(nhs_number))
    assert response.status_code == 200
    referral = stored(db, response)
    reference, referral_id = referral.reference, referral.id
    # ...which appears in the practice's list in the web app...
    login_as(Role.REFERRER, practice=practice)
    page = client.get("/referrals").get_data(as_text=True)
    assert reference in page
    assert f"{nhs_number[:3]} {nhs_number[3:6]} {nhs_number[6:]}" in page
    # ...finds the referral's Task...
    found = api.get(f"Task?focus=ServiceRequest/{referral_id}").json
    assert found["total"] == 1
    task_url = found["entry"][0]["fullUrl"]
    before = found["entry"][0]["resource"]
    assert (before["status"], before["meta"]["versionId"]) == ("requested", "1")
    # ...and polling it sees a connector's change.
    workflow.transition(db.session.get(Referral, referral_id), ReferralStatus.ACCEPTED,
                        actor=make.user(Role.CONNECTOR, team=practice.team))
    db.session.commit()
    after = api.get(task_url.removeprefix("http://localhost")).json
    assert after["status"] == "accepted"
    assert after["businessStatus"]["coding"][0]["code"] == "accepted"
    assert int(after["meta"]["versionId"]) > int(before["meta"]["versionId"])


def test_the_answer_is_a_transaction_response_with_one_entry_per_entry_in_order(api, make):
    bundle = payloads.transaction(make.nhs_number())
    response = api.post("", bundle)
    assert response.status_code == 200
    body = response.json
    assert body["type"] == "transaction-response"
    assert len(body["entry"]) == len(bundle["entry"])
    for sent, answer in zip(bundle["entry"], body["entry"], strict=True):
        kind = sent["resource"]["resourceType"]
        assert answer["response"]["status"].split()[0] in ("200", "201")
        if kind in ("ServiceRequest", "Patient", "Consent", "Organization"):
            assert answer["response"]["location"].startswith(f"{kind}/")
            assert answer["fullUrl"].startswith(f"http://localhost/fhir/{kind}/")
        else:  # Practitioner(Role): no resource of its own, said so in an outcome
            assert answer["response"]["outcome"]["resourceType"] == "OperationOutcome"


def test_the_service_request_is_created_at_version_1(api, make):
    entries = api.post("", payloads.transaction(make.nhs_number())).json["entry"]
    (sr,) = [e for e in entries if e.get("resource", {}).get("resourceType") == "ServiceRequest"]
    assert sr["response"]["status"] == "201 Created"
    assert sr["response"]["location"].endswith("/_history/1")
    assert sr["response"]["etag"] == 'W/"1"'
    assert sr["resource"]["status"] == "active"


def test_urn_uuid_references_are_resolved_to_the_practice_clinician_and_consent(
        api, db, make, practice):
    bundle = payloads.transaction(make.nhs_number())
    referral = stored(db, api.post("", bundle))
    assert referral.practice_id == practice.id
    assert referral.referrer_name == "Dr Sam Jones"
    assert referral.referrer_identifier == "https://fhir.hl7.org.uk/Id/gmc-number|G1234567"
    assert referral.consent_at.isoformat() == "2024-05-01T09:30:00+00:00"
    assert (referral.status, referral.source) == (ReferralStatus.RECEIVED, "fhir")
    assert referral.api_client.name == "Test GP system"
    assert [r.code for r in referral.reasons] == ["loneliness"]
    assert referral.what_matters == "Loves gardening"


def test_a_patient_already_known_by_nhs_number_is_matched_not_duplicated(api, db, make, practice):
    earlier = make.referral(practice, status=ReferralStatus.COMPLETED)
    patient_id, nhs_number = earlier.patient_id, earlier.patient.nhs_number
    db.session.commit()
    response = api.post("", payloads.transaction(nhs_number))
    assert response.status_code == 200
    (patient_entry,) = [e for e in response.json["entry"]
                        if e["response"].get("location", "").startswith("Patient/")]
    assert patient_entry["response"]["status"] == "200 OK"
    assert patient_entry["resource"]["id"] == str(patient_id)
    assert db.session.scalar(select(func.count(Patient.id)).where(
        Patient.nhs_number == nhs_number)) == 1


def test_a_new_patient_is_created(api, make):
    response = api.post("", payloads.transaction(make.nhs_number()))
    (patient_entry,) = [e for e in response.json["entry"]
                        if e["response"].get("location", "").startswith("Patient/")]
    assert patient_entry["response"]["status"] == "201 Created"


def test_a_bundle_reusing_the_nhs_number_of_someone_with_an_open_referral_is_a_409(
        api, db, make, practice):
    open_referral = make.referral(practice)
    nhs_number, reference = open_referral.patient.nhs_number, open_referral.reference
    db.session.commit()
    before = referral_count(db)
    response = api.post("", payloads.transaction(nhs_number))
    assert response.status_code == 409
    (issue,) = response.json["issue"]
    assert issue["code"] == "duplicate"
    assert reference in issue["diagnostics"]  # the client's own practice: say which one
    assert referral_count(db) == before


def test_a_bundle_must_be_a_transaction(api, make):
    for kind in ("collection", "batch", "bogus"):
        bundle = payloads.transaction(make.nhs_number())
        bundle["type"] = kind
        response = api.post("", bundle)
        assert response.status_code == 400, kind
        assert response.json["issue"][0]["expression"] == ["Bundle.type"]


def test_every_entry_needs_a_request(api, make):
    bundle = payloads.transaction(make.nhs_number())
    del bundle["entry"][2]["request"]
    response = api.post("", bundle)
    assert response.status_code == 400
    assert "bdl-3" in response.json["issue"][0]["diagnostics"]


def test_entries_may_only_be_created_or_updated(api, make):
    bundle = payloads.transaction(make.nhs_number())
    bundle["entry"][0]["request"]["method"] = "DELETE"
    response = api.post("", bundle)
    assert response.status_code == 400
    assert response.json["issue"][0]["expression"] == ["Bundle.entry[0].request.method"]


def test_a_bundle_holds_exactly_one_service_request(api, db, make):
    without = payloads.without(payloads.transaction(make.nhs_number()), "ServiceRequest")
    assert api.post("", without).status_code == 422
    doubled = payloads.transaction(make.nhs_number())
    doubled["entry"].append(doubled["entry"][-1])
    assert api.post("", doubled).status_code == 422
    assert referral_count(db) == 0


def test_a_resource_a_referral_does_not_use_is_refused(api, make):
    bundle = payloads.transaction(make.nhs_number())
    bundle["entry"].append({"fullUrl": payloads.urn(), "request": {"method": "POST",
                                                                   "url": "Observation"},
                            "resource": {"resourceType": "Observation", "status": "final",
                                         "code": {"text": "mood"}}})
    response = api.post("", bundle)
    assert response.status_code == 400
    assert "Observation" in response.json["issue"][0]["diagnostics"]


def test_the_subject_must_be_the_patient_in_the_bundle(api, db, make):
    bundle = payloads.transaction(make.nhs_number())
    payloads.entry(bundle, "ServiceRequest")["subject"] = {"reference": payloads.urn()}
    response = api.post("", bundle)
    assert response.status_code == 422
    assert response.json["issue"][0]["expression"] == ["ServiceRequest.subject"]
    assert referral_count(db) == 0


def test_a_client_with_two_practices_refers_for_the_patients_registered_gp(
        client, db, make, practice, other_practice):
    _, token = create_api_client("Federation gateway", [practice, other_practice], actor=None)
    db.session.commit()
    bundle = payloads.without(payloads.without(
        payloads.transaction(make.nhs_number(), ods_code="B67890"), "PractitionerRole"),
        "Organization")
    payloads.entry(bundle, "ServiceRequest").pop("requester")
    response = Api(client, token).post("", bundle)
    assert response.status_code == 200
    assert stored(db, response).practice_id == other_practice.id
