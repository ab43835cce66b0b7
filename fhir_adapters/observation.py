"""Observation: one score of one outcome measurement (ONS4 has four, UCLA-3 one, …).

| Measurement score | Observation |
|---|---|
| measurement id + score id | id `<measurement id>-<score id>` (characters FHIR ids refuse become `-`) |
| (immutable) | status `final`; meta.versionId "1", meta.lastUpdated = recorded_at |
| (fixed) | category observation-category `survey` |
| instrument + score id | code in `https://kindly.example/fhir/CodeSystem/outcome-score`, code `<instrument>-<score id>`, display = instrument name and score label |
| referral | basedOn -> ServiceRequest; subject -> its Patient |
| completed_on, recorded_at | effectiveDateTime (the day answered), issued |
| recorded_by | performer -> PractitionerRole/pr-<id> |
| value | valueQuantity {value, unit "score", UCUM `{score}`}: one type for every score, whole (ONS4 items, UCLA total) or not (the SWEMWBS metric score) |
| None (a skipped item left it unscorable) | dataAbsentReason `asked-declined` |
| the measurement | derivedFrom -> QuestionnaireResponse/<measurement id> |
| timepoint | extension outcome-timepoint |

No LOINC or SNOMED codes: none has been verified for these instruments.
"""
from __future__ import annotations

import re

from fhir_adapters import codes
from fhir_adapters.common import concept, fhir_date, instant, reference
from fhir_adapters.patient import patient_reference
from fhir_adapters.questionnaireresponse import TIMEPOINT_EXT, immutable_meta, recorder
from referrals.models import Measurement, Referral

OUTCOME_SCORE = f"{codes.KINDLY}/CodeSystem/outcome-score"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
UCUM = "http://unitsofmeasure.org"
_NOT_ID = re.compile(r"[^A-Za-z0-9.\-]")
MAX_ID = 64


def score_part(measurement_id: int, score_id: str) -> str:
    """The score's part of the Observation id: FHIR ids are [A-Za-z0-9-.]{1,64}."""
    return _NOT_ID.sub("-", str(score_id))[: MAX_ID - len(str(measurement_id)) - 1]


def observation_id(measurement: Measurement, score_id: str) -> str:
    return f"{measurement.id}-{score_part(measurement.id, score_id)}"


def split_id(text: str) -> tuple[str, str] | None:
    """'12-total' -> ('12', 'total'); None when it cannot be one of ours."""
    measurement_id, dash, part = text.partition("-")
    return (measurement_id, part) if dash and part else None


def score_for(measurement: Measurement, part: str) -> str | None:
    """The score id whose Observation id part is `part`."""
    return next((s for s in (measurement.scores or {})
                 if score_part(measurement.id, s) == part), None)


def score_code(measurement: Measurement, score_id: str) -> str:
    return f"{measurement.instrument}-{score_id}"


def score_label(measurement: Measurement, score_id: str, instrument=None) -> str:
    rule = next((r for r in instrument.scores if r.id == score_id), None) \
        if instrument is not None else None
    name = instrument.name if instrument is not None else measurement.instrument
    return f"{name}: {rule.label if rule is not None else score_id}"


def to_fhir(measurement: Measurement, score_id: str, referral: Referral,
            instrument=None) -> dict:
    """`instrument` (referrals.outcomes.instruments.Instrument), when known, names the
    score; without it the code's display is the instrument code and score id."""
    label = score_label(measurement, score_id, instrument)
    resource = {
        "resourceType": "Observation",
        "id": observation_id(measurement, score_id),
        "meta": immutable_meta(measurement.recorded_at),
        "extension": [{"url": TIMEPOINT_EXT, "valueCode": measurement.timepoint.value}],
        "basedOn": [reference("ServiceRequest", referral.id, referral.reference)],
        "status": "final",
        "category": [concept(OBSERVATION_CATEGORY, "survey", "Survey")],
        "code": concept(OUTCOME_SCORE, score_code(measurement, score_id), label, text=label),
        "subject": patient_reference(referral.patient),
        "effectiveDateTime": fhir_date(measurement.completed_on),
        "issued": instant(measurement.recorded_at),
    }
    if (performer := recorder(measurement)) is not None:
        resource["performer"] = [performer]
    value = (measurement.scores or {}).get(score_id)
    if value is None:
        resource["dataAbsentReason"] = concept(DATA_ABSENT_REASON, "asked-declined",
                                               "Asked But Declined")
    else:
        number = int(value) if float(value).is_integer() else float(value)
        resource["valueQuantity"] = {"value": number, "unit": "score", "system": UCUM,
                                     "code": "{score}"}
    resource["derivedFrom"] = [reference("QuestionnaireResponse", measurement.id)]
    return resource
