"""Adding information to a person's open referral instead of referring them again.

When the referral form is refused as a duplicate (DuplicateOpenReferral), the GP sends
what they typed to the open referral: a ReferralAddition on its timeline, and a
notification to whoever works on it. The open referral may be another practice's; the
sender then learns only that the team has it (access.Action.ADD_INFORMATION).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from referrals import access, audit, reasons
from referrals.errors import DomainError, IntakeInvalid, InvalidNhsNumber
from referrals.extensions import db
from referrals.intake.service import find_open_referral
from referrals.models import (
    Patient,
    Referral,
    ReferralAddition,
    Urgency,
    User,
    utcnow,
)
from referrals.nhs_number import normalise
from referrals.notifications.service import notify

MAX_TEXT = 4000
NO_OPEN_REFERRAL = ("This person no longer has an open referral. Make a new referral instead.")
# The same words for the scheduler's links (referrals.scheduler).
# The workspace section where additions show, on the referral's timeline.
HISTORY_URL = "/caseload/referrals/{id}/history"


class NoOpenReferral(DomainError):
    """The referral closed (or never was) between the refusal and the sending."""


@dataclass
class AdditionRequest:
    nhs_number: str
    text: str
    reasons: list[str] = field(default_factory=list)
    urgency: Urgency | None = None


def check(request: AdditionRequest) -> dict[str, str]:
    """Every rule the request breaks, by form field name. Empty when valid."""
    errors: dict[str, str] = {}
    try:
        normalise(request.nhs_number)
    except InvalidNhsNumber as exc:
        errors["nhs_number"] = str(exc)
    text = request.text.strip()
    if not text:
        errors["text"] = "Enter the information you want to add"
    elif len(text) > MAX_TEXT:
        errors["text"] = f"Information must be {MAX_TEXT} characters or fewer"
    if unknown := [code for code in request.reasons if code not in reasons.BY_CODE]:
        errors["reasons"] = f"Unknown reason for referral: {', '.join(unknown)}"
    return errors


def open_referral_for(nhs_number: str) -> Referral | None:
    """The person's open referral, whichever practice made it."""
    patient = db.session.scalars(
        select(Patient).where(Patient.nhs_number == normalise(nhs_number))).first()
    return find_open_referral(patient) if patient is not None else None


def add_information(request: AdditionRequest, *, actor: User,
                    now: datetime | None = None) -> ReferralAddition:
    """Store what `actor` sent as an addition to the person's open referral, tell its
    connector (or, while it waits in the queue, the team's coordinators), and audit it.

    IntakeInvalid for a bad request; NotPermitted unless access allows it; NoOpenReferral
    when the person has none open any more. Flushes; the caller commits.
    """
    now = now or utcnow()
    if errors := check(request):
        raise IntakeInvalid(errors)
    referral = open_referral_for(request.nhs_number)
    if referral is None:
        raise NoOpenReferral(NO_OPEN_REFERRAL)
    access.require(actor, access.Action.ADD_INFORMATION, referral)
    addition = ReferralAddition(
        referral=referral, from_practice_id=actor.practice_id, author_id=actor.id,
        author_label=actor.name, text=request.text.strip(),
        reasons=list(dict.fromkeys(request.reasons)), urgency=request.urgency, created_at=now)
    db.session.add(addition)
    db.session.flush()
    for user in _told(referral):
        notify(user, "referral-addition", f"New information for referral {referral.reference}",
               "A practice added information to this referral.",
               HISTORY_URL.format(id=referral.id), now=now)
    audit.record("add-information", actor=actor, entity_type="referral",
                 entity_id=referral.id, patient_id=referral.patient_id,
                 detail={"addition": addition.id,
                         "sender_sees_referral": access.can_see(actor, referral)})
    return addition


def _told(referral: Referral) -> list[User]:
    if referral.connector is not None and referral.connector.active:
        return [referral.connector]
    if referral.team_id is None:
        return []
    return list(db.session.scalars(
        select(User).where(access.team_coordinators([referral.team_id])).order_by(User.id)))
