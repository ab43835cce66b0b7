"""ServiceRequest: the referral itself (Gravity closed-loop pattern, UK Core identifiers)."""
from __future__ import annotations

from fhir_adapters import codes
from fhir_adapters.common import concept, instant, meta, reference
from fhir_adapters.consent import consent_id
from fhir_adapters.organization import practice_id, team_id
from fhir_adapters.patient import patient_reference
from fhir_adapters.practitioner import role_id
from referrals import reasons, sharing
from referrals.models import Referral

RISK_EXT = "https://kindly.example/fhir/StructureDefinition/known-risk"
NO_RISK_EXT = "https://kindly.example/fhir/StructureDefinition/no-known-risks"
SOURCE_EXT = "https://kindly.example/fhir/StructureDefinition/referral-source"


def to_fhir(referral: Referral) -> dict:
    """The referral as its practice's GP system may see it: without the words about the
    person (what matters, risks, an "other" reason's words) when they asked for coded
    information only (referrals.sharing)."""
    share = sharing.policy(referral, sharing.Audience.GP_SYSTEM)
    patient = referral.patient
    resource = {
        "resourceType": "ServiceRequest",
        "id": str(referral.id),
        "meta": meta(referral.version, referral.updated_at),
        "identifier": [{"system": codes.REFERRAL_ID, "value": referral.reference}],
        "status": codes.STATUS_MAP[referral.status][3],
        "intent": "order",
        "category": [concept(codes.SNOMED, *codes.SOCIAL_SERVICE_PROCEDURE)],
        "priority": referral.urgency.value,
        "code": concept(codes.SNOMED, *codes.SOCIAL_PRESCRIBING_REFERRAL),
        "subject": patient_reference(patient),
        "authoredOn": instant(referral.created_at),
        "requester": requester(referral),
        "reasonCode": [_reason(r, share) for r in referral.reasons],
        "supportingInfo": [reference("Consent", consent_id(referral))],
    }
    extensions = [{"url": RISK_EXT, "valueString": risk}
                  for risk in share.items(referral, "risks")]
    if referral.no_known_risks:
        extensions.append({"url": NO_RISK_EXT, "valueBoolean": True})
    extensions.append({"url": SOURCE_EXT, "valueCode": referral.source})
    resource["extension"] = extensions
    if referral.team is not None:
        resource["performer"] = [reference("Organization", team_id(referral.team),
                                           referral.team.name)]
    if what_matters := share.text(referral, "what_matters"):
        resource["note"] = [{"text": what_matters}]
    return resource


def requester(referral: Referral) -> dict:
    if referral.referrer is not None:
        return reference("PractitionerRole", role_id(referral.referrer), referral.referrer.name)
    if referral.referrer_name:
        return {**reference("Organization", practice_id(referral.practice),
                            referral.practice.name),
                "display": f"{referral.referrer_name}, {referral.practice.name}"}
    return reference("Organization", practice_id(referral.practice), referral.practice.name)


def _reason(entry, share: sharing.Policy) -> dict:
    reason = reasons.BY_CODE.get(entry.code)
    label = reason.label if reason else entry.code
    value = concept(reasons.LOCAL_SYSTEM, entry.code, label,
                    text=share.text(entry, "detail") or label)
    if reason and reason.snomed:
        value["coding"].insert(0, {"system": codes.SNOMED, "code": reason.snomed})
    return value


def from_fhir(resource: dict) -> dict:
    """Referral fields from an inbound ServiceRequest (references are left to the caller)."""
    found = []
    for concept_ in resource.get("reasonCode") or []:
        code = None
        for entry in concept_.get("coding") or []:
            if entry.get("system") == reasons.LOCAL_SYSTEM and entry.get("code"):
                code = entry["code"]
                break
            if entry.get("system") == codes.SNOMED:
                code = next((r.code for r in reasons.REASONS if r.snomed == entry.get("code")),
                            code)
        text = concept_.get("text") or ""
        if code is None:
            # Free text or an unknown coding: keep the words as an "other" reason.
            label = text or next((c.get("display") or c.get("code") for c in
                                  concept_.get("coding") or []), "")
            found.append({"code": reasons.OTHER.code, "detail": label or "Not given"})
        else:
            detail = text if code == reasons.OTHER.code else ""
            found.append({"code": code, "detail": detail})
    risks, no_known_risks = [], False
    for ext in resource.get("extension") or []:
        if ext.get("url") == RISK_EXT and ext.get("valueString"):
            risks.append(ext["valueString"])
        elif ext.get("url") == NO_RISK_EXT and ext.get("valueBoolean") is True:
            no_known_risks = True
    notes = [n.get("text", "") for n in resource.get("note") or [] if n.get("text")]
    return {
        "status": resource.get("status"),
        "intent": resource.get("intent"),
        "priority": resource.get("priority") or "routine",
        "reasons": found,
        "what_matters": "\n\n".join(notes),
        "risks": risks,
        "no_known_risks": no_known_risks,
    }
