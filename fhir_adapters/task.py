"""Task: the referral's workflow (one per referral, focus = the ServiceRequest)."""
from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from fhir_adapters import codes
from fhir_adapters import documentreference as letter_map
from fhir_adapters import observation as observation_map
from fhir_adapters.common import coding, concept, instant, meta, reference
from fhir_adapters.organization import team_id
from fhir_adapters.patient import patient_reference
from fhir_adapters.practitioner import role_id
from fhir_adapters.procedure import is_procedure, output_entry
from fhir_adapters.servicerequest import requester
from referrals import sharing
from referrals.models import Referral

# Task.output types for what is not a Procedure. SDOHCC 3.0.0's Task slices only
# `resulting-activity` (-> Procedure) and its temporary code system has no code for an
# assessment or a document, so these are Kindly's own (the output slicing is open).
TASK_OUTPUT = f"{codes.KINDLY}/CodeSystem/task-output"
MEASURE_OUTPUT = ("outcome-measure", "Outcome measure")
SCORE_OUTPUT = ("outcome-score", "Outcome score")
LETTER_OUTPUT = ("outcome-letter", "Outcome letter")


def task_id(referral: Referral) -> str:
    return f"t-{referral.id}"


UK = ZoneInfo("Europe/London")
# Gravity: statusReason.text is expected for these Task states.
NEEDS_REASON = frozenset({"rejected", "cancelled", "failed", "on-hold"})


def to_fhir(referral: Referral) -> dict:
    task_status, business, business_display, _ = codes.STATUS_MAP[referral.status]
    patient = referral.patient
    resource = {
        "resourceType": "Task",
        "id": task_id(referral),
        "meta": meta(referral.version, referral.updated_at),
        "identifier": [{"system": codes.REFERRAL_ID, "value": referral.reference}],
        "status": task_status,
        "businessStatus": {"coding": [coding(codes.BUSINESS_STATUS, business,
                                             business_display)]},
        "intent": "order",
        "priority": referral.urgency.value,
        "code": concept(codes.TASK_CODE, "fulfill", "Fulfill the focal request"),
        "focus": reference("ServiceRequest", referral.id, referral.reference),
        "for": patient_reference(patient),
        "authoredOn": instant(referral.created_at),
        "lastModified": instant(referral.updated_at),
        "requester": requester(referral),
    }
    if task_status in NEEDS_REASON:
        # The words of why (rejected, cancelled) go only where the person allows them.
        share = sharing.policy(referral, sharing.Audience.GP_SYSTEM)
        last = referral.events[-1] if referral.events else None
        reason = share.text(last, "reason") if last is not None \
            and last.to_status == referral.status else ""
        resource["statusReason"] = {"text": reason or business_display}
    if referral.first_contact_due is not None and referral.first_contact_at is None \
            and task_status in ("requested", "accepted"):
        # The first contact is due by the end of that working day, UK time.
        end = datetime.combine(referral.first_contact_due, time(23, 59, 59), UK)
        resource["restriction"] = {"period": {"end": instant(end)}}
    if referral.connector is not None:
        resource["owner"] = reference("PractitionerRole", role_id(referral.connector),
                                      referral.connector.name)
    elif referral.team is not None:
        resource["owner"] = reference("Organization", team_id(referral.team), referral.team.name)
    # Gravity closes the loop with the Procedures the work led to (attended or not).
    outputs = [output_entry(c) for c in referral.connections if is_procedure(c)]
    outputs += outcome_outputs(referral)
    if outputs:
        resource["output"] = outputs
    return resource


def outcome_outputs(referral: Referral) -> list[dict]:
    """Each measurement's QuestionnaireResponse and score Observations, then the current
    outcome letter's DocumentReference (earlier versions are reached by relatesTo)."""
    outputs = []
    for measurement in referral.measurements:
        when = f"{measurement.timepoint.label.lower()}, {measurement.completed_on.isoformat()}"
        outputs.append(_output(MEASURE_OUTPUT, reference(
            "QuestionnaireResponse", measurement.id, f"{measurement.instrument} {when}")))
        for score_id in measurement.scores or {}:
            outputs.append(_output(SCORE_OUTPUT, reference(
                "Observation", observation_map.observation_id(measurement, score_id),
                f"{observation_map.score_code(measurement, score_id)} {when}")))
    if referral.letters:
        latest = max(referral.letters, key=lambda letter: letter.number)
        outputs.append(_output(LETTER_OUTPUT, reference(
            "DocumentReference", latest.id, letter_map.title(latest, referral))))
    return outputs


def _output(kind: tuple[str, str], value: dict) -> dict:
    return {"type": concept(TASK_OUTPUT, *kind), "valueReference": value}
