"""Reasons for referral: the one coded list, used by the form, the FHIR API and reports.

The reference (shared/reference/domain.md §2.4) verifies no SNOMED CT concept for any
of these needs, so all use Kindly's local code system for now. When a code is
verified, set `snomed` and the FHIR mapping will carry both codings.
"""
from __future__ import annotations

from dataclasses import dataclass

LOCAL_SYSTEM = "https://kindly.example/fhir/CodeSystem/referral-reason"
SNOMED_SYSTEM = "http://snomed.info/sct"


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    snomed: str | None = None
    needs_detail: bool = False


REASONS: tuple[Reason, ...] = (
    Reason("social-isolation", "Social isolation"),
    Reason("loneliness", "Loneliness"),
    Reason("bereavement", "Bereavement"),
    Reason("low-mood", "Low mood or mental wellbeing"),
    Reason("carer-support", "Carer support"),
    Reason("long-term-condition", "Living with a long-term condition"),
    Reason("physical-activity", "Physical activity"),
    Reason("money-debt", "Money or debt"),
    Reason("housing", "Housing"),
    Reason("employment-volunteering", "Employment or volunteering"),
    Reason("other", "Other", needs_detail=True),
)

BY_CODE = {reason.code: reason for reason in REASONS}
OTHER = BY_CODE["other"]


def label_for(code: str) -> str:
    reason = BY_CODE.get(code)
    return reason.label if reason else code
