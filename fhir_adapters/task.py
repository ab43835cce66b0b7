"""Task: the referral's workflow (one per referral, focus = the ServiceRequest)."""
from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from fhir_adapters import codes
from fhir_adapters.common import coding, concept, instant, meta, reference
from fhir_adapters.organization import team_id
from fhir_adapters.patient import patient_reference
from fhir_adapters.practitioner import role_id
from fhir_adapters.procedure import is_procedure, output_entry
from fhir_adapters.servicerequest import requester
from referrals.models import Referral


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
        last = referral.events[-1] if referral.events else None
        reason = last.reason if last is not None and last.to_status == referral.status else ""
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
    if outputs := [output_entry(c) for c in referral.connections if is_procedure(c)]:
        resource["output"] = outputs
    return resource
