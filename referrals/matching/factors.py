"""The factors `rank` scores an offer on, each a registry entry (`FACTORS`): need, distance,
schedule, cost, access, language, capacity and age. Pure like the ranker.

Each factor's builder works out what it needs of the person once and returns a scorer for
all the offers kept; the scorer, with the `Factor` objects it has made, is kept for the next
person with the same needs, so a ranking seldom makes one (`clear_caches` forgets them).
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable

from referrals.directory.vocabulary import ACCESSIBILITY_BY_CODE, LANGUAGES
from referrals.matching.types import (
    Factor,
    OfferFacts,
    PersonNeeds,
    availability_bits,
    join_words,
)

# Points for a full fit on each factor. A factor's points are its weight times a share from
# -1 (a clear mismatch) to 1 (a full fit), so the weights say how much each one matters.
WEIGHTS: dict[str, float] = {
    "need": 40.0,  # the offer is about what the person was referred for: matters most
    "distance": 25.0,  # full within 1 km, fading smoothly to almost nothing by 15 km
    "schedule": 15.0,  # runs at a time the person said suits them
    "cost": 10.0,  # free, for someone who prefers free (a cost takes half off)
    "access": 15.0,  # the venues have what the person needs to get in and take part
    "language": 15.0,  # run in the person's language (half off for a non-English-only offer)
    "capacity": 8.0,  # taken off for a waiting list
    "age": 3.0,  # taken off when the offer has age limits and the person's age is unknown
}
NEED_ONE_OF_SEVERAL = 0.8  # the offer covers one of the person's several categories
NEAR_KM, FADE_KM, FAR_KM = 1.0, 4.0, 15.0  # share 1 within NEAR_KM, then e^-((d - 1) / 4)
VIRTUAL_SHARE = 0.6  # "by phone or online": about as good as a venue 3 km away
UNKNOWN_DISTANCE_SHARE = 0.4
FLEXIBLE_SHARE = 0.8  # no fixed times: likely arranged to suit, but not known to
WRONG_TIME_SHARE = 0.25  # a day that suits, at a time that does not
PAID_SHARE = -0.5
# What a connector reads for each accessibility code: (the venues have it, they do not).
ACCESS_WORDS: dict[str, tuple[str, str]] = {
    "step-free": ("step-free access", "no step-free access"),
    "accessible-toilet": ("accessible toilet", "no accessible toilet"),
    "hearing-loop": ("hearing loop", "no hearing loop"),
    "seating": ("seating throughout", "not seated throughout"),
    "parking": ("blue badge parking", "no blue badge parking"),
    "public-transport": ("near a bus stop", "not near a bus stop"),
    "quiet-space": ("quiet space", "no quiet space"),
    "large-print": ("large print", "no large print"),
    "bsl": ("British Sign Language", "no British Sign Language"),
    "dementia-friendly": ("dementia friendly", "not dementia friendly"),
}


# Scores one factor for every offer kept: a Factor for each (None: nothing to say), given
# the offers and the km to each one's nearest venue (None: not known).
Scorer = Callable[[list[OfferFacts], list["float | None"]], list["Factor | None"]]
_CACHED_SCORERS: list = []


def _remembered(make):
    """Keep the scorer made for some needs, with the Factors it has made, for the next
    person with the same needs (or the same person again): a ranking then seldom makes a
    Factor, which costs about a microsecond each."""
    cached = functools.lru_cache(maxsize=64)(make)
    _CACHED_SCORERS.append(cached)
    return cached


def clear_caches() -> None:
    """Forget the factors made for earlier people (for tests and the benchmark)."""
    for cached in _CACHED_SCORERS:
        cached.cache_clear()


def _need(person: PersonNeeds) -> Scorer | None:
    """All the person's categories (or two of them) → full points; one of several → 0.8;
    none → nothing, and the connector is told."""
    return _need_scorer(person.categories, WEIGHTS["need"]) if person.categories else None


@_remembered
def _need_scorer(wanted: frozenset[str], weight: float) -> Scorer:
    enough = min(len(wanted), 2)
    full = Factor("need", weight, "", True)
    partial = Factor("need", weight * NEED_ONE_OF_SEVERAL, "", True)
    miss = Factor("need", 0.0, "not for what they were referred for", False)
    known: dict[frozenset[str], Factor] = {}

    def fit(categories: frozenset[str]) -> Factor:
        overlap = len(wanted & categories)
        known[categories] = factor = full if overlap >= enough else partial if overlap else miss
        return factor

    get = known.get
    return lambda offers, kms: [get(o.categories) or fit(o.categories) for o in offers]


def _distance(person: PersonNeeds) -> Scorer:
    """Share 1 within 1 km, then fading smoothly (~0.03 at 15 km); phone or online is as
    good as ~3 km; unknown is a little worse. Worked from the 0.1 km the connector reads."""
    return _distance_scorer(person.max_distance_km or FAR_KM, WEIGHTS["distance"])


@_remembered
def _distance_scorer(limit: float, weight: float) -> Scorer:
    remote = Factor("distance", weight * VIRTUAL_SHARE, "by phone or online", True)
    unknown = Factor("distance", weight * UNKNOWN_DISTANCE_SHARE, "distance unknown", True)
    by_tenths: dict[int, Factor] = {}
    by_tenths_or_remote: dict[int, Factor] = {}

    def at(tenths: int, or_remote: bool) -> Factor:
        km = tenths / 10
        share = 1.0 if km <= NEAR_KM else math.exp((NEAR_KM - km) / FADE_KM)
        if or_remote:
            factor = by_tenths_or_remote[tenths] = Factor(
                "distance", weight * max(share, VIRTUAL_SHARE),
                f"{km:.1f} km, or by phone or online", True)
        else:
            factor = by_tenths[tenths] = Factor(
                "distance", weight * share, f"{km:.1f} km", km <= limit)
        return factor

    def score(offers: list[OfferFacts], kms: list[float | None]) -> list[Factor]:
        out = []
        for offer, km in zip(offers, kms, strict=True):
            if km is None:
                out.append(remote if offer.is_virtual else unknown)
            else:
                tenths = int(km * 10 + 0.5)  # km >= 0; round() costs more
                known = by_tenths_or_remote if offer.is_virtual else by_tenths
                out.append(known.get(tenths) or at(tenths, offer.is_virtual))
        return out

    return score


def _schedule(person: PersonNeeds) -> Scorer:
    """A session on a day and in a part of the day that suit → full points; no fixed times
    → 0.8; the right day at the wrong time → 0.25; no day that suits → 0. With no
    availability recorded any time suits, and every offer gets full points."""
    return _schedule_scorer(availability_bits(person.availability), WEIGHTS["schedule"])


_VERDICTS = {  # kind: (share, words, fits)
    "any": (1.0, "{}", True),
    "fits": (1.0, "{} fits", True),
    "time": (WRONG_TIME_SHARE, "{} — not a time that suits", False),
    "day": (0.0, "{} only — not a day that suits", False),
}


@_remembered
def _schedule_scorer(wanted: int, weight: float) -> Scorer:
    flexible = Factor("schedule", weight * (FLEXIBLE_SHARE if wanted else 1.0),
                      "flexible times", True)
    known: dict[tuple[str, str], Factor] = {}

    def verdict(kind: str, when: str) -> Factor:
        factor = known.get((kind, when))
        if factor is None:
            share, words, fits = _VERDICTS[kind]
            factor = known[kind, when] = Factor("schedule", weight * share,
                                                words.format(when), fits)
        return factor

    def one(offer: OfferFacts) -> Factor:
        sessions = offer._sessions
        if not wanted:
            factor = verdict("any", offer._when)
        else:
            near_miss = factor = None
            for parts, day, label in sessions:
                if parts & wanted:
                    factor = verdict("fits", label)
                    break
                if near_miss is None and day & wanted:
                    near_miss = label
            else:
                factor = verdict("time", near_miss) if near_miss else verdict("day", offer._days)
        by_sessions[sessions] = factor
        return factor

    # Many offers share a timetable (Tuesday 10:00-12:00): each is worked out once.
    by_sessions: dict[tuple, Factor] = {(): flexible}
    get = by_sessions.get
    return lambda offers, kms: [get(o._sessions) or one(o) for o in offers]


def _cost(person: PersonNeeds) -> Scorer:
    """Free → full points and a cost → -0.5 for someone who prefers free; else only said."""
    return _cost_scorer(person.prefers_free, WEIGHTS["cost"])


@_remembered
def _cost_scorer(prefers_free: bool, weight: float) -> Scorer:
    weight = weight if prefers_free else 0.0
    free = Factor("cost", weight, "free", True)
    paid = Factor("cost", weight * PAID_SHARE + 0.0, "has a cost", not prefers_free)
    return lambda offers, kms: [free if o.is_free else paid for o in offers]


def _access(person: PersonNeeds) -> Scorer | None:
    """Share = (needs met - needs unmet) / needs. An offer with no venue (phone or online)
    meets them all; one whose venue is not known meets none."""
    needs = tuple(sorted(person.access_needs))
    return _access_scorer(needs, WEIGHTS["access"]) if needs else None


@_remembered
def _access_scorer(needs: tuple[str, ...], weight: float) -> Scorer:
    no_venue = Factor("access", weight, "", True)
    unknown = Factor("access", -weight, "access not known", False)
    known: dict[frozenset[str], Factor] = {}

    def at(features: frozenset[str]) -> Factor:
        has = [n for n in needs if n in features]
        lacks = [n for n in needs if n not in features]
        words = [access_words(n)[0] for n in has] + [access_words(n)[1] for n in lacks]
        known[features] = factor = Factor(
            "access", weight * (len(has) - len(lacks)) / len(needs), ", ".join(words), not lacks)
        return factor

    get = known.get
    return lambda offers, kms: [
        (get(o.accessibility) or at(o.accessibility)) if o.places else
        no_venue if o.is_virtual else unknown for o in offers]


def _language(person: PersonNeeds) -> Scorer:
    """Someone who needs another language: offered → full points, not → -1. Someone who
    speaks English: an offer run only in other languages → -0.5, and said."""
    wanted = person.language.strip().lower()
    return _language_scorer("" if wanted == "en" else wanted, WEIGHTS["language"])


@_remembered
def _language_scorer(wanted: str, weight: float) -> Scorer:
    if wanted:
        offered = Factor("language", weight, f"in {language_name(wanted)}", True)
        missing = Factor("language", -weight, f"not in {language_name(wanted)}", False)
        return lambda offers, kms: [offered if wanted in o.languages else missing
                                    for o in offers]
    known: dict[frozenset[str], Factor] = {}

    def only(languages: frozenset[str]) -> Factor:
        names = join_words(sorted(language_name(code) for code in languages))
        # Run only in languages the person was not said to speak: as much of a misfit as
        # an offer lacking the language someone needs.
        known[languages] = factor = Factor("language", -weight, f"in {names}", False)
        return factor

    get = known.get
    return lambda offers, kms: [
        None if not o.languages or "en" in o.languages else
        get(o.languages) or only(o.languages) for o in offers]


def _capacity(person: PersonNeeds) -> Scorer:
    """A waiting list → -1."""
    return _capacity_scorer(WEIGHTS["capacity"])


@_remembered
def _capacity_scorer(weight: float) -> Scorer:
    waiting = Factor("capacity", -weight, "waiting list", False)
    return lambda offers, kms: [waiting if o.capacity == "waiting-list" else None
                                for o in offers]


def _age(person: PersonNeeds) -> Scorer | None:
    """Age limits exclude when the age is known; when it is not they cost a little (-1),
    and the connector is asked to check."""
    return _age_scorer(WEIGHTS["age"]) if person.age is None else None


@_remembered
def _age_scorer(weight: float) -> Scorer:
    known: dict[tuple[int | None, int | None], Factor] = {}

    def limited(low: int | None, high: int | None) -> Factor:
        known[low, high] = factor = Factor(
            "age", -weight, f"for {age_limits(low, high)} — age not recorded", False)
        return factor

    get = known.get
    return lambda offers, kms: [
        None if o.minimum_age is None and o.maximum_age is None else
        get((o.minimum_age, o.maximum_age)) or limited(o.minimum_age, o.maximum_age)
        for o in offers]


# The factors, in the order the explanation reads. Each builder works out what it needs of
# the person once and returns the scorer for every offer, or None when it cannot apply.
FACTORS: dict[str, Callable[[PersonNeeds], Scorer | None]] = {
    "need": _need,
    "distance": _distance,
    "schedule": _schedule,
    "cost": _cost,
    "access": _access,
    "language": _language,
    "capacity": _capacity,
    "age": _age,
}


def age_limits(low: int | None, high: int | None) -> str:
    """"ages 18 to 65", "ages 55 and over", "ages up to 25"."""
    if low is not None and high is not None:
        return f"ages {low} to {high}"
    return f"ages {low} and over" if low is not None else f"ages up to {high}"


def access_words(code: str) -> tuple[str, str]:
    """(has it, lacks it) for an accessibility code, also for one not in the vocabulary."""
    if code in ACCESS_WORDS:
        return ACCESS_WORDS[code]
    feature = ACCESSIBILITY_BY_CODE.get(code)
    label = feature.label.lower() if feature else code
    return label, f"no {label}"


def language_name(code: str) -> str:
    return LANGUAGES.get(code, code)
