"""The offers a connector chose with the person, to give them: printed (plain or large
print) or emailed.

Only directory facts go in it (what, when, where, cost, how to get in touch) and the
person's own name: nothing anyone wrote about them, so it holds whatever the person
chose to share with their practice (`coded_only` is about the practice, not them).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from referrals import access, audit
from referrals.access import Action
from referrals.directory import display
from referrals.errors import CaseworkInvalid, NotPermitted
from referrals.models import ConnectionStatus, ContactMethod, Referral, User
from referrals.notifications.outbound import deliver_email

# Offers still in play for the person: put to them, agreed, or going already.
CHOSEN = (ConnectionStatus.SUGGESTED, ConnectionStatus.ACCEPTED, ConnectionStatus.TAKEN_ON,
          ConnectionStatus.ATTENDED)


@dataclass(frozen=True)
class HandoutOffer:
    name: str
    organisation: str
    what: str
    when: str
    where: list[str]
    cost: str
    contact: list[str]


@dataclass(frozen=True)
class Handout:
    given_name: str
    full_name: str
    offers: list[HandoutOffer]
    connector: str
    connector_phone: str
    made_on: date


def build_handout(referral: Referral, *, today: date) -> Handout:
    """The chosen offers, in the order they were put to the person. Reads only."""
    offers = [_offer(c.offer) for c in sorted(referral.connections, key=lambda c: c.id)
              if c.status in CHOSEN]
    connector = referral.connector
    return Handout(
        given_name=referral.patient.given_name, full_name=referral.patient.full_name,
        offers=offers, connector=connector.name if connector else "",
        connector_phone=connector.phone if connector else "", made_on=today)


def _offer(offer) -> HandoutOffer:
    where = []
    for venue in offer.locations:
        if venue.location_type == "virtual":
            where.append("Online or by phone")
        else:
            where.append(", ".join(part for part in (
                venue.name, venue.address_1, venue.address_2, venue.city, venue.postal_code)
                if part))
    contact = [text for text in (
        f"Phone {offer.contact_phone}" if offer.contact_phone else "",
        f"Email {offer.email}" if offer.email else "",
        f"Website {offer.url}" if offer.url else "",
        f"Ask for {offer.contact_name}" if offer.contact_name else "") if text]
    return HandoutOffer(
        name=offer.name, organisation=offer.organisation.name if offer.organisation else "",
        what=offer.description or offer.kind.label, when=display.when_text(offer),
        where=where or ["Online or by phone"], cost=display.cost_text(offer),
        contact=contact or ["Ask your connector how to get in touch"])


def may_email(referral: Referral) -> bool:
    """The person gave an email address and asked to be contacted by email."""
    patient = referral.patient
    return bool(patient.email) and patient.preferred_contact is ContactMethod.EMAIL


def as_text(handout: Handout) -> str:
    """The handout as a plain-text email (plain text reads well at any size)."""
    lines = [f"Dear {handout.given_name},", "",
             "Here are the groups and services we talked about.", ""]
    for number, offer in enumerate(handout.offers, 1):
        lines += [f"{number}. {offer.name}" + (f" ({offer.organisation})"
                                               if offer.organisation else ""),
                  f"What it is: {offer.what}", f"When: {offer.when}",
                  *(f"Where: {place}" for place in offer.where), f"Cost: {offer.cost}",
                  *(f"How to get in touch: {way}" for way in offer.contact), ""]
    sign_off = handout.connector or "Your community connector"
    lines += ["If anything has changed or you would like to talk it over, get in touch.",
              "", sign_off]
    if handout.connector_phone:
        lines.append(f"Phone {handout.connector_phone}")
    return "\n".join(lines) + "\n"


def email_handout(referral: Referral, *, actor: User, config, today: date) -> str:
    """Email the chosen offers to the person, when they asked to be emailed. Audited.
    Returns how it left (referrals.notifications.outbound); the caller commits."""
    if not access.can(actor, Action.RECORD_CONTACT, referral):
        raise NotPermitted("You cannot email this person about this referral.")
    if not may_email(referral):
        raise CaseworkInvalid({"email": f"{referral.patient.given_name} has not asked to be "
                                        "emailed: record their email address and email as "
                                        "how they prefer to be contacted first"})
    handout = build_handout(referral, today=today)
    if not handout.offers:
        raise CaseworkInvalid({"email": "There are no chosen offers to send yet: record an "
                                        "offer from the suggestions first"})
    how = deliver_email(config, to=referral.patient.email,
                        subject="The groups and services we talked about",
                        body=as_text(handout))
    audit.record_referral("email-offers", referral, actor=actor, delivery=how,
                          offers=len(handout.offers))
    return how
