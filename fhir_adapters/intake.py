"""Inbound referrals: a transaction Bundle or a single ServiceRequest -> IntakeRequest.

Everything is parsed by the fhir.resources R4B models first (structure), then
checked against our own code lists and reference rules (fhir.resources checks
neither), and only then handed to the one intake service.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from fhir_adapters import codes
from fhir_adapters import consent as consent_map
from fhir_adapters import organization as org_map
from fhir_adapters import patient as patient_map
from fhir_adapters import practitioner as practitioner_map
from fhir_adapters import servicerequest as sr_map
from fhir_adapters.common import split_reference
from fhir_adapters.errors import BusinessRule, FhirError, NotFound, from_validation_error
from referrals.intake.service import ConsentRecord, IntakeRequest, PersonDetails, ReasonEntry
from referrals.models import Practice, Sex, Urgency

# Intake form field -> FHIR element, for OperationOutcome.issue.expression
FIELD_PATHS = {
    "nhs_number": "Patient.identifier",
    "given_name": "Patient.name.given",
    "family_name": "Patient.name.family",
    "birth_date": "Patient.birthDate",
    "sex": "Patient.gender",
    "postcode": "Patient.address.postalCode",
    "phone": "Patient.telecom",
    "email": "Patient.telecom",
    "communication_needs": "Patient.extension",
    "interpreter_language": "Patient.communication.language",
    "reasons": "ServiceRequest.reasonCode",
    "reason_other": "ServiceRequest.reasonCode.text",
    "what_matters": "ServiceRequest.note",
    "risks": "ServiceRequest.extension",
    "consent": "ServiceRequest.supportingInfo",
    "practice": "ServiceRequest.requester",
    "referrer_name": "ServiceRequest.requester",
    "referrer_identifier": "ServiceRequest.requester",
    "nhs_number_status": "Patient.identifier.extension",
    "ethnic_category": "Patient.extension",
}
# What the API says instead of the form's words, where a GP system needs to hear more.
FIELD_MESSAGES = {
    "consent": "A Consent is required: sharing a referral with the connector hub rests on "
               "the person's consent, recorded as a FHIR Consent (status active, provision "
               "permit) in ServiceRequest.supportingInfo",
}
URGENT_PRIORITIES = {"urgent", "asap", "stat"}


def validate(resource: dict, expected: str | None = None, *, path: str = ""):
    """Parse with the R4B model for its resourceType; 400 with element paths if it fails."""
    if not isinstance(resource, dict):
        raise FhirError(f"{path or 'body'}: expected a JSON object")
    resource_type = resource.get("resourceType")
    if expected and resource_type != expected:
        raise FhirError(f"Expected a {expected}, got {resource_type or 'no resourceType'}",
                        expression=[f"{path}.resourceType" if path else "resourceType"])
    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, TypeError, ValueError):
        raise FhirError(f"Unknown resourceType {resource_type!r}",
                        expression=[f"{path}.resourceType" if path else "resourceType"]) from None
    try:
        return model.model_validate(resource)
    except ValidationError as exc:
        raise from_validation_error(exc, prefix=path or resource_type) from None
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        # fhir.resources raises these (not ValidationError) for a contained or Bundle entry
        # resource of an unknown or non-string resourceType, and for very deep nesting.
        raise FhirError(f"{path or resource_type}: not a valid FHIR resource "
                        f"({type(exc).__name__}: {str(exc)[:200]})", code="structure") from None


@dataclass
class Parsed:
    """What the API needs besides the IntakeRequest: the resources as sent, by role."""

    intake: IntakeRequest
    sent: dict[str, dict] = field(default_factory=dict)  # role -> fullUrl as sent


class References:
    """Resolves references inside one Bundle: urn:uuid fullUrls, Type/id and #contained."""

    def __init__(self, entries: dict[str, dict], contained: dict[str, dict] | None = None):
        self.entries = entries
        self.contained = contained or {}

    def resolve(self, ref: dict | None, element: str) -> dict | None:
        if not ref:
            return None
        target = ref.get("reference")
        if not target:
            return None
        if target.startswith("#"):
            resource = self.contained.get(target[1:])
        else:
            resource = self.entries.get(target)
            if resource is None and (parts := split_reference(target)):
                resource = self.entries.get("/".join(parts))
        if resource is not None:
            check_type(resource.get("resourceType"), element)
        return resource


def check_type(resource_type: str | None, element: str) -> None:
    allowed = codes.REFERENCE_TYPES.get(element)
    if allowed and resource_type not in allowed:
        raise BusinessRule(
            f"{element} must refer to {' or '.join(sorted(allowed))}, not {resource_type}",
            expression=[element])


