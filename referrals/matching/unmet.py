"""Needs no offer could meet: a connector's "no suitable offer found" for one of the
person's needs, coded (the offer category and a short reason, never free text) so the
hub can count them by category and neighbourhood for its funders. The reports read the
UnmetNeed rows; this module only records them and marks them met.

Recording one is an addition: it takes the referral's lock and moves its version on,
but never names the version it started from, so a colleague's change meanwhile does not
refuse it (like a contact).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from referrals import access, audit, revisions
from referrals.access import Action
from referrals.directory import vocabulary
from referrals.errors import CaseworkInvalid
from referrals.extensions import db
from referrals.models import Referral, UnmetNeed, UnmetReason, User, utcnow


def postcode_district(postcode: str | None) -> str:
    """The outward code of a stored (normalised) postcode: "KB4" of "KB4 2XY"."""
    outward = (postcode or "").strip().split(" ")[0].upper()
    return outward if len(outward) <= 4 else ""


def needs_of(referral: Referral) -> list[UnmetNeed]:
    """The unmet needs recorded for this referral, oldest first."""
    return list(db.session.scalars(
        select(UnmetNeed).where(UnmetNeed.referral_id == referral.id)
        .order_by(UnmetNeed.recorded_at, UnmetNeed.id)))


def record_unmet_need(
    referral: Referral,
    *,
    actor: User,
    category: str | None,
    reason: str | UnmetReason | None,
    now: datetime | None = None,
) -> UnmetNeed:
    """Record that no suitable offer was found for the person's need in `category` (an
    offer category code), and why (an UnmetReason), counted in the person's postcode
    district as it is now.

    CaseworkInvalid (by field) for a category or reason not in the lists, or a category
    already recorded and not yet met; NotPermitted unless the actor holds the referral
    while it is accepted or in progress.
    """
    revisions.begin(referral)
    access.require(actor, Action.RECORD_UNMET_NEED, referral)
    now = now or utcnow()
    errors = {}
    found = vocabulary.CATEGORY_BY_CODE.get(category or "")
    if found is None:
        errors["category"] = "Select the kind of offer they needed"
    elif any(n.category == found.code and n.met_at is None for n in needs_of(referral)):
        errors["category"] = (f"{found.name} is already recorded as a need no offer could "
                              "meet. Mark it met first if that has changed")
    try:
        why = UnmetReason(reason) if reason else None
    except ValueError:
        why = None
    if why is None:
        errors["reason"] = "Select why no offer suited them"
    if errors:
        raise CaseworkInvalid(errors)
    need = UnmetNeed(referral_id=referral.id, category=found.code, reason=why,
                     postcode_district=postcode_district(referral.patient.postcode),
                     recorded_by=actor, recorded_at=now)
    db.session.add(need)
    revisions.touch(referral, f"No suitable offer found: {found.name} ({why.label.lower()})",
                    actor=actor, now=now)
    db.session.flush()
    audit.record_referral("record-unmet-need", referral, actor=actor, unmet_need_id=need.id,
                          category=found.code, reason=why.value)
    return need


def mark_met(
    referral: Referral, need_id: int, *, actor: User, now: datetime | None = None
) -> UnmetNeed:
    """Mark one of the referral's unmet needs met: an offer was found after all. Marking
    one already met changes nothing (two people may press the button at once).
    LookupError for a need that is not this referral's; NotPermitted as recording."""
    revisions.begin(referral)
    access.require(actor, Action.RECORD_UNMET_NEED, referral)
    need = db.session.get(UnmetNeed, need_id)
    if need is None or need.referral_id != referral.id:
        raise LookupError(need_id)
    revisions.reread(need)
    if need.met_at is not None:
        return need
    now = now or utcnow()
    need.met_at = now
    found = vocabulary.CATEGORY_BY_CODE.get(need.category)
    revisions.touch(referral, f"Need met after all: {found.name if found else need.category}",
                    actor=actor, now=now)
    db.session.flush()
    audit.record_referral("mark-unmet-need-met", referral, actor=actor, unmet_need_id=need.id,
                          category=need.category)
    return need
