"""The SNOMED CT codes an outcome letter asks the practice to enter in the GP record.

Only concepts verified in shared/reference/domain.md §2.4 are here. "Social prescribing
offered" (871691000000100 as remembered) is NOT verified and must not be added until it
is confirmed in the NHS Terminology Browser; nor is any code for "could not be
contacted" known, so that letter says plainly that there is nothing to code.
"""
from __future__ import annotations

from dataclasses import dataclass

from referrals.models import ReferralStatus

SNOMED_SYSTEM = "http://snomed.info/sct"


@dataclass(frozen=True)
class Code:
    code: str
    display: str
    system: str = SNOMED_SYSTEM


# "To be used when an individual accepts a referral to the SPLW – for first interaction
# in an episode of care only" (NHS England FAQ, via domain.md §2.4).
REFERRAL_TO_SOCIAL_PRESCRIBING = Code("871731000000106", "Referral to social prescribing service")
# "When an individual declines a referral to the SPLW" (same FAQ).
SOCIAL_PRESCRIBING_DECLINED = Code("871711000000103", "Social prescribing declined")

NO_CODE_UNABLE_TO_CONTACT = "No code: the person could not be contacted"
NO_CODE_NOT_TAKEN_UP_YET = "No code yet: the person has not taken up the referral"


def codes_for(status: ReferralStatus, *, engaged: bool) -> tuple[tuple[Code, ...], str]:
    """The codes for a referral now at `status`, and what to say when there are none.

    `engaged`: the referral reached in progress (the connector reached the person and
    work began), which is what "took up the referral" means here. A person who then
    declined is coded as declined; one who engaged and later stopped answering still
    took the referral up.
    """
    if status is ReferralStatus.DECLINED:
        return (SOCIAL_PRESCRIBING_DECLINED,), ""
    if engaged:
        return (REFERRAL_TO_SOCIAL_PRESCRIBING,), ""
    if status is ReferralStatus.UNABLE_TO_CONTACT:
        return (), NO_CODE_UNABLE_TO_CONTACT
    return (), NO_CODE_NOT_TAKEN_UP_YET