def check_reference_type(ref: dict | None, element: str) -> None:
    if ref and (parts := split_reference(ref.get("reference"))) and not ref["reference"].startswith(
            ("#", "urn:")):
        check_type(parts[0], element)


def check_service_request_codes(resource: dict) -> None:
    status, intent = resource.get("status"), resource.get("intent")
    if status not in codes.SERVICE_REQUEST_STATUSES:
        raise FhirError(f"ServiceRequest.status {status!r} is not a FHIR request-status code",
                        expression=["ServiceRequest.status"], code="code-invalid")
    if status != "active":
        raise BusinessRule(f"A new referral must have status 'active', not {status!r}",
                           expression=["ServiceRequest.status"])
    if intent not in codes.SERVICE_REQUEST_INTENTS:
        raise FhirError(f"ServiceRequest.intent {intent!r} is not a FHIR request-intent code",
                        expression=["ServiceRequest.intent"], code="code-invalid")
    if intent not in codes.ACCEPTED_INTENTS:
        raise BusinessRule(f"A referral's intent must be one of {sorted(codes.ACCEPTED_INTENTS)}",
                           expression=["ServiceRequest.intent"])
    priority = resource.get("priority")
    if priority is not None and priority not in codes.PRIORITIES:
        raise FhirError(f"ServiceRequest.priority {priority!r} is not a FHIR request-priority code",
                        expression=["ServiceRequest.priority"], code="code-invalid")
    for element in ("subject", "requester"):
        check_reference_type(resource.get(element), f"ServiceRequest.{element}")
    for ref in resource.get("performer") or []:
        check_reference_type(ref, "ServiceRequest.performer")
    for ref in resource.get("supportingInfo") or []:
        check_reference_type(ref, "ServiceRequest.supportingInfo")


def person_from_patient(resource: dict) -> PersonDetails:
    details = patient_map.from_fhir(resource)
    gender = details.pop("gender")
    if gender is not None and gender not in codes.GENDERS:
        raise FhirError(f"Patient.gender {gender!r} is not a FHIR administrative-gender code",
                        expression=["Patient.gender"], code="code-invalid")
    return PersonDetails(sex=Sex(gender) if gender else None, **details)


def find_practice(sr: dict, refs: References, patient: dict | None,
                  practices: list[Practice]) -> Practice:
    """The referring practice: the requester's organisation, else the patient's GP.

    It must be one of the API client's practices; anything else is answered as
    if it did not exist.
    """
    by_ods = {p.ods_code: p for p in practices}
    candidates: list[str] = []
    requester = refs.resolve(sr.get("requester"), "ServiceRequest.requester")
    organisation = None
    if requester is not None and requester.get("resourceType") == "PractitionerRole":
        organisation = refs.resolve(requester.get("organization"), "PractitionerRole.organization")
    elif requester is not None and requester.get("resourceType") == "Organization":
        organisation = requester
    if organisation is not None:
        candidates.append(org_map.from_fhir(organisation)["ods_code"])
    requester_ident = (sr.get("requester") or {}).get("identifier") or {}
    if requester_ident.get("system") == codes.ODS_CODE:
        candidates.append((requester_ident.get("value") or "").upper())
    candidates = [c for c in candidates if c]
    # The patient's GP decides only when the requester names no practice: a referral
    # from another practice's clinician is not quietly filed under the client's own.
    gps = [] if candidates else (patient or {}).get("generalPractitioner") or []
    for gp in gps:
        ident = gp.get("identifier") or {}
        if ident.get("system") == codes.ODS_CODE:
            candidates.append((ident.get("value") or "").upper())
        resolved = refs.resolve(gp, "Patient.generalPractitioner")
        if resolved is not None and resolved.get("resourceType") == "Organization":
            candidates.append(org_map.from_fhir(resolved)["ods_code"])
    candidates = [c for c in candidates if c]
    if not candidates:
        if len(practices) == 1:
            return practices[0]
        raise BusinessRule("Say which practice is referring: give the requester's Organization "
                           "with its ODS code", expression=["ServiceRequest.requester"])
    for ods in candidates:
        if ods in by_ods:
            return by_ods[ods]
    raise NotFound(f"Organization with ODS code {candidates[0]} not found",
                   expression=["ServiceRequest.requester"])


