"""ServiceRequest mapper: the referral itself, and the round trip back to intake."""
from __future__ import annotations

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from fhir_adapters import servicerequest as sr_map
from referrals import workflow
from referrals.intake.service import ReasonEntry, create_referral
from referrals.models import ReferralStatus, Role, Urgency
from tests.builders import PATH_TO
from tests.fhir_adapters import payloads

S = ReferralStatus
SNOMED = "http://snomed.info/sct"

# fhir-mapping.md §6.3, last column: the requester's view of the referral.
SERVICE_REQUEST_STATUS = {
    S.RECEIVED: "active",
    S.ACCEPTED: "active",
    S.IN_PROGRESS: "active",
    S.COMPLETED: "completed",
    S.REJECTED: "revoked",
    S.CANCELLED: "revoked",
    S.DECLINED: "revoked",
    S.UNABLE_TO_CONTACT: "revoked",
}


def test_the_status_table_covers_every_referral_status():
    assert set(SERVICE_REQUEST_STATUS) == set(ReferralStatus)


@pytest.fixture
def referrer(make, practice):
    return make.user(Role.REFERRER, practice=practice, name="Dr Sam Jones")


@pytest.fixture
def referral(make, practice, referrer):
    return make.referral(
        practice, referrer=referrer, urgency=Urgency.URGENT,
        reasons=[ReasonEntry("loneliness"), ReasonEntry("other", "Caring for a parent")],
        what_matters="Getting back to the allotment", no_known_risks=False,
        risks=["Lives alone", "Dog in the house"],
    )


def test_to_fhir_is_a_valid_r4b_service_request(referral):
    ServiceRequest.model_validate(sr_map.to_fhir(referral))


@pytest.mark.parametrize("status", list(ReferralStatus))
def test_service_request_status_follows_the_mapping_table(make, practice, referrer, status):
    referral = make.referral(practice, referrer=referrer)
    for step in PATH_TO[status]:
        workflow.transition(referral, step, actor=referrer, reason="a reason")
    resource = sr_map.to_fhir(referral)
    ServiceRequest.model_validate(resource)
    assert resource["status"] == SERVICE_REQUEST_STATUS[status]


def test_to_fhir_is_a_social_prescribing_referral_order(referral):
    resource = sr_map.to_fhir(referral)
    assert resource["intent"] == "order"
    assert resource["code"]["coding"] == [{"system": SNOMED, "code": "871731000000106",
                                           "display": "Referral to social prescribing service"}]
    assert resource["category"][0]["coding"][0]["code"] == "410606002"
    assert resource["priority"] == "urgent"


def test_to_fhir_identifies_the_referral_its_person_and_its_consent(referral):
    resource = sr_map.to_fhir(referral)
    assert resource["id"] == str(referral.id)
    assert resource["identifier"] == [{"system": "https://kindly.example/fhir/Id/referral",
                                       "value": referral.reference}]
    assert resource["subject"]["reference"] == f"Patient/{referral.patient.id}"
    assert resource["subject"]["identifier"] == {"system": "https://fhir.nhs.uk/Id/nhs-number",
                                                 "value": referral.patient.nhs_number}
    assert resource["supportingInfo"] == [{"reference": f"Consent/c-{referral.id}"}]


def test_to_fhir_names_the_referrer_and_the_connector_team(referral, referrer, practice):
    resource = sr_map.to_fhir(referral)
    assert resource["requester"]["reference"] == f"PractitionerRole/pr-{referrer.id}"
    assert resource["performer"] == [{"reference": f"Organization/team-{practice.team.id}",
                                      "display": practice.team.name}]


def test_a_gp_systems_clinician_without_an_account_is_named_on_the_practice(make, practice):
    referral = create_referral(make.intake(practice, referrer_name="Dr Who"), actor=None)
    requester = sr_map.to_fhir(referral)["requester"]
    assert requester["reference"] == f"Organization/p-{practice.id}"
    assert requester["display"] == f"Dr Who, {practice.name}"


def test_to_fhir_carries_version_and_times(referral, referrer):
    before = sr_map.to_fhir(referral)
    assert before["meta"]["versionId"] == "1"
    assert before["authoredOn"].endswith("Z")
    workflow.transition(referral, S.ACCEPTED, actor=referrer)
    assert sr_map.to_fhir(referral)["meta"]["versionId"] == "2"


def test_round_trip_gives_back_the_referral_fields(referral):
    back = sr_map.from_fhir(sr_map.to_fhir(referral))
    assert back == {
        "status": "active",
        "intent": "order",
        "priority": "urgent",
        "reasons": [{"code": "loneliness", "detail": ""},
                    {"code": "other", "detail": "Caring for a parent"}],
        "what_matters": "Getting back to the allotment",
        "risks": ["Lives alone", "Dog in the house"],
        "no_known_risks": False,
    }


def test_round_trip_keeps_no_known_risks(make, practice, referrer):
    referral = make.referral(practice, referrer=referrer)
    back = sr_map.from_fhir(sr_map.to_fhir(referral))
    assert (back["risks"], back["no_known_risks"]) == ([], True)


def test_from_fhir_keeps_an_uncoded_reason_as_other_with_its_words():
    resource = payloads.service_request({"reference": "Patient/1"}, reasonCode=[
        {"text": "Recently widowed"},
        {"coding": [{"system": SNOMED, "code": "422650009", "display": "Social isolation"}]},
    ])
    assert sr_map.from_fhir(resource)["reasons"] == [
        {"code": "other", "detail": "Recently widowed"},
        {"code": "other", "detail": "Social isolation"},
    ]


def test_from_fhir_of_a_request_without_reasons_gives_none_for_intake_to_refuse():
    resource = payloads.service_request({"reference": "Patient/1"})
    del resource["reasonCode"]
    assert sr_map.from_fhir(resource)["reasons"] == []


def test_from_fhir_joins_several_notes_into_what_matters():
    resource = payloads.service_request({"reference": "Patient/1"},
                                        note=[{"text": "Gardening"}, {"text": "Choir"}])
    assert sr_map.from_fhir(resource)["what_matters"] == "Gardening\n\nChoir"
