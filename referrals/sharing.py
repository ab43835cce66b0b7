"""What may be shared about a person, and with whom: the one place every output asks.

Kindly holds words about people: what matters to them, their risks, why they were
referred ("other"), why a referral was rejected, cancelled or closed, notes on
contacts, follow-ups and connections. Each column holding such words is registered
below with its kind, and every output (the practice's pages, the outcome letter, the
FHIR API, email) takes those words through a `Policy` for its audience instead of
reading the row. `Policy.text()` refuses a column that is not registered, and
tests/referrals/test_sharing.py fails when a model of a person's record gains a text
column that is in neither register, so a new field or a new output cannot forget.

The rules (docs/sharing.md says the same for people):

| kind | hub | practice pages, letter | GP system (FHIR) | email |
|---|---|---|---|---|
| ABOUT_PERSON | yes | unless coded only | unless coded only | never |
| FOR_PRACTICE | yes | yes | yes | never |
| IDENTITY | yes | yes | yes | never |
| HUB_ONLY | yes | never | never | never |

"Coded only" is the person's wish (Referral.coded_only) that only coded information go
back to their practice: statuses, dates, codes, scores, offers and outcomes still go;
their words do not, whoever wrote them (the practice's own "what matters" and risks
included: the practice keeps its own record of what it sent). The GP actions stay:
they are the connector's request to the practice, written for it to act on.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from referrals.models import (
    AuditEvent,
    Connection,
    ConnectionEvent,
    Contact,
    FollowUp,
    HubCall,
    Measurement,
    OutcomeLetter,
    Patient,
    PatientDiscrepancy,
    Referral,
    ReferralAddition,
    ReferralChange,
    ReferralEvent,
    ReferralReason,
    SafeguardingConcern,
    UnmetNeed,
    VolunteerCheckIn,
    VolunteerHours,
    VolunteerMatch,
    VolunteerRequest,
)

CODED_ONLY_NOTICE = "The person asked that only coded information is shared"
# What a page shows in place of words it may not show.
WITHHELD = "Not shared: the person asked that only coded information go to the practice"


class Audience(StrEnum):
    HUB = "hub"  # connectors and coordinators: the whole record
    PRACTICE = "practice"  # the referring practice's pages and its outcome letter
    GP_SYSTEM = "gp-system"  # the practice's GP system, over FHIR
    EMAIL = "email"  # anything sent by email: it leaves Kindly and its sign-in


class Kind(StrEnum):
    ABOUT_PERSON = "words about the person"
    FOR_PRACTICE = "written for the practice to act on"
    IDENTITY = "who the person is and how to reach them"
    HUB_ONLY = "the hub's working notes"


K = Kind
# Every column of a person's record that holds words someone wrote.
FREE_TEXT: dict[tuple[type, str], Kind] = {
    (Referral, "what_matters"): K.ABOUT_PERSON,
    (Referral, "risks"): K.ABOUT_PERSON,
    (Referral, "gp_actions"): K.FOR_PRACTICE,
    (ReferralReason, "detail"): K.ABOUT_PERSON,
    # Why it was rejected, cancelled, closed or reassigned; the practice's timeline.
    (ReferralEvent, "reason"): K.ABOUT_PERSON,
    (Connection, "notes"): K.ABOUT_PERSON,
    (ConnectionEvent, "note"): K.ABOUT_PERSON,
    (Connection, "match_explanation"): K.HUB_ONLY,  # from their postcode and wishes
    # Issue 15 (partners): what the person agreed the partner organisation sees at a warm
    # handover (referrals.partners.service shows these to it only with that consent).
    (Connection, "partner_contact"): K.IDENTITY,
    (Connection, "handover_note"): K.HUB_ONLY,
    (Contact, "notes"): K.HUB_ONLY,
    (FollowUp, "purpose"): K.HUB_ONLY,
    (FollowUp, "outcome_note"): K.HUB_ONLY,
    (Patient, "given_name"): K.IDENTITY,
    (Patient, "family_name"): K.IDENTITY,
    (Patient, "postcode"): K.IDENTITY,
    (Patient, "phone"): K.IDENTITY,
    (Patient, "email"): K.IDENTITY,
    (Patient, "interpreter_language"): K.IDENTITY,
    (PatientDiscrepancy, "sent"): K.IDENTITY,
    (PatientDiscrepancy, "stored"): K.IDENTITY,
    # What a practice added instead of referring again (intake.additions).
    (ReferralAddition, "text"): K.ABOUT_PERSON,
    # --- issue 15: the community side. Volunteers, partners and the phone line work
    # with the hub, never with the practice: none of these words is for the practice,
    # its GP system or an email (a volunteer reads only what the hub wrote for them,
    # through referrals.volunteering.service.for_volunteer).
    # A request for a volunteer: the person's first name, phone and postcode when it came
    # from the phone line (a referral's request takes them from the Patient)…
    (VolunteerRequest, "given_name"): K.IDENTITY,
    (VolunteerRequest, "phone"): K.IDENTITY,
    (VolunteerRequest, "postcode"): K.IDENTITY,
    # …and the connector's note written for the volunteer (the form says: no health).
    (VolunteerRequest, "notes"): K.HUB_ONLY,
    (VolunteerMatch, "explanation"): K.HUB_ONLY,  # from their postcode and wishes
    (VolunteerMatch, "response_note"): K.HUB_ONLY,  # the volunteer's why-not, for the hub
    (VolunteerMatch, "end_reason"): K.HUB_ONLY,
    (VolunteerCheckIn, "note"): K.HUB_ONLY,
    (VolunteerHours, "note"): K.HUB_ONLY,  # the volunteer's note on the time given
    # What a volunteer or partner saw or heard: for the hub's coordinators only (the
    # hub's email says that a concern was raised, never what it is).
    (SafeguardingConcern, "concern"): K.HUB_ONLY,
    (SafeguardingConcern, "contact_phone"): K.HUB_ONLY,  # the raiser's, to call back
    # The phone line's log: who called, for whom, what they need and were told.
    (HubCall, "caller_name"): K.IDENTITY,
    (HubCall, "caller_phone"): K.IDENTITY,
    (HubCall, "person_name"): K.IDENTITY,
    (HubCall, "need"): K.HUB_ONLY,
    (HubCall, "information_given"): K.HUB_ONLY,
}

# The other text columns of a person's record, and why they need no rule: they hold
# codes, identifiers or staff names, not words about the person.
NOT_FREE_TEXT: dict[tuple[type, str], str] = {
    (Patient, "nhs_number"): "identifier",
    (Patient, "nhs_number_status"): "code",
    (Patient, "ethnic_category"): "code",
    (Patient, "communication_needs"): "codes",
    (Referral, "reference"): "identifier",
    (Referral, "source"): "code",
    (Referral, "referrer_name"): "the referring clinician's name",
    (Referral, "referrer_identifier"): "the referring clinician's identifier",
    (Referral, "availability"): "codes",
    (Referral, "access_needs"): "codes",
    (Referral, "language"): "code",
    (ReferralReason, "code"): "code",
    (ReferralEvent, "actor_label"): "the API client's or job's name",
    (ReferralEvent, "kind"): "code",
    (ReferralChange, "summary"): "what changed, from codes, dates, staff and directory "
                                 "names only (revisions.touch never puts free text in it)",
    (ReferralChange, "actor_label"): "a staff member's, API client's or job's name",
    (Measurement, "instrument"): "code",
    (Measurement, "instrument_version"): "code",
    (Measurement, "answers"): "coded answers",
    (Measurement, "scores"): "numbers",
    (OutcomeLetter, "created_by_label"): "a staff member's name",
    (ReferralAddition, "author_label"): "a staff member's name",
    (ReferralAddition, "reasons"): "codes",
    (OutcomeLetter, "sha256"): "identifier",
    (UnmetNeed, "category"): "code",
    (UnmetNeed, "postcode_district"): "a neighbourhood (postcode district), counted only",
    (AuditEvent, "actor_label"): "the audit trail, shown to no one outside it",
    (AuditEvent, "action"): "code",
    (AuditEvent, "entity_type"): "code",
    (AuditEvent, "detail"): "the audit trail, shown to no one outside it",
    (AuditEvent, "ip"): "the audit trail, shown to no one outside it",
    (AuditEvent, "origin"): "the audit trail: a keyed hash of a client address",
    # --- issue 15
    (VolunteerRequest, "when"): "codes (days and times)",
    (VolunteerRequest, "status"): "code (open, matched, closed)",
}

_SHARED_WITH_PRACTICE = {K.ABOUT_PERSON: True, K.FOR_PRACTICE: True, K.IDENTITY: True,
                         K.HUB_ONLY: False}


def kind_of(model: type, column: str) -> Kind:
    try:
        return FREE_TEXT[(model, column)]
    except KeyError:
        raise KeyError(f"{model.__name__}.{column} is not registered in referrals.sharing: "
                       "say who may see it before showing it") from None


@dataclass(frozen=True)
class Policy:
    """What one audience may see of one referral's words."""

    audience: Audience
    coded_only: bool = False
    withheld: ClassVar[str] = WITHHELD  # for pages: what to show instead

    def shares(self, kind: Kind) -> bool:
        if self.audience is Audience.HUB:
            return True
        if self.audience is Audience.EMAIL:
            return False
        if kind is K.ABOUT_PERSON and self.coded_only:
            return False
        return _SHARED_WITH_PRACTICE[kind]

    @property
    def notice(self) -> str:
        """What to tell this audience when words are left out for the person's wish."""
        return CODED_ONLY_NOTICE if self.coded_only and not self.free_text else ""

    @property
    def free_text(self) -> bool:
        """May this audience read words about the person (their story, the notes)?"""
        return self.shares(K.ABOUT_PERSON)

    def words(self, column, value) -> str:
        """`value` of the mapped `column` (e.g. FollowUp.purpose), or "" if withheld."""
        if not self.shares(kind_of(column.class_, column.key)):
            return ""
        return (value or "").strip()

    def text(self, row, column: str) -> str:
        """The words in `row.<column>`, or "" where this audience may not have them."""
        return self.words(getattr(type(row), column), getattr(row, column))

    def items(self, row, column: str) -> list[str]:
        """A list column's entries (e.g. Referral.risks), or [] where withheld."""
        if not self.shares(kind_of(type(row), column)):
            return []
        return [item.strip() for item in getattr(row, column) or [] if item and item.strip()]

    def additions(self, referral: Referral) -> list[ReferralAddition]:
        """The additions to `referral` this audience may see: the hub all of them; a
        practice only its own, never what another practice sent about the person."""
        if self.audience is Audience.HUB:
            return list(referral.additions)
        if self.audience is Audience.PRACTICE:
            return [a for a in referral.additions
                    if a.from_practice_id == referral.practice_id]
        return []

    def withholds(self, row, column: str) -> bool:
        """Are there words in `row.<column>` that this audience may not see?"""
        value = getattr(row, column)
        return bool(value) and not self.shares(kind_of(type(row), column))


HUB = Policy(Audience.HUB)
EMAIL = Policy(Audience.EMAIL)


def policy(referral: Referral, audience: Audience) -> Policy:
    """What `audience` may see of this referral's words, honouring the person's wish."""
    return Policy(audience, coded_only=bool(referral.coded_only))


def for_user(referral: Referral, user) -> Policy:
    """What `user` may read of this referral's words: their audience is a permission
    rule, so referrals.access says which it is."""
    from referrals import access  # access imports this module's Audience

    return policy(referral, access.sharing_audience(user))
