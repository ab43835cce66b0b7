"""DocumentReference and Binary: each version of the outcome letter, the latest current,
the PDF behind it."""
from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.binary import Binary
from fhir.resources.R4B.documentreference import DocumentReference

from fhir_adapters import documentreference as letter_map
from referrals.models import ReferralStatus, Role
from tests.fhir_adapters import validators
from tests.fhir_adapters.test_questionnaireresponse import letter

PDF = b"%PDF-1.4 fake letter\n%%EOF\n"


def valid(resource: dict) -> dict:
    {"DocumentReference": DocumentReference, "Binary": Binary}[
        resource["resourceType"]].model_validate(resource)
    validators.validate_independently(resource)
    return resource


@pytest.fixture
def referral(make, practice):
    return make.referral(practice, status=ReferralStatus.COMPLETED)


def test_the_only_letter_is_current_and_points_at_its_pdf_and_referral(db, make, referral,
                                                                      practice):
    connector = make.user(Role.CONNECTOR, team=practice.team)
    made = letter(db.session, referral, created_by=connector)
    resource = valid(letter_map.to_fhir(made, referral))
    assert (resource["id"], resource["status"], resource["docStatus"]) == (
        str(made.id), "current", "final")
    assert resource["meta"] == {"versionId": "1", "lastUpdated": "2024-04-01T09:00:00Z"}
    assert resource["type"]["text"] == "Social prescribing outcome letter"
    assert resource["subject"]["reference"] == f"Patient/{referral.patient_id}"
    assert resource["date"] == "2024-04-01T09:00:00Z"
    assert resource["context"] == {"related": [{"reference": f"ServiceRequest/{referral.id}",
                                                "display": referral.reference}]}
    assert [a["reference"] for a in resource["author"]] == [
        f"Organization/team-{practice.team_id}", f"PractitionerRole/pr-{connector.id}"]
    (content,) = resource["content"]
    attachment = content["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert attachment["url"] == f"Binary/{made.id}"
    assert attachment["size"] == len(PDF)
    assert "hash" not in attachment  # R4 wants SHA-1; the SHA-256 is the masterIdentifier
    assert resource["masterIdentifier"]["value"] == hashlib.sha256(PDF).hexdigest()
    assert "relatesTo" not in resource


def test_a_new_version_supersedes_the_old_and_says_it_replaces_it(db, referral):
    first = letter(db.session, referral)
    second = letter(db.session, referral, pdf=PDF + b" ",
                    created_at=datetime(2024, 4, 3, 10, 0, tzinfo=UTC))
    old = valid(letter_map.to_fhir(first, referral))
    new = valid(letter_map.to_fhir(second, referral))
    assert (old["status"], new["status"]) == ("superseded", "current")
    # The old DocumentReference changed when the new one arrived.
    assert old["meta"] == {"versionId": "2", "lastUpdated": "2024-04-03T10:00:00Z"}
    assert new["relatesTo"] == [{"code": "replaces",
                                 "target": {"reference": f"DocumentReference/{first.id}"}}]
    assert new["identifier"][0]["value"] == f"{referral.reference}-2"
    assert letter_map.is_current(second, referral)
    assert not letter_map.is_current(first, referral)


def test_a_letter_without_team_or_author_has_no_author(db, referral):
    referral.team = None
    resource = valid(letter_map.to_fhir(letter(db.session, referral), referral))
    assert "author" not in resource


def test_the_binary_carries_the_pdf_and_is_guarded_by_its_document_reference(db, referral):
    made = letter(db.session, referral)
    resource = valid(letter_map.binary_to_fhir(made, PDF))
    assert resource["contentType"] == "application/pdf"
    assert base64.b64decode(resource["data"]) == PDF
    assert resource["securityContext"] == {"reference": f"DocumentReference/{made.id}"}
