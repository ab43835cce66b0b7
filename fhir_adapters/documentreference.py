"""DocumentReference and Binary: the outcome letter sent back to the practice.

Each stored version of a referral's letter (OutcomeLetter, immutable) is one
DocumentReference; its PDF is the Binary with the same id.

| OutcomeLetter | DocumentReference |
|---|---|
| id | id (and Binary/<id>) |
| the latest of the referral's letters | status `current`; earlier ones `superseded` |
| (immutable) | docStatus `final`; meta.versionId "1", or "2" once a later version superseded it (meta.lastUpdated = when) |
| sha256 | masterIdentifier `https://kindly.example/fhir/Id/outcome-letter-sha256` (hex) |
| referral reference + number | identifier `https://kindly.example/fhir/Id/outcome-letter`, `<reference>-<number>` |
| (fixed) | type: `https://kindly.example/fhir/CodeSystem/document-type#outcome-letter`, text "Social prescribing outcome letter" |
| referral | subject -> its Patient; context.related -> ServiceRequest/<referral id> |
| created_at | date, content.attachment.creation |
| the referral's team, created_by | author -> Organization/team-<id>, PractitionerRole/pr-<id> |
| number > 1 | relatesTo `replaces` -> the previous version's DocumentReference |
| size, the PDF | content.attachment {contentType application/pdf, url Binary/<id>, size, title} |

No `attachment.hash`: FHIR R4 defines it as the SHA-1 of the data, and Kindly keeps
the SHA-256 (sent as the masterIdentifier) so that listing letters never loads a PDF.
No SNOMED document type: none has been verified for this letter.
"""
from __future__ import annotations

import base64

from fhir_adapters import codes
from fhir_adapters.common import concept, instant, reference
from fhir_adapters.organization import team_id
from fhir_adapters.patient import patient_reference
from fhir_adapters.practitioner import role_id
from referrals.models import LetterTrigger, OutcomeLetter, Referral

PDF = "application/pdf"
LETTER_ID = f"{codes.KINDLY}/Id/outcome-letter"
LETTER_SHA256 = f"{codes.KINDLY}/Id/outcome-letter-sha256"
DOCUMENT_TYPE = f"{codes.KINDLY}/CodeSystem/document-type"
LETTER_TYPE = ("outcome-letter", "Social prescribing outcome letter")
TRIGGER_WORDS = {
    LetterTrigger.COMPLETED: "made when the referral was completed",
    LetterTrigger.DECLINED: "made when the person declined the referral",
    LetterTrigger.UNABLE_TO_CONTACT: "made when the person could not be contacted",
    LetterTrigger.ON_DEMAND: "made on request by the connector",
    LetterTrigger.BATCH: "made by the outstanding letters run",
}


def neighbours(letter: OutcomeLetter, referral: Referral
               ) -> tuple[OutcomeLetter | None, OutcomeLetter | None]:
    """The version before this one and the one after it, from referral.letters."""
    earlier = [other for other in referral.letters if other.number < letter.number]
    later = [other for other in referral.letters if other.number > letter.number]
    return (max(earlier, key=lambda o: o.number) if earlier else None,
            min(later, key=lambda o: o.number) if later else None)


def is_current(letter: OutcomeLetter, referral: Referral) -> bool:
    return neighbours(letter, referral)[1] is None


def title(letter: OutcomeLetter, referral: Referral) -> str:
    return f"Outcome letter {referral.reference}, version {letter.number}"


def to_fhir(letter: OutcomeLetter, referral: Referral) -> dict:
    """`referral.letters` tells whether a later version superseded this one."""
    previous, superseded_by = neighbours(letter, referral)
    changed = superseded_by.created_at if superseded_by is not None else letter.created_at
    words = f"{LETTER_TYPE[1]}, version {letter.number}, " \
            f"{TRIGGER_WORDS.get(letter.trigger, 'made')}"
    resource = {
        "resourceType": "DocumentReference",
        "id": str(letter.id),
        "meta": {"versionId": "1" if superseded_by is None else "2",
                 "lastUpdated": instant(changed)},
        "masterIdentifier": {"system": LETTER_SHA256, "value": letter.sha256},
        "identifier": [{"system": LETTER_ID, "value": f"{referral.reference}-{letter.number}"}],
        "status": "current" if superseded_by is None else "superseded",
        "docStatus": "final",
        "type": concept(DOCUMENT_TYPE, *LETTER_TYPE, text=LETTER_TYPE[1]),
        "subject": patient_reference(referral.patient),
        "date": instant(letter.created_at),
    }
    authors = []
    if referral.team is not None:
        authors.append(reference("Organization", team_id(referral.team), referral.team.name))
    if letter.created_by is not None:
        authors.append(reference("PractitionerRole", role_id(letter.created_by),
                                 letter.created_by.name))
    if authors:
        resource["author"] = authors
    if previous is not None:
        resource["relatesTo"] = [{"code": "replaces",
                                  "target": reference("DocumentReference", previous.id)}]
    resource["description"] = words
    resource["content"] = [{"attachment": {
        "contentType": PDF,
        "language": "en-GB",
        "url": f"Binary/{letter.id}",
        "size": letter.size,
        "title": title(letter, referral),
        "creation": instant(letter.created_at),
    }}]
    resource["context"] = {"related": [reference("ServiceRequest", referral.id,
                                                 referral.reference)]}
    return resource


def binary_to_fhir(letter: OutcomeLetter, pdf: bytes) -> dict:
    """The PDF as a Binary resource (base64), for clients that asked for FHIR JSON."""
    return {
        "resourceType": "Binary",
        "id": str(letter.id),
        "meta": binary_meta(letter),
        "contentType": PDF,
        "securityContext": reference("DocumentReference", letter.id),
        "data": base64.b64encode(pdf).decode("ascii"),
    }


def binary_meta(letter: OutcomeLetter) -> dict:
    """The PDF never changes: version 1, from when it was made."""
    return {"versionId": "1", "lastUpdated": instant(letter.created_at)}