def referrer_from(sr: dict, refs: References) -> tuple[str, str]:
    requester = refs.resolve(sr.get("requester"), "ServiceRequest.requester")
    practitioner = None
    if requester is not None and requester.get("resourceType") == "PractitionerRole":
        practitioner = refs.resolve(requester.get("practitioner"), "PractitionerRole.practitioner")
    elif requester is not None and requester.get("resourceType") == "Practitioner":
        practitioner = requester
    if practitioner is None:
        return (sr.get("requester") or {}).get("display", ""), ""
    details = practitioner_map.practitioner_from_fhir(practitioner)
    ident = details["identifier"]
    return details["name"], f"{ident[0]}|{ident[1]}" if ident else ""


def consent_from(sr: dict, refs: References) -> ConsentRecord | None:
    for ref in sr.get("supportingInfo") or []:
        resource = refs.resolve(ref, "ServiceRequest.supportingInfo")
        if resource is not None and resource.get("resourceType") == "Consent":
            return ConsentRecord(**consent_map.from_fhir(resource))
    return None


def build_intake(sr: dict, patient: dict | PersonDetails, refs: References,
                 practices: list[Practice]) -> IntakeRequest:
    fields = sr_map.from_fhir(sr)
    person = patient if isinstance(patient, PersonDetails) else person_from_patient(patient)
    practice = find_practice(sr, refs, patient if isinstance(patient, dict) else None, practices)
    referrer_name, referrer_identifier = referrer_from(sr, refs)
    return IntakeRequest(
        person=person,
        reasons=[ReasonEntry(r["code"], r["detail"]) for r in fields["reasons"]],
        practice=practice,
        consent=consent_from(sr, refs),
        what_matters=fields["what_matters"],
        risks=fields["risks"],
        no_known_risks=fields["no_known_risks"],
        urgency=Urgency.URGENT if fields["priority"] in URGENT_PRIORITIES else Urgency.ROUTINE,
        source="fhir",
        referrer_name=referrer_name,
        referrer_identifier=referrer_identifier,
    )


def parse_transaction(bundle: dict, practices: list[Practice]) -> tuple[IntakeRequest, dict]:
    """A transaction Bundle -> (IntakeRequest, {resourceType: fullUrl as sent})."""
    validate(bundle, "Bundle")
    if bundle.get("type") != "transaction":
        raise FhirError("POST /fhir takes a Bundle of type 'transaction'",
                        expression=["Bundle.type"], code="not-supported")
    entries: dict[str, dict] = {}
    by_type: dict[str, list[tuple[str, dict]]] = {}
    for index, entry in enumerate(bundle.get("entry") or []):
        resource, request = entry.get("resource"), entry.get("request")
        path = f"Bundle.entry[{index}]"
        if resource is None or request is None:
            raise FhirError(f"{path}: each transaction entry needs a resource and a request "
                            "(bdl-3)", expression=[path])
        if request.get("method") not in ("POST", "PUT"):
            raise FhirError(f"{path}.request.method: only POST and PUT are supported in a "
                            "referral transaction", expression=[f"{path}.request.method"],
                            code="not-supported")
        if not isinstance(resource.get("resourceType"), str):
            raise FhirError(f"{path}.resource: resourceType is missing",
                            expression=[f"{path}.resource.resourceType"], code="structure")
        full_url = entry.get("fullUrl") or ""
        if full_url:
            entries[full_url] = resource
        if resource.get("id"):
            entries[f"{resource.get('resourceType')}/{resource['id']}"] = resource
        by_type.setdefault(resource.get("resourceType"), []).append((full_url, resource))
    requests = by_type.get("ServiceRequest", [])
    if len(requests) != 1:
        raise BusinessRule("A referral Bundle holds exactly one ServiceRequest",
                           expression=["Bundle.entry"])
    allowed = {"ServiceRequest", "Patient", "Practitioner", "PractitionerRole", "Organization",
               "Consent"}
    if unexpected := sorted(set(by_type) - allowed):
        raise FhirError(f"Unsupported resources in a referral Bundle: {', '.join(unexpected)}",
                        expression=["Bundle.entry"], code="not-supported")
    sr_url, sr = requests[0]
    check_service_request_codes(sr)
    refs = References(entries, {c.get("id"): c for c in sr.get("contained") or [] if c.get("id")})
    patient = refs.resolve(sr.get("subject"), "ServiceRequest.subject")
    if patient is None:
        raise BusinessRule("ServiceRequest.subject must refer to the Patient in the Bundle",
                           expression=["ServiceRequest.subject"])
    intake = build_intake(sr, patient, refs, practices)
    return intake, {"ServiceRequest": sr_url}
