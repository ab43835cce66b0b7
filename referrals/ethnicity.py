"""NHS Data Dictionary ETHNIC CATEGORY: the codes a person's answer is stored as.

The 2001-census categories A-S, grouped as the question asks them; Z when the person was
asked and preferred not to say; 99 when nobody asked. The labels are the UK Core
EthnicCategoryEngland displays, so the FHIR API sends them as they are.
"""
from __future__ import annotations

from dataclasses import dataclass

from referrals.models.patient import ETHNIC_NOT_KNOWN

NOT_KNOWN = ETHNIC_NOT_KNOWN  # 99: never asked
NOT_STATED = "Z"  # asked, and preferred not to say


@dataclass(frozen=True)
class EthnicGroup:
    name: str
    categories: tuple[tuple[str, str], ...]  # (code, label)


GROUPS: tuple[EthnicGroup, ...] = (
    EthnicGroup("White", (
        ("A", "British, Mixed British"), ("B", "Irish"), ("C", "Any other White background"))),
    EthnicGroup("Mixed or multiple ethnic groups", (
        ("D", "White and Black Caribbean"), ("E", "White and Black African"),
        ("F", "White and Asian"), ("G", "Any other mixed background"))),
    EthnicGroup("Asian or Asian British", (
        ("H", "Indian or British Indian"), ("J", "Pakistani or British Pakistani"),
        ("K", "Bangladeshi or British Bangladeshi"), ("L", "Any other Asian background"))),
    EthnicGroup("Black, Black British, Caribbean or African", (
        ("M", "Caribbean"), ("N", "African"), ("P", "Any other Black background"))),
    EthnicGroup("Other ethnic group", (
        ("R", "Chinese"), ("S", "Any other ethnic group"))),
)

GROUP_OF: dict[str, str] = {code: g.name for g in GROUPS for code, _ in g.categories}
# Every code a person's answer may be stored as (not 99: that is the absence of one).
LABELS: dict[str, str] = {
    **{code: label for g in GROUPS for code, label in g.categories},
    NOT_STATED: "Not stated",
}
ANSWERS = frozenset(LABELS)
PREFER_NOT_TO_SAY = "Prefer not to say"


def describe(code: str | None) -> str:
    """The category in words for a page: "White: Irish", "Prefer not to say", "Not asked"."""
    if code == NOT_STATED:
        return PREFER_NOT_TO_SAY
    if code in GROUP_OF:
        return f"{GROUP_OF[code]}: {LABELS[code]}"
    return "Not asked"


def error(code: str) -> str | None:
    """Why `code` cannot be stored as someone's answer; None if it can or is blank."""
    if code and code not in ANSWERS:
        return f"Unknown ethnic category {code[:10]!r}: choose one from the list"
    return None


# England and Wales, Census 2021 (ONS TS021), % of usual residents by the 2001 categories
# the NHS codes use (Gypsy, Roma and Arab counted as "other White" and "any other"). The
# demo and the data generator draw people from it.
CENSUS_2021: dict[str, float] = {
    "A": 74.4, "B": 0.9, "C": 6.5,
    "D": 0.9, "E": 0.4, "F": 0.8, "G": 0.8,
    "H": 3.1, "J": 2.7, "K": 1.1, "L": 1.6,
    "M": 1.0, "N": 2.5, "P": 0.5,
    "R": 0.7, "S": 2.2,
}


def allocate(n: int, rng, *, not_stated: float = 0.03, not_asked: float = 0.07) -> list[str]:
    """`n` codes in census proportions, the given shares answering Z and never asked (99),
    shuffled by `rng` (a random.Random): the same seed gives the same people. Counts are
    the nearest whole numbers that add up to `n` (largest remainder), so even a small town
    has the proportions rather than a lucky draw."""
    answered = 1 - not_stated - not_asked
    total = sum(CENSUS_2021.values())
    shares = {code: answered * pct / total for code, pct in CENSUS_2021.items()}
    shares |= {NOT_STATED: not_stated, NOT_KNOWN: not_asked}
    exact = {code: n * share for code, share in shares.items()}
    counts = {code: int(value) for code, value in exact.items()}
    by_remainder = sorted(exact, key=lambda code: (counts[code] - exact[code], code))
    for code in by_remainder[: n - sum(counts.values())]:
        counts[code] += 1
    codes = [code for code, count in counts.items() for _ in range(count)]
    rng.shuffle(codes)
    return codes
