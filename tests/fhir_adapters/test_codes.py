"""Our code lists: fhir.resources checks structure but not codes, so we must."""
from __future__ import annotations

import pytest
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest

from fhir_adapters import codes
from fhir_adapters.errors import BusinessRule, FhirError
from fhir_adapters.intake import check_service_request_codes, person_from_patient
from referrals.models import ReferralStatus
from tests.fhir_adapters import payloads

# FHIR R4 value sets, written out from the specification (not from fhir.resources,
# whose Task.status enum is truncated).
R4_TASK_STATUS = {
    "draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
    "in-progress", "on-hold", "failed", "completed", "entered-in-error",
}
R4_REQUEST_STATUS = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error",
                     "unknown"}
R4_REQUEST_INTENT = {"proposal", "plan", "directive", "order", "original-order", "reflex-order",
                     "filler-order", "instance-order", "option"}
R4_ADMINISTRATIVE_GENDER = {"male", "female", "other", "unknown"}


def test_task_status_holds_exactly_the_twelve_fhir_task_status_codes():
    assert codes.TASK_STATUSES == R4_TASK_STATUS


def test_a_referral_task_never_uses_ready_or_received():
    assert codes.REFERRAL_TASK_STATUSES == R4_TASK_STATUS - {"ready", "received"}
    assert {task for task, _, _, _ in codes.STATUS_MAP.values()} <= codes.REFERRAL_TASK_STATUSES


def test_service_request_status_and_intent_are_exactly_the_fhir_value_sets():
    assert codes.SERVICE_REQUEST_STATUSES == R4_REQUEST_STATUS
    assert codes.SERVICE_REQUEST_INTENTS == R4_REQUEST_INTENT
    assert codes.GENDERS == R4_ADMINISTRATIVE_GENDER


def test_every_referral_status_has_a_fhir_mapping():
    assert set(codes.STATUS_MAP) == set(ReferralStatus)


def test_business_status_tells_every_referral_status_apart():
    business = [code for _, code, _, _ in codes.STATUS_MAP.values()]
    assert len(set(business)) == len(ReferralStatus)
    assert codes.BUSINESS_STATUSES == set(business)


def test_every_mapped_service_request_status_is_a_fhir_request_status():
    assert {sr for _, _, _, sr in codes.STATUS_MAP.values()} <= R4_REQUEST_STATUS


def sent(**changes) -> dict:
    resource = payloads.service_request({"reference": "Patient/1"}, consent_ref="Consent/1")
    resource.update(changes)
    return resource


@pytest.mark.parametrize("element, value", [
    ("intent", "banana"),
    ("status", "open"),
    ("priority", "whenever"),
])
def test_codes_fhir_resources_lets_through_are_refused_by_us(element, value):
    # The model alone accepts the bad code; that is why we check.
    ServiceRequest.model_validate(sent(**{element: value}))
    with pytest.raises(FhirError) as caught:
        check_service_request_codes(sent(**{element: value}))
    assert caught.value.status == 400
    assert caught.value.code == "code-invalid"
    assert caught.value.expression == [f"ServiceRequest.{element}"]


@pytest.mark.parametrize("element, value", [("status", "draft"), ("intent", "proposal")])
def test_a_new_referral_must_be_an_active_order_or_plan(element, value):
    with pytest.raises(BusinessRule) as caught:
        check_service_request_codes(sent(**{element: value}))
    assert caught.value.expression == [f"ServiceRequest.{element}"]


@pytest.mark.parametrize("intent", ["order", "original-order", "plan"])
def test_a_referral_may_be_an_order_as_gravity_or_a_plan_as_bars(intent):
    check_service_request_codes(sent(intent=intent))


@pytest.mark.parametrize("element, value", [
    ("subject", {"reference": "Practitioner/1"}),
    ("subject", {"reference": "https://elsewhere.example/fhir/Group/7"}),
    ("requester", {"reference": "Patient/1"}),
    ("performer", [{"reference": "Patient/1"}]),
    ("supportingInfo", [{"reference": "Practitioner/1"}]),
])
def test_a_reference_to_the_wrong_type_of_resource_is_refused(element, value):
    ServiceRequest.model_validate(sent(**{element: value}))  # the model does not check
    with pytest.raises(BusinessRule) as caught:
        check_service_request_codes(sent(**{element: value}))
    assert caught.value.expression == [f"ServiceRequest.{element}"]


def test_references_to_the_right_types_are_accepted():
    check_service_request_codes(sent(
        subject={"reference": "Patient/1"},
        requester={"reference": "PractitionerRole/2"},
        performer=[{"reference": "Organization/3"}, {"reference": "HealthcareService/4"}],
        supportingInfo=[{"reference": "Consent/5"}],
    ))


@pytest.mark.parametrize("gender", ["F", "M", "Female", "x"])
def test_a_gender_outside_fhir_administrative_gender_is_refused(gender):
    resource = payloads.patient("9990000018", gender=gender)
    Patient.model_validate(resource)  # the model does not check
    with pytest.raises(FhirError) as caught:
        person_from_patient(resource)
    assert caught.value.code == "code-invalid"
    assert caught.value.expression == ["Patient.gender"]
