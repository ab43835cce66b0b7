"""Consent mapper (SDOHCC pattern): the person's agreement, and the round trip to intake."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.consent import Consent

from fhir_adapters import consent as consent_map
from referrals.intake.service import ConsentRecord
from referrals.models import ConsentGivenBy, ConsentMethod
from tests.fhir_adapters import payloads

WHEN = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def referral(make, practice):
    return make.referral(practice, consent=ConsentRecord(
        given=True, given_by=ConsentGivenBy.PERSON, method=ConsentMethod.VERBAL_PHONE, at=WHEN))


def test_to_fhir_is_a_valid_r4b_consent(referral):
    Consent.model_validate(consent_map.to_fhir(referral))


def test_to_fhir_follows_the_sdohcc_consent_pattern(referral, practice):
    resource = consent_map.to_fhir(referral)
    assert resource["id"] == f"c-{referral.id}"
    assert resource["status"] == "active"
    assert resource["category"][0]["coding"][0]["code"] == "IDSCL"
    assert resource["scope"]["coding"][0]["code"] == "patient-privacy"
    assert resource["patient"]["reference"] == f"Patient/{referral.patient.id}"
    assert resource["organization"][0]["reference"] == f"Organization/p-{practice.id}"
    assert resource["dateTime"] == "2024-05-01T09:30:00Z"
    assert resource["policyRule"]["text"]  # ppc-1: a policy or a policy rule


def test_round_trip_gives_back_who_agreed_how_and_when(referral):
    assert consent_map.from_fhir(consent_map.to_fhir(referral)) == {
        "given": True, "given_by": ConsentGivenBy.PERSON,
        "method": ConsentMethod.VERBAL_PHONE, "at": WHEN}


def test_round_trip_of_consent_given_by_a_representative(make, practice):
    referral = make.referral(practice, consent=ConsentRecord(
        given=True, given_by=ConsentGivenBy.REPRESENTATIVE, method=ConsentMethod.WRITTEN,
        at=WHEN))
    resource = consent_map.to_fhir(referral)
    Consent.model_validate(resource)
    back = consent_map.from_fhir(resource)
    assert (back["given_by"], back["method"]) == (ConsentGivenBy.REPRESENTATIVE,
                                                  ConsentMethod.WRITTEN)


@pytest.mark.parametrize("change", [
    {"status": "rejected"},
    {"status": "inactive"},
    {"provision": {"type": "deny"}},
])
def test_a_consent_that_is_not_active_and_permitting_is_not_consent(change):
    resource = {**payloads.consent({"reference": "Patient/1"}), **change}
    assert consent_map.from_fhir(resource)["given"] is False


def test_a_gp_systems_consent_defaults_to_the_person_in_person():
    back = consent_map.from_fhir(payloads.consent({"reference": "Patient/1"}))
    assert back == {"given": True, "given_by": ConsentGivenBy.PERSON,
                    "method": ConsentMethod.VERBAL_IN_PERSON, "at": WHEN}


@pytest.mark.parametrize("when", [None, "2024-05-01", "yesterday", "2024-05-01T09:30:00"])
def test_a_consent_time_without_a_zone_is_left_for_intake_to_fill(when):
    resource = payloads.consent({"reference": "Patient/1"})
    resource["dateTime"] = when
    assert consent_map.from_fhir(resource)["at"] is None
