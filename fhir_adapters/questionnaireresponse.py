"""QuestionnaireResponse: one completion of an outcome instrument (a Measurement).

| Measurement | QuestionnaireResponse |
|---|---|
| id | id |
| (immutable) | status `completed`; meta.versionId "1", meta.lastUpdated = recorded_at |
| instrument, instrument_version | questionnaire = canonical .../Questionnaire/<code>|<version> |
| referral | basedOn -> ServiceRequest/<referral id>; subject -> its Patient |
| completed_on | authored (a date: the day the person answered) |
| recorded_by | author -> PractitionerRole/pr-<id> (as Task.owner names a connector) |
| mode self | source -> the Patient (they answered themselves) |
| timepoint | extension outcome-timepoint (valueCode baseline / follow-up / closing) |
| answers | item[linkId = item id, text when the wording is configured, answer.valueInteger]; a skipped item has no answer |

The wording of a licensed instrument that is not configured (SWEMWBS without the
organisation's licensed file) is never sent: its items carry only their linkId.
"""
from __future__ import annotations

from fhir_adapters import codes
from fhir_adapters.common import fhir_date, instant, reference
from fhir_adapters.patient import patient_reference
from fhir_adapters.practitioner import role_id
from referrals.models import CompletionMode, Measurement, Referral

QUESTIONNAIRE_BASE = f"{codes.KINDLY}/Questionnaire"
TIMEPOINT_EXT = f"{codes.KINDLY}/StructureDefinition/outcome-timepoint"


def questionnaire_url(measurement: Measurement) -> str:
    url = f"{QUESTIONNAIRE_BASE}/{measurement.instrument}"
    return f"{url}|{measurement.instrument_version}" if measurement.instrument_version else url


def immutable_meta(moment) -> dict:
    """Measurements (and letters) never change once stored: always version 1."""
    return {"versionId": "1", "lastUpdated": instant(moment)}


def recorder(measurement: Measurement) -> dict | None:
    user = measurement.recorded_by
    return reference("PractitionerRole", role_id(user), user.name) if user is not None else None


def to_fhir(measurement: Measurement, referral: Referral, instrument=None) -> dict:
    """`instrument` (referrals.outcomes.instruments.Instrument) gives the items' order and,
    when its wording is configured, their text; without it the answers go as they are."""
    resource = {
        "resourceType": "QuestionnaireResponse",
        "id": str(measurement.id),
        "meta": immutable_meta(measurement.recorded_at),
        "extension": [{"url": TIMEPOINT_EXT, "valueCode": measurement.timepoint.value}],
        "basedOn": [reference("ServiceRequest", referral.id, referral.reference)],
        "questionnaire": questionnaire_url(measurement),
        "status": "completed",
        "subject": patient_reference(referral.patient),
        "authored": fhir_date(measurement.completed_on),
    }
    if (author := recorder(measurement)) is not None:
        resource["author"] = author
    if measurement.mode is CompletionMode.SELF:
        resource["source"] = patient_reference(referral.patient)
    if items := _items(measurement.answers or {}, instrument):
        resource["item"] = items
    return resource


def _items(answers: dict, instrument) -> list[dict]:
    texts, order = {}, []
    if instrument is not None:
        order = [item.id for item in instrument.items]
        if instrument.configured:
            texts = {item.id: item.text for item in instrument.items}
    # The instrument's order first, then anything it no longer lists (an older version).
    ids = [i for i in order if i in answers] + [i for i in answers if i not in order]
    items = []
    for item_id in ids:
        item = {"linkId": str(item_id)}
        if texts.get(item_id):
            item["text"] = texts[item_id]
        value = answers[item_id]
        if value is not None:  # None: explicitly skipped, so no answer
            item["answer"] = [_answer(value)]
        items.append(item)
    return items


def _answer(value) -> dict:
    if isinstance(value, float) and not value.is_integer():
        return {"valueDecimal": value}
    return {"valueInteger": int(value)}
