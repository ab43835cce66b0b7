"""Procedure: what came of connecting a person to an offer (Gravity "resulting activity").

Only a connection that has ended is a Procedure: attended is `completed`; declined,
did not attend, no capacity and withdrawn are `not-done` with the reason. A suggested
or accepted connection is not one yet, because nothing has been done.

| Connection | Procedure |
|---|---|
| id | id |
| status | status (completed / not-done) + statusReason |
| referral | basedOn -> ServiceRequest/<referral id>; subject -> its Patient |
| (fixed) | category SNOMED 410606002 "Social service procedure" |
| offer | code: text = offer name, coding = offer id in CodeSystem offer (= HealthcareService id) |
| offer's organisation | performer.actor: display + identifier (directory organisations are not served) |
| started_on (attended) | performedDateTime |
| kind (signpost / referral) | note |
| version, updated_at | meta.versionId, meta.lastUpdated |

The connector's notes stay in Kindly: nothing in the referral's FHIR view exposes
casework notes.
"""
from __future__ import annotations

from fhir_adapters import codes
from fhir_adapters.common import coding, concept, fhir_date, meta, reference
from fhir_adapters.healthcareservice import DIRECTORY_ORGANISATION
from fhir_adapters.patient import patient_reference
from referrals.models import (
    OUTCOME_CONNECTION_STATUSES,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    Referral,
)

C = ConnectionStatus
OFFER_CODE = f"{codes.KINDLY}/CodeSystem/offer"
NOT_DONE_REASON = f"{codes.KINDLY}/CodeSystem/connection-not-done-reason"
# Gravity's Task.output[PerformedActivityReference].type (SDOHCC 3.0.0, aliases.fsh).
SDOHCC_TEMPORARY_CODES = (
    "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
)
# Connection status -> statusReason code and words, for connections that came to nothing.
NOT_DONE: dict[ConnectionStatus, tuple[str, str]] = {
    C.DECLINED: ("declined", "Declined by the person"),
    C.DID_NOT_ATTEND: ("did-not-attend", "Did not attend"),
    C.NO_CAPACITY: ("no-capacity", "The offer had no room"),
    C.WITHDRAWN: ("withdrawn", "Withdrawn"),
}
# Procedure.status -> the connection statuses it stands for (searches go this way).
STATUSES: dict[str, frozenset[ConnectionStatus]] = {
    "completed": frozenset({C.ATTENDED}),
    "not-done": frozenset(NOT_DONE),
}
PROCEDURE_STATUSES = frozenset(OUTCOME_CONNECTION_STATUSES)
KIND_NOTES = {
    ConnectionKind.SIGNPOST: "Signpost: the connector gave the person the offer's details.",
    ConnectionKind.REFERRAL: "Referral: the connector made a warm handover to the provider.",
}


def is_procedure(connection: Connection) -> bool:
    return connection.status in PROCEDURE_STATUSES


def to_fhir(connection: Connection, referral: Referral) -> dict:
    if not is_procedure(connection):
        raise ValueError(f"a {connection.status} connection is not a Procedure yet")
    offer, patient = connection.offer, referral.patient
    resource = {
        "resourceType": "Procedure",
        "id": str(connection.id),
        "meta": meta(connection.version, connection.updated_at),
        "basedOn": [reference("ServiceRequest", referral.id, referral.reference)],
        "status": "completed" if connection.status is C.ATTENDED else "not-done",
    }
    if connection.status in NOT_DONE:
        code, words = NOT_DONE[connection.status]
        resource["statusReason"] = concept(NOT_DONE_REASON, code, words, text=words)
    resource["category"] = concept(codes.SNOMED, *codes.SOCIAL_SERVICE_PROCEDURE)
    resource["code"] = {"coding": [coding(OFFER_CODE, offer.id, offer.name)], "text": offer.name}
    resource["subject"] = patient_reference(patient)
    if connection.status is C.ATTENDED and connection.started_on is not None:
        resource["performedDateTime"] = fhir_date(connection.started_on)
    if offer.organisation is not None:
        resource["performer"] = [{"actor": {
            "identifier": {"system": DIRECTORY_ORGANISATION, "value": offer.organisation.id},
            "display": offer.organisation.name,
        }}]
    resource["note"] = [{"text": KIND_NOTES[connection.kind]}]
    return resource


def output_entry(connection: Connection) -> dict:
    """The Task.output entry pointing at this connection's Procedure."""
    words = "attended" if connection.status is C.ATTENDED else NOT_DONE[connection.status][1]
    return {
        "type": concept(SDOHCC_TEMPORARY_CODES, "resulting-activity",
                        "Resulting Activity"),
        "valueReference": reference("Procedure", connection.id,
                                    f"{connection.offer.name}: {words.lower()}"),
    }
