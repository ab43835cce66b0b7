"""QuestionnaireResponse: one outcome measurement, its answers in the instrument's order,
never the wording of a licensed instrument that is not configured."""
from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from fhir_adapters import questionnaireresponse as qr_map
from referrals.models import (
    CompletionMode,
    LetterTrigger,
    Measurement,
    OutcomeLetter,
    ReferralStatus,
    Role,
    Timepoint,
)
from referrals.outcomes import instruments
from tests.fhir_adapters import validators

ONS4_ANSWERS = {"life_satisfaction": 6, "worthwhile": 7, "happy": 5, "anxious": 4}
ONS4_SCORES = {"life_satisfaction": 6, "worthwhile": 7, "happiness": 5, "anxiety": 4}


def measurement(session, referral, instrument: str = "ons4", *, answers=None, scores=None,
                timepoint=Timepoint.BASELINE, mode=CompletionMode.ASSISTED,
                completed_on=date(2024, 3, 1), recorded_by=None,
                recorded_at=datetime(2024, 3, 1, 15, 30, tzinfo=UTC),
                version="1") -> Measurement:
    """A stored measurement (the FHIR tests build it directly, not through scoring)."""
    made = Measurement(referral_id=referral.id, instrument=instrument,
                       instrument_version=version, timepoint=timepoint, mode=mode,
                       completed_on=completed_on,
                       answers=dict(ONS4_ANSWERS if answers is None else answers),
                       scores=dict(ONS4_SCORES if scores is None else scores),
                       recorded_by=recorded_by, recorded_at=recorded_at)
    session.add(made)
    session.flush()
    session.expire(referral, ["measurements"])
    return made


def letter(session, referral, *, pdf: bytes = b"%PDF-1.4 fake letter\n%%EOF\n",
           created_at=datetime(2024, 4, 1, 9, 0, tzinfo=UTC), created_by=None,
           trigger=LetterTrigger.COMPLETED) -> OutcomeLetter:
    """The next stored version of the referral's outcome letter."""
    session.expire(referral, ["letters"])
    made = OutcomeLetter(referral_id=referral.id, practice_id=referral.practice_id,
                         number=len(referral.letters) + 1, trigger=trigger,
                         created_at=created_at, created_by=created_by,
                         sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf), pages=1,
                         pdf=pdf)
    session.add(made)
    session.flush()
    session.expire(referral, ["letters"])
    return made


def valid(resource: dict) -> dict:
    QuestionnaireResponse.model_validate(resource)
    validators.validate_independently(resource)
    return resource


@pytest.fixture
def referral(make, practice):
    return make.referral(practice, status=ReferralStatus.IN_PROGRESS)


def test_a_measurement_is_a_completed_response_to_its_versioned_questionnaire(db, referral):
    made = measurement(db.session, referral)
    resource = valid(qr_map.to_fhir(made, referral, instruments.get("ons4")))
    assert resource["id"] == str(made.id)
    assert resource["status"] == "completed"
    assert resource["questionnaire"] == "https://kindly.example/fhir/Questionnaire/ons4|1"
    assert resource["basedOn"] == [{"reference": f"ServiceRequest/{referral.id}",
                                    "display": referral.reference}]
    assert resource["subject"]["reference"] == f"Patient/{referral.patient_id}"
    assert resource["authored"] == "2024-03-01"
    assert resource["meta"] == {"versionId": "1", "lastUpdated": "2024-03-01T15:30:00Z"}
    assert resource["extension"] == [{
        "url": "https://kindly.example/fhir/StructureDefinition/outcome-timepoint",
        "valueCode": "baseline"}]


def test_items_follow_the_instrument_with_their_wording_and_integer_answers(db, referral):
    made = measurement(db.session, referral, answers={"anxious": 4, "happy": 5,
                                                       "worthwhile": 7,
                                                       "life_satisfaction": 6})
    items = qr_map.to_fhir(made, referral, instruments.get("ons4"))["item"]
    assert [i["linkId"] for i in items] == ["life_satisfaction", "worthwhile", "happy",
                                            "anxious"]
    assert items[0]["text"] == "Overall, how satisfied are you with your life nowadays?"
    assert items[0]["answer"] == [{"valueInteger": 6}]


def test_a_skipped_item_is_there_without_an_answer(db, referral):
    made = measurement(db.session, referral, answers={**ONS4_ANSWERS, "happy": None},
                       scores={**ONS4_SCORES, "happiness": None})
    items = valid(qr_map.to_fhir(made, referral, instruments.get("ons4")))["item"]
    (happy,) = [i for i in items if i["linkId"] == "happy"]
    assert "answer" not in happy


def test_the_wording_of_an_unlicensed_instrument_is_never_sent(db, referral):
    swemwbs = instruments.get("swemwbs")
    assert not swemwbs.configured
    answers = {item.id: 3 for item in swemwbs.items}
    made = measurement(db.session, referral, "swemwbs", answers=answers,
                       scores={"raw": 21, "metric": 19.25})
    items = valid(qr_map.to_fhir(made, referral, swemwbs))["item"]
    assert [i["linkId"] for i in items] == [item.id for item in swemwbs.items]
    assert all("text" not in i for i in items)


def test_an_instrument_no_longer_defined_still_maps_its_answers_as_stored(db, referral):
    made = measurement(db.session, referral, "retired", answers={"q2": 1, "q1": None},
                       scores={"total": 1}, version="")
    resource = valid(qr_map.to_fhir(made, referral, None))
    assert resource["questionnaire"] == "https://kindly.example/fhir/Questionnaire/retired"
    assert resource["item"] == [{"linkId": "q2", "answer": [{"valueInteger": 1}]},
                                {"linkId": "q1"}]


def test_the_person_is_the_source_only_when_they_answered_themselves(db, make, referral,
                                                                     practice):
    connector = make.user(Role.CONNECTOR, team=practice.team)
    assisted = measurement(db.session, referral, recorded_by=connector)
    own = measurement(db.session, referral, mode=CompletionMode.SELF, recorded_by=connector)
    assisted_fhir = valid(qr_map.to_fhir(assisted, referral, None))
    own_fhir = valid(qr_map.to_fhir(own, referral, None))
    assert "source" not in assisted_fhir
    assert own_fhir["source"]["reference"] == f"Patient/{referral.patient_id}"
    for resource in (assisted_fhir, own_fhir):
        assert resource["author"] == {"reference": f"PractitionerRole/pr-{connector.id}",
                                      "display": connector.name}


def test_a_measurement_nobody_is_named_for_has_no_author(db, referral):
    assert "author" not in valid(qr_map.to_fhir(measurement(db.session, referral),
                                                referral, None))
