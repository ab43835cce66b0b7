"""Observation: one per score of a measurement, in a local code system, derived from the
measurement's QuestionnaireResponse."""
from __future__ import annotations

import re

import pytest
from fhir.resources.R4B.observation import Observation

from fhir_adapters import observation as observation_map
from referrals.models import Measurement, ReferralStatus
from referrals.outcomes import instruments
from tests.fhir_adapters import validators
from tests.fhir_adapters.test_questionnaireresponse import measurement

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
SCORE_SYSTEM = "https://kindly.example/fhir/CodeSystem/outcome-score"


def valid(resource: dict) -> dict:
    Observation.model_validate(resource)
    validators.validate_independently(resource)
    return resource


@pytest.fixture
def referral(make, practice):
    return make.referral(practice, status=ReferralStatus.IN_PROGRESS)


def test_a_score_is_a_final_survey_observation_based_on_the_referral(db, referral):
    made = measurement(db.session, referral)
    resource = valid(observation_map.to_fhir(made, "happiness", referral,
                                             instruments.get("ons4")))
    assert resource["id"] == f"{made.id}-happiness"
    assert resource["status"] == "final"
    assert resource["category"][0]["coding"][0]["code"] == "survey"
    assert resource["code"] == {
        "coding": [{"system": SCORE_SYSTEM, "code": "ons4-happiness",
                    "display": "ONS personal wellbeing (ONS4): Happiness"}],
        "text": "ONS personal wellbeing (ONS4): Happiness"}
    assert resource["basedOn"][0]["reference"] == f"ServiceRequest/{referral.id}"
    assert resource["subject"]["reference"] == f"Patient/{referral.patient_id}"
    assert resource["effectiveDateTime"] == "2024-03-01"
    assert resource["valueQuantity"] == {"value": 5, "unit": "score",
                                         "system": "http://unitsofmeasure.org",
                                         "code": "{score}"}
    assert resource["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{made.id}"}]


def test_score_ids_that_fhir_ids_refuse_are_made_safe_and_found_again(db, referral):
    made = measurement(db.session, referral)
    ident = observation_map.observation_id(made, "life_satisfaction")
    assert ident == f"{made.id}-life-satisfaction"
    measurement_id, part = observation_map.split_id(ident)
    assert measurement_id == str(made.id)
    assert observation_map.score_for(made, part) == "life_satisfaction"
    assert observation_map.score_for(made, "nonsense") is None
    assert valid(observation_map.to_fhir(made, "life_satisfaction", referral))["code"][
        "coding"][0]["code"] == "ons4-life_satisfaction"


def test_every_built_in_score_makes_a_valid_observation_id(db):
    longest = Measurement(id=2**31 - 1)  # the longest id a measurement can have
    for instrument in instruments.instruments().values():
        for rule in instrument.scores:
            assert FHIR_ID.fullmatch(observation_map.observation_id(longest, rule.id)), rule.id


def test_a_score_a_skipped_item_left_unscorable_says_why_it_is_absent(db, referral):
    made = measurement(db.session, referral, scores={"happiness": None})
    resource = valid(observation_map.to_fhir(made, "happiness", referral))
    assert "valueQuantity" not in resource
    assert resource["dataAbsentReason"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
        "code": "asked-declined", "display": "Asked But Declined"}


def test_the_swemwbs_metric_score_keeps_its_decimals(db, referral):
    made = measurement(db.session, referral, "swemwbs", answers={},
                       scores={"raw": 21, "metric": 19.25})
    swemwbs = instruments.get("swemwbs")
    assert valid(observation_map.to_fhir(made, "metric", referral, swemwbs))[
        "valueQuantity"]["value"] == 19.25
    assert valid(observation_map.to_fhir(made, "raw", referral, swemwbs))[
        "valueQuantity"]["value"] == 21


def test_without_its_definition_a_score_is_named_by_its_codes(db, referral):
    made = measurement(db.session, referral, "retired", scores={"total": 3})
    resource = valid(observation_map.to_fhir(made, "total", referral, None))
    assert resource["code"]["coding"][0]["display"] == "retired: total"
