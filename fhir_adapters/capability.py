"""The CapabilityStatement: exactly what /fhir supports, nothing more."""
from __future__ import annotations

from fhir_adapters import codes

SEARCH = {
    "ServiceRequest": [
        ("_id", "token"), ("identifier", "token"), ("patient", "reference"),
        ("subject", "reference"), ("status", "token"), ("intent", "token"),
        ("requester", "reference"), ("performer", "reference"), ("authored", "date"),
        ("_lastUpdated", "date"),
    ],
    "Task": [
        ("_id", "token"), ("identifier", "token"), ("focus", "reference"),
        ("patient", "reference"), ("subject", "reference"), ("status", "token"),
        ("business-status", "token"), ("owner", "reference"), ("requester", "reference"),
        ("authored-on", "date"), ("_lastUpdated", "date"),
    ],
    "Patient": [("_id", "token"), ("identifier", "token")],
    "Procedure": [
        ("_id", "token"), ("based-on", "reference"), ("patient", "reference"),
        ("subject", "reference"), ("status", "token"), ("_lastUpdated", "date"),
    ],
    "QuestionnaireResponse": [
        ("_id", "token"), ("based-on", "reference"), ("patient", "reference"),
        ("subject", "reference"), ("questionnaire", "reference"),
    ],
    "Observation": [
        ("_id", "token"), ("based-on", "reference"), ("patient", "reference"),
        ("subject", "reference"), ("code", "token"),
    ],
    "DocumentReference": [
        ("_id", "token"), ("related", "reference"), ("patient", "reference"),
        ("subject", "reference"), ("status", "token"),
    ],
    "HealthcareService": [
        ("_id", "token"), ("name", "string"), ("active", "token"),
        ("service-category", "token"), ("service-type", "token"), ("_lastUpdated", "date"),
    ],
}
VERSIONED = frozenset({"ServiceRequest", "Task", "Procedure", "QuestionnaireResponse",
                       "Observation", "DocumentReference", "Binary"})


def capability_statement(base: str, software_version: str, date: str, *,
                         max_body_bytes: int | None = None) -> dict:
    def resource(type_, interactions, **extra):
        entry = {
            "type": type_,
            "interaction": [{"code": code} for code in interactions],
            "versioning": "versioned" if type_ in VERSIONED else "no-version",
            "readHistory": False,
            "updateCreate": False,
        }
        if type_ in SEARCH:
            entry["searchParam"] = [{"name": n, "type": t} for n, t in SEARCH[type_]]
        entry.update(extra)
        return entry

    return {
        "resourceType": "CapabilityStatement",
        "id": "kindly",
        "url": f"{base}/metadata",
        "version": software_version,
        "name": "KindlyFhirApi",
        "title": "Kindly social prescribing referrals FHIR API",
        "status": "active",
        "date": date,
        "publisher": "Kindly",
        "description": "Send social prescribing referrals to a connector hub and follow them "
                       "to their outcome (ServiceRequest + Task, closed-loop pattern). A new "
                       "ServiceRequest needs at least one reasonCode and a Consent (status "
                       "active, provision permit) in supportingInfo: sharing the referral with "
                       "the hub rests on the person's consent, so a referral without one is "
                       "refused (422). Known risks to visitors go in Kindly's extensions "
                       "https://kindly.example/fhir/StructureDefinition/known-risk (valueString, "
                       "one each) or .../no-known-risks (valueBoolean true); a UK Core "
                       "referral without them is accepted with its risks 'not stated', and the "
                       "connector confirms them with the referrer before a home visit. Text "
                       "elements have the referral form's limits (e.g. 100 characters for a "
                       "name, 4000 for the notes); JSON null is refused (400)"
                       + (f"; a request body may be at most {max_body_bytes} bytes (413)."
                          if max_body_bytes else "."),
        "kind": "instance",
        "software": {"name": "Kindly", "version": software_version},
        "implementation": {"description": "Kindly FHIR API", "url": base},
        "fhirVersion": codes.FHIR_VERSION,
        "format": ["json", codes.MEDIA_TYPE],
        "rest": [{
            "mode": "server",
            "security": {
                "cors": False,
                "description": "Bearer tokens issued per API client (GP system or gateway), "
                               "scoped to that client's practices. Out-of-scope resources "
                               "answer 404. The directory (HealthcareService, Location) is "
                               "public to every client.",
            },
            "resource": [
                resource("ServiceRequest", ["read", "search-type", "create", "update"],
                         conditionalUpdate=False,
                         searchInclude=["ServiceRequest:patient"]),
                resource("Task", ["read", "search-type"], searchInclude=["Task:focus"]),
                resource("Patient", ["read", "search-type"]),
                resource("Consent", ["read"]),
                resource("Procedure", ["read", "search-type"],
                         searchInclude=["Procedure:based-on"],
                         documentation="What came of each offer a connector put the person in "
                                       "touch with: completed (attended) or not-done with a "
                                       "statusReason; referenced from Task.output."),
                resource("QuestionnaireResponse", ["read", "search-type"],
                         documentation="One completion of an outcome measure (ONS4, UCLA "
                                       "loneliness, …) at baseline, follow-up or closing; "
                                       "referenced from Task.output."),
                resource("Observation", ["read", "search-type"],
                         documentation="One score of an outcome measure (category survey, "
                                       "code in https://kindly.example/fhir/CodeSystem/"
                                       "outcome-score), derivedFrom its "
                                       "QuestionnaireResponse; referenced from Task.output."),
                resource("DocumentReference", ["read", "search-type"],
                         documentation="Each version of a referral's outcome letter to the "
                                       "practice (context.related -> the ServiceRequest); "
                                       "the current one is referenced from Task.output."),
                resource("Binary", ["read"],
                         documentation="An outcome letter's PDF. Accept: application/pdf "
                                       "returns the raw file; otherwise a Binary resource."),
                resource("HealthcareService", ["read", "search-type"],
                         searchInclude=["HealthcareService:location"],
                         documentation="The community directory's offers; any API client "
                                       "may read all of them. Capacity is the extension "
                                       "https://kindly.example/fhir/StructureDefinition/"
                                       "capacity-status (valueCode open, waiting-list, full)."),
                resource("Location", ["read"],
                         documentation="The directory's venues (HealthcareService.location)."),
            ],
            "interaction": [{"code": "transaction"}],
        }],
    }
