"""Patient (UK Core): NHS number with its verification status, and ethnic category."""
from __future__ import annotations

from datetime import date

from fhir_adapters import codes
from fhir_adapters.common import coding, fhir_date, meta, reference
from fhir_adapters.organization import practice_id
from referrals.models import Patient
from referrals.models.patient import ETHNIC_NOT_KNOWN

COMMUNICATION_EXT = "https://kindly.example/fhir/StructureDefinition/communication-need"


def to_fhir(patient: Patient) -> dict:
    nhs = {"system": codes.NHS_NUMBER, "value": patient.nhs_number}
    if patient.nhs_number_status:
        nhs["extension"] = [{
            "url": codes.NHS_NUMBER_VERIFICATION_EXT,
            "valueCodeableConcept": {"coding": [coding(
                codes.NHS_NUMBER_VERIFICATION_SYSTEM, patient.nhs_number_status,
                codes.NHS_NUMBER_VERIFICATION.get(patient.nhs_number_status))]},
        }]
    resource = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "meta": meta(1, patient.updated_at),
        "identifier": [nhs],
        "name": [{"use": "official", "family": patient.family_name,
                  "given": [patient.given_name]}],
        "gender": patient.sex.value,
        "birthDate": fhir_date(patient.birth_date),
        "address": [{"use": "home", "postalCode": patient.postcode}],
    }
    if not patient.nhs_number:
        del resource["identifier"]  # a person who referred themselves may not have given it
    extensions = []
    # 99, never asked, is sent as no extension at all: what a GP system sends when unknown.
    if patient.ethnic_category not in ("", ETHNIC_NOT_KNOWN):
        extensions.append({
            "url": codes.ETHNIC_CATEGORY_EXT,
            "valueCodeableConcept": {"coding": [coding(
                codes.ETHNIC_CATEGORY_SYSTEM, patient.ethnic_category,
                codes.ETHNIC_CATEGORIES.get(patient.ethnic_category))]},
        })
    for need in patient.communication_needs or []:
        extensions.append({"url": COMMUNICATION_EXT, "valueString": need})
    if extensions:
        resource["extension"] = extensions
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone, "use": "mobile"})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email, "use": "home"})
    if telecom:
        resource["telecom"] = telecom
    if patient.interpreter_language:
        resource["communication"] = [{"language": {"text": patient.interpreter_language},
                                      "preferred": True}]
    if patient.practice is not None:
        resource["generalPractitioner"] = [reference(
            "Organization", practice_id(patient.practice), patient.practice.name,
            identifier={"system": codes.ODS_CODE, "value": patient.practice.ods_code})]
    return resource


def from_fhir(resource: dict) -> dict:
    """The person's details as intake data (PersonDetails fields plus UK Core extras)."""
    nhs_number, status = "", ""
    for ident in resource.get("identifier") or []:
        if ident.get("system") == codes.NHS_NUMBER:
            nhs_number = _text(ident.get("value"))
            for ext in ident.get("extension") or []:
                if ext.get("url") == codes.NHS_NUMBER_VERIFICATION_EXT:
                    status = _first_code(ext.get("valueCodeableConcept"))
    names = [n for n in resource.get("name") or [] if isinstance(n, dict)]
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    telecom = [t for t in resource.get("telecom") or [] if isinstance(t, dict)]
    # The first phone and email that have a value (a telecom may carry only extensions).
    phone = next((_text(t.get("value")) for t in telecom
                  if t.get("system") in ("phone", "sms") and _text(t.get("value"))), "")
    email = next((_text(t.get("value")) for t in telecom
                  if t.get("system") == "email" and _text(t.get("value"))), "")
    postcode = next((_text(a.get("postalCode")) for a in resource.get("address") or []
                     if _text(a.get("postalCode"))), "")
    ethnic, needs = "", []
    for ext in resource.get("extension") or []:
        if ext.get("url") == codes.ETHNIC_CATEGORY_EXT:
            ethnic = _first_code(ext.get("valueCodeableConcept"))
            if ethnic == ETHNIC_NOT_KNOWN:
                ethnic = ""  # a GP system's "not known" is no answer: it keeps one stored
        elif ext.get("url") == COMMUNICATION_EXT and _text(ext.get("valueString")):
            needs.append(ext["valueString"])
    language = ""
    for comm in resource.get("communication") or []:
        lang = comm.get("language") or {}
        language = _text(lang.get("text")) or next(
            (_text(c.get("display")) or _text(c.get("code")) for c in lang.get("coding") or []),
            "")
        if language:
            break
    if language and "spoken-interpreter" not in needs:
        needs.append("spoken-interpreter")
    birth = resource.get("birthDate")
    return {
        "nhs_number": nhs_number,
        "nhs_number_status": status,
        "given_name": " ".join(_text(given) for given in name.get("given") or []
                               if _text(given)),
        "family_name": _text(name.get("family")),
        "birth_date": _parse_date(birth),
        "gender": resource.get("gender"),
        "postcode": postcode,
        "phone": phone,
        "email": email,
        "ethnic_category": ethnic,
        "communication_needs": needs,
        "interpreter_language": language,
    }


def _text(value) -> str:
    """A string element's value; anything else (a null, say) counts as absent."""
    return value if isinstance(value, str) else ""


def _first_code(concept: dict | None) -> str:
    for entry in (concept or {}).get("coding") or []:
        if entry.get("code"):
            return entry["code"]
    return ""


def _parse_date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


def patient_reference(patient: Patient) -> dict:
    """Patient/<id> with the NHS number when there is one (a person who referred
    themselves may not have given it)."""
    identifier = ({"system": codes.NHS_NUMBER, "value": patient.nhs_number}
                  if patient.nhs_number else None)
    return reference("Patient", patient.id, patient.full_name, identifier=identifier)
