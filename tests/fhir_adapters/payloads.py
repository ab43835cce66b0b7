"""What a GP system sends: UK Core-shaped resources and referral Bundles, as plain dicts.

Written out by hand (not built with our own mappers), so the API is tested
against the wire format a real client produces, not against itself.
"""
from __future__ import annotations

import copy
import uuid

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
GMC_NUMBER = "https://fhir.hl7.org.uk/Id/gmc-number"
SNOMED = "http://snomed.info/sct"
REASON_SYSTEM = "https://kindly.example/fhir/CodeSystem/referral-reason"
NO_KNOWN_RISKS = "https://kindly.example/fhir/StructureDefinition/no-known-risks"
KNOWN_RISK = "https://kindly.example/fhir/StructureDefinition/known-risk"
REVOCATION_REASON = "https://kindly.example/fhir/StructureDefinition/revocation-reason"


def urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def patient(nhs_number: str, *, ods_code: str = "A12345", **overrides) -> dict:
    resource = {
        "resourceType": "Patient",
        "identifier": [{"system": NHS_NUMBER, "value": nhs_number}],
        "name": [{"use": "official", "family": "Lovelace", "given": ["Ada"]}],
        "gender": "female",
        "birthDate": "1950-03-31",
        "address": [{"use": "home", "postalCode": "LS1 4AP"}],
        "telecom": [{"system": "phone", "value": "07700 900123", "use": "mobile"}],
        "generalPractitioner": [{"identifier": {"system": ODS_CODE, "value": ods_code}}],
    }
    resource.update(overrides)
    return resource


def organization(ods_code: str = "A12345", name: str = "Alpha Surgery") -> dict:
    return {
        "resourceType": "Organization",
        "identifier": [{"system": ODS_CODE, "value": ods_code}],
        "name": name,
    }


def practitioner() -> dict:
    return {
        "resourceType": "Practitioner",
        "identifier": [{"system": GMC_NUMBER, "value": "G1234567"}],
        "name": [{"family": "Jones", "given": ["Sam"], "prefix": ["Dr"]}],
    }


def practitioner_role(practitioner_ref: str, organization_ref: str) -> dict:
    return {
        "resourceType": "PractitionerRole",
        "practitioner": {"reference": practitioner_ref},
        "organization": {"reference": organization_ref},
    }


def consent(patient_ref: dict, organization_ref: str | None = None) -> dict:
    resource = {
        "resourceType": "Consent",
        "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IDSCL"}]}],
        "patient": patient_ref,
        "dateTime": "2024-05-01T09:30:00Z",
        "policyRule": {"text": "Agreed to a social prescribing referral"},
        "provision": {"type": "permit"},
    }
    if organization_ref:
        resource["organization"] = [{"reference": organization_ref}]
    return resource


def service_request(subject: dict, *, requester: dict | None = None,
                    consent_ref: str | None = None, **overrides) -> dict:
    resource = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "priority": "routine",
        "category": [{"coding": [{"system": SNOMED, "code": "410606002"}]}],
        "code": {"coding": [{"system": SNOMED, "code": "871731000000106"}]},
        "subject": subject,
        "authoredOn": "2024-05-01T10:00:00Z",
        "reasonCode": [{"coding": [{"system": REASON_SYSTEM, "code": "loneliness"}],
                        "text": "Lonely since moving"}],
        "note": [{"text": "Loves gardening"}],
        "extension": [{"url": NO_KNOWN_RISKS, "valueBoolean": True}],
    }
    if requester is not None:
        resource["requester"] = requester
    if consent_ref is not None:
        resource["supportingInfo"] = [{"reference": consent_ref}]
    resource.update(overrides)
    return resource


def transaction(nhs_number: str, *, ods_code: str = "A12345") -> dict:
    """A complete referral Bundle: every reference between entries is a urn:uuid fullUrl."""
    ids = {name: urn() for name in
           ("Patient", "Organization", "Practitioner", "PractitionerRole", "Consent",
            "ServiceRequest")}
    resources = {
        "Organization": organization(ods_code),
        "Practitioner": practitioner(),
        "PractitionerRole": practitioner_role(ids["Practitioner"], ids["Organization"]),
        "Patient": patient(nhs_number, ods_code=ods_code),
        "Consent": consent({"reference": ids["Patient"]}, ids["Organization"]),
        "ServiceRequest": service_request(
            {"reference": ids["Patient"]},
            requester={"reference": ids["PractitionerRole"]},
            consent_ref=ids["Consent"]),
    }
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": ids[kind], "resource": resource,
             "request": {"method": "POST", "url": kind}}
            for kind, resource in resources.items()
        ],
    }


def entry(bundle: dict, resource_type: str) -> dict:
    """The (first) resource of this type in a Bundle, to change in place."""
    return next(e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == resource_type)


def without(bundle: dict, resource_type: str) -> dict:
    copied = copy.deepcopy(bundle)
    copied["entry"] = [e for e in copied["entry"]
                       if e["resource"]["resourceType"] != resource_type]
    return copied


def by_nhs_number(nhs_number: str, *, ods_code: str = "A12345") -> dict:
    """A lone ServiceRequest whose subject is a logical reference by NHS number,
    with its Consent contained."""
    return service_request(
        {"identifier": {"system": NHS_NUMBER, "value": nhs_number}},
        requester={"identifier": {"system": ODS_CODE, "value": ods_code}},
        consent_ref="#consent",
        contained=[{**consent({"identifier": {"system": NHS_NUMBER, "value": nhs_number}}),
                    "id": "consent"}],
    )


def with_contained_patient(nhs_number: str, *, ods_code: str = "A12345") -> dict:
    """A lone ServiceRequest carrying the person and their Consent as contained resources."""
    return service_request(
        {"reference": "#patient"},
        requester={"identifier": {"system": ODS_CODE, "value": ods_code}},
        consent_ref="#consent",
        contained=[
            {**patient(nhs_number, ods_code=ods_code), "id": "patient"},
            {**consent({"reference": "#patient"}), "id": "consent"},
        ],
    )
