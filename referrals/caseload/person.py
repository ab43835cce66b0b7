"""What the connector records on the person's own record while holding their referral."""
from __future__ import annotations

from datetime import datetime

from referrals import access, audit, ethnicity, revisions
from referrals.access import Action
from referrals.errors import CaseworkInvalid
from referrals.extensions import db
from referrals.models import Referral, User, utcnow


def record_ethnic_category(
    referral: Referral,
    *,
    actor: User,
    code: str,
    expected_version: int | None,
    now: datetime | None = None,
) -> None:
    """Record the person's answer to the ethnic group question: a code A-S, or Z when
    they preferred not to say. Blank is refused (CaseworkInvalid): not asking is no
    answer, and never replaces one.

    A change of the referral it is made through (StaleReferral if the connector's page
    was older than the referral); NotPermitted unless the actor holds the open referral.
    The audit event names the person, and keeps the code out of the referral's change
    log, which colleagues are shown.
    """
    revisions.begin(referral, expected_version)
    access.require(actor, Action.RECORD_ETHNIC_CATEGORY, referral)
    code = (code or "").strip()
    if not code:
        raise CaseworkInvalid({"ethnic_category": "Select their ethnic group, or prefer not "
                                                  "to say"})
    if message := ethnicity.error(code):
        raise CaseworkInvalid({"ethnic_category": message})
    patient = referral.patient
    if patient.ethnic_category == code:
        return
    now = now or utcnow()
    before = patient.ethnic_category
    patient.ethnic_category = code
    patient.updated_at = now
    revisions.touch(referral, "Ethnic group recorded", actor=actor, now=now)
    audit.record("record-ethnic-category", actor=actor, entity_type="patient",
                 entity_id=patient.id, patient_id=patient.id,
                 detail={"referral_id": referral.id, "was_known": before != ethnicity.NOT_KNOWN})
    db.session.flush()
