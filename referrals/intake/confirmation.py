"""What the practice's confirmation page tells a GP happens next to a new referral."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from referrals.models import ContactMethod, Referral

# How the connector will first get in touch, in the words of "A connector will ...".
_HOW = {
    ContactMethod.PHONE: "phone {name} on {phone}",
    ContactMethod.TEXT: "send a text message to {name} on {phone}",
    ContactMethod.EMAIL: "email {name} at {email}",
    ContactMethod.LETTER: "write to {name} at their home address",
}


@dataclass(frozen=True)
class NextSteps:
    reference: str
    first_name: str
    team: str  # "" while the practice has no connector team
    connector: str  # "" until someone is assigned
    due: date | None
    how: str  # "phone Ann on 0113 496 0000"
    asked: bool  # the way the person said they prefer

    @property
    def due_text(self) -> str:
        return f"{self.due:%A} {self.due.day} {self.due:%B %Y}" if self.due else ""


def next_steps(referral: Referral) -> NextSteps:
    """Who will see the referral, by when they aim to make contact, and how."""
    person = referral.patient
    # Without a stated way, the way the connector has: the phone, the email, or a letter.
    method = person.preferred_contact or (
        ContactMethod.PHONE if person.phone
        else ContactMethod.EMAIL if person.email else ContactMethod.LETTER)
    how = _HOW[method].format(name=person.given_name, phone=person.phone, email=person.email)
    return NextSteps(
        reference=referral.reference or "",
        first_name=person.given_name,
        team=referral.team.name if referral.team else "",
        connector=referral.connector.name if referral.connector else "",
        due=referral.first_contact_due,
        how=how,
        asked=person.preferred_contact is not None,
    )
