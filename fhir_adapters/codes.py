"""Code systems, identifier systems and the code lists we enforce.

fhir.resources checks structure but not codes (an `intent` of "banana" passes),
so every code we accept or emit is listed here and checked by us.
"""
from __future__ import annotations

from referrals import ethnicity
from referrals.models import ReferralStatus

FHIR_VERSION = "4.0.1"
MEDIA_TYPE = "application/fhir+json"

# Identifier and code systems
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"
GMC_NUMBER = "https://fhir.hl7.org.uk/Id/gmc-number"
NMC_NUMBER = "https://fhir.hl7.org.uk/Id/nmc-number"
KINDLY = "https://kindly.example/fhir"
REFERRAL_ID = f"{KINDLY}/Id/referral"
USER_ID = f"{KINDLY}/Id/user"
TEAM_ID = f"{KINDLY}/Id/team"
BUSINESS_STATUS = f"{KINDLY}/CodeSystem/referral-status"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_PERFORMER_ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"

NHS_NUMBER_VERIFICATION_EXT = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
)
NHS_NUMBER_VERIFICATION_SYSTEM = (
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"
)
NHS_NUMBER_VERIFICATION = {
    "01": "Number present and verified",
    "02": "Number present but not traced",
    "03": "Trace required",
    "04": "Trace attempted - No match or multiple match found",
    "05": "Trace needs to be resolved - (NHS Number or patient detail conflict)",
    "06": "Trace in progress",
    "07": "Number not present and trace not required",
    "08": "Trace postponed (baby under six weeks old)",
}
ETHNIC_CATEGORY_EXT = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
ETHNIC_CATEGORY_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"
# The domain's list (referrals.ethnicity), whose labels are UK Core's displays.
ETHNIC_CATEGORIES = ethnicity.LABELS

# The referral itself and its category (fhir-mapping.md §6.2)
SOCIAL_PRESCRIBING_REFERRAL = ("871731000000106", "Referral to social prescribing service")
SOCIAL_SERVICE_PROCEDURE = ("410606002", "Social service procedure")

SERVICE_REQUEST_STATUSES = frozenset(
    {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
)
SERVICE_REQUEST_INTENTS = frozenset(
    {"proposal", "plan", "directive", "order", "original-order", "reflex-order",
     "filler-order", "instance-order", "option"}
)
# What a GP system may send us: a referral is an order (Gravity) or a plan (BaRS).
ACCEPTED_INTENTS = frozenset({"order", "original-order", "plan"})
PRIORITIES = frozenset({"routine", "urgent", "asap", "stat"})
# FHIR TaskStatus has 12 codes; the SDOHCC referral task never uses ready or received.
TASK_STATUSES = frozenset(
    {"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
     "in-progress", "on-hold", "failed", "completed", "entered-in-error"}
)
REFERRAL_TASK_STATUSES = TASK_STATUSES - {"ready", "received"}

S = ReferralStatus
# Kindly status -> (Task.status, businessStatus code, businessStatus display, ServiceRequest.status)
STATUS_MAP: dict[ReferralStatus, tuple[str, str, str, str]] = {
    S.RECEIVED: ("requested", "received", "Received", "active"),
    S.ACCEPTED: ("accepted", "accepted", "Accepted", "active"),
    S.IN_PROGRESS: ("in-progress", "in-progress", "In progress", "active"),
    S.COMPLETED: ("completed", "completed", "Completed", "completed"),
    S.REJECTED: ("rejected", "rejected", "Rejected", "revoked"),
    S.CANCELLED: ("cancelled", "cancelled", "Cancelled", "revoked"),
    S.DECLINED: ("cancelled", "declined", "Declined by the person", "revoked"),
    S.UNABLE_TO_CONTACT: ("failed", "unable-to-contact", "Unable to contact", "revoked"),
}
BUSINESS_STATUSES = frozenset(code for _, code, _, _ in STATUS_MAP.values())

# Reference types we accept on inbound elements
REFERENCE_TYPES = {
    "ServiceRequest.subject": {"Patient"},
    "ServiceRequest.requester": {"PractitionerRole", "Practitioner", "Organization"},
    "ServiceRequest.performer": {"Organization", "HealthcareService", "PractitionerRole"},
    "ServiceRequest.supportingInfo": {"Consent", "QuestionnaireResponse", "Observation"},
    "Consent.patient": {"Patient"},
    "Patient.generalPractitioner": {"Organization", "Practitioner", "PractitionerRole"},
    "PractitionerRole.practitioner": {"Practitioner"},
    "PractitionerRole.organization": {"Organization"},
}

GENDERS = frozenset({"male", "female", "other", "unknown"})
