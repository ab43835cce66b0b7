"""The small-number rule every count shown outside a person's record follows: a count
of 1 to 4 is shown as "<5"; 0 and 5 or more are exact. Here, in the domain, because a
champion's page (referrals.champions) shows counts too and the domain never imports
`reports`; reports/suppression.py builds its fuller rules (secondary suppression,
percentages) on these."""
from __future__ import annotations

THRESHOLD = 5
SMALL = "<5"


def is_small(count: int) -> bool:
    return 0 < count < THRESHOLD


def shown(count: int) -> str:
    """A count on its own, as any page may show it."""
    return SMALL if is_small(count) else f"{count:,}"
