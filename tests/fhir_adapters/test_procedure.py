"""Procedure mapper: what came of a connection, as the GP system reads it back."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fhir.resources.R4B.procedure import Procedure

from fhir_adapters import procedure as procedure_map
from referrals.models import ConnectionKind, ConnectionStatus, ReferralStatus
from tests.fhir_adapters import offers, validators

C = ConnectionStatus
NOT_DONE_REASON = "https://kindly.example/fhir/CodeSystem/connection-not-done-reason"
OFFER_CODE = "https://kindly.example/fhir/CodeSystem/offer"
ORG_ID = "https://kindly.example/fhir/Id/directory-organisation"

# The contract written out again: connection status -> (Procedure.status, reason code).
EXPECTED = {
    C.ATTENDED: ("completed", None),
    C.DECLINED: ("not-done", "declined"),
    C.DID_NOT_ATTEND: ("not-done", "did-not-attend"),
    C.NO_CAPACITY: ("not-done", "no-capacity"),
    C.WITHDRAWN: ("not-done", "withdrawn"),
}


def valid(resource: dict) -> dict:
    Procedure.model_validate(resource)
    validators.validate_independently(resource)
    return resource


@pytest.fixture
def referral(make, practice):
    return make.referral(practice, status=ReferralStatus.IN_PROGRESS)


@pytest.fixture
def walk(db):
    return offers.offer(db.session, name="Riverside walk")


def test_the_table_covers_every_connection_status_but_suggested_accepted_and_taken_on():
    # A partner's "taken on" (issue 15) is not a Procedure yet: nothing has happened.
    assert set(EXPECTED) == set(ConnectionStatus) - {C.SUGGESTED, C.ACCEPTED, C.TAKEN_ON}


@pytest.mark.parametrize("status", list(EXPECTED))
def test_an_ended_connection_is_a_procedure_with_the_mapped_status(db, referral, walk, status):
    connection = offers.connection(db.session, referral, walk, status)
    resource = valid(procedure_map.to_fhir(connection, referral))
    expected_status, reason = EXPECTED[status]
    assert resource["status"] == expected_status
    if reason is None:
        assert "statusReason" not in resource
    else:
        (coding,) = resource["statusReason"]["coding"]
        assert (coding["system"], coding["code"]) == (NOT_DONE_REASON, reason)
        assert resource["statusReason"]["text"]


@pytest.mark.parametrize("status", [C.SUGGESTED, C.ACCEPTED])
def test_a_suggested_or_accepted_connection_is_not_a_procedure_yet(db, referral, walk, status):
    connection = offers.connection(db.session, referral, walk, status)
    assert not procedure_map.is_procedure(connection)
    with pytest.raises(ValueError):
        procedure_map.to_fhir(connection, referral)


def test_it_is_based_on_the_referral_and_about_its_person(db, referral, walk):
    connection = offers.connection(db.session, referral, walk)
    resource = procedure_map.to_fhir(connection, referral)
    assert resource["id"] == str(connection.id)
    assert resource["basedOn"] == [{"reference": f"ServiceRequest/{referral.id}",
                                    "display": referral.reference}]
    subject = resource["subject"]
    assert subject["reference"] == f"Patient/{referral.patient_id}"
    assert subject["identifier"]["value"] == referral.patient.nhs_number


def test_a_person_without_an_nhs_number_is_referenced_without_one(db, referral, walk):
    referral.patient.nhs_number = None
    connection = offers.connection(db.session, referral, walk)
    resource = valid(procedure_map.to_fhir(connection, referral))
    assert "identifier" not in resource["subject"]


def test_the_code_is_the_offer_and_the_category_social_service_procedure(db, referral, walk):
    resource = procedure_map.to_fhir(offers.connection(db.session, referral, walk), referral)
    assert resource["code"] == {"coding": [{"system": OFFER_CODE, "code": walk.id,
                                            "display": "Riverside walk"}],
                                "text": "Riverside walk"}
    assert resource["category"]["coding"] == [{"system": "http://snomed.info/sct",
                                               "code": "410606002",
                                               "display": "Social service procedure"}]


def test_the_performer_is_the_offers_organisation_by_name(db, referral, walk):
    resource = procedure_map.to_fhir(offers.connection(db.session, referral, walk), referral)
    assert resource["performer"] == [{"actor": {
        "identifier": {"system": ORG_ID, "value": walk.organisation.id},
        "display": "Kindly Walkers"}}]


def test_an_offer_without_an_organisation_has_no_performer(db, referral, walk):
    walk.organisation = None
    resource = valid(procedure_map.to_fhir(offers.connection(db.session, referral, walk),
                                           referral))
    assert "performer" not in resource


def test_an_attended_connection_was_performed_on_its_start_date(db, referral, walk):
    connection = offers.connection(db.session, referral, walk, started_on=date(2024, 3, 12))
    assert procedure_map.to_fhir(connection, referral)["performedDateTime"] == "2024-03-12"
    connection.started_on = None
    assert "performedDateTime" not in valid(procedure_map.to_fhir(connection, referral))


def test_a_not_done_connection_claims_no_performed_date(db, referral, walk):
    connection = offers.connection(db.session, referral, walk, C.DID_NOT_ATTEND,
                                   started_on=date(2024, 3, 12))
    assert "performedDateTime" not in procedure_map.to_fhir(connection, referral)


@pytest.mark.parametrize("kind, words", [(ConnectionKind.SIGNPOST, "Signpost"),
                                         (ConnectionKind.REFERRAL, "Referral")])
def test_a_note_says_whether_it_was_a_signpost_or_a_referral(db, referral, walk, kind, words):
    connection = offers.connection(db.session, referral, walk, kind=kind)
    (note,) = procedure_map.to_fhir(connection, referral)["note"]
    assert note["text"].startswith(words)


def test_the_connectors_notes_stay_in_kindly(db, referral, walk):
    connection = offers.connection(db.session, referral, walk, notes="Husband drinks heavily")
    assert "Husband" not in str(procedure_map.to_fhir(connection, referral))


def test_version_and_last_updated_are_the_connections(db, referral, walk):
    connection = offers.connection(db.session, referral, walk)
    connection.version = 3
    connection.updated_at = datetime(2024, 3, 12, 15, 0, tzinfo=UTC)
    assert procedure_map.to_fhir(connection, referral)["meta"] == {
        "versionId": "3", "lastUpdated": "2024-03-12T15:00:00Z"}
