"""Consent (SDOHCC pattern): the person's agreement to the referral and to sharing."""
from __future__ import annotations

from datetime import datetime

from fhir_adapters import codes
from fhir_adapters.common import concept, instant, meta, reference
from fhir_adapters.organization import practice_id
from referrals.models import ConsentGivenBy, ConsentMethod, Referral

POLICY = "Consent to refer to social prescribing and share details with the connector team"
METHOD_EXT = "https://kindly.example/fhir/StructureDefinition/consent-method"


def consent_id(referral: Referral) -> str:
    return f"c-{referral.id}"


def to_fhir(referral: Referral) -> dict:
    patient = referral.patient
    performer = (
        reference("Patient", patient.id, patient.full_name)
        if referral.consent_given_by is ConsentGivenBy.PERSON
        else {"display": "Someone acting for the person"}
    )
    return {
        "resourceType": "Consent",
        "id": consent_id(referral),
        "meta": meta(referral.version, referral.updated_at),
        "extension": [{"url": METHOD_EXT, "valueCode": referral.consent_method.value}],
        "status": "active",
        "scope": concept(codes.CONSENT_SCOPE, "patient-privacy", "Privacy Consent"),
        "category": [concept(codes.ACT_CODE, "IDSCL", "information disclosure")],
        "patient": reference("Patient", patient.id, patient.full_name),
        "dateTime": instant(referral.consent_at),
        "performer": [performer],
        "organization": [reference("Organization", practice_id(referral.practice),
                                   referral.practice.name)],
        "policyRule": {"text": POLICY},
        "provision": {"type": "permit"},
    }


def from_fhir(resource: dict) -> dict:
    """Whether consent is given, by whom, how and when."""
    performers = resource.get("performer") or []
    patient_ref = (resource.get("patient") or {}).get("reference")
    by_person = not performers or any(
        p.get("reference") and p.get("reference") == patient_ref for p in performers)
    method = ConsentMethod.VERBAL_IN_PERSON
    for ext in resource.get("extension") or []:
        if ext.get("url") == METHOD_EXT:
            try:
                method = ConsentMethod(ext.get("valueCode"))
            except ValueError:
                pass
    when = resource.get("dateTime")
    return {
        "given": resource.get("status") == "active"
        and (resource.get("provision") or {}).get("type", "permit") == "permit",
        "given_by": ConsentGivenBy.PERSON if by_person else ConsentGivenBy.REPRESENTATIVE,
        "method": method,
        "at": _parse_instant(when),
    }


def _parse_instant(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if not value or "T" not in str(value):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
