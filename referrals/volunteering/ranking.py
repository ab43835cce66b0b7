"""Ranking volunteers for one person's request: pure, and explained like the offer matcher.

The shape follows referrals/matching: frozen facts in, a registry of factors (`FACTORS`),
each giving points (its weight in `WEIGHTS` times a share from -1 to 1) and the few words
a connector reads. Hard constraints leave a volunteer out with the reason said
(`Excluded`), so the connector knows why someone they expected is not there. No Flask,
no session, no models: service.py makes the facts.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from referrals.matching.scoring import EARTH_RADIUS_KM
from referrals.matching.types import Factor, join_words

DAYS = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
        "fri": "Friday", "sat": "Saturday", "sun": "Sunday"}
PARTS = ("morning", "afternoon", "evening")
# Every "day-part" a volunteer or a request may name, in the week's order.
SLOTS = tuple(f"{day}-{part}" for day in DAYS for part in PARTS)
# Needs met by phone: where the volunteer lives matters only a little.
REMOTE_NEEDS = frozenset({"befriending_calls"})

WEIGHTS: dict[str, float] = {
    "need": 40.0,  # they offer what the person needs (always, or they are not listed)
    "distance": 25.0,  # full within 1 km, fading by 15 km; a fifth of it for phone calls
    "availability": 20.0,  # free when the person would like it
    "commitments": 10.0,  # taken off for each match they already have running
}
NEAR_KM, FADE_KM = 1.0, 4.0
REMOTE_DISTANCE_SHARE = 0.2  # a phone call: nearby is a little nicer, never required
UNKNOWN_DISTANCE_SHARE = 0.4
UNKNOWN_AVAILABILITY_SHARE = 0.5
NO_OVERLAP_SHARE = -0.5
COMMITMENT_SHARE = -0.5  # per running match, down to -1


@dataclass(frozen=True, slots=True)
class VolunteerFacts:
    volunteer_id: int
    name: str
    offers: frozenset[str]
    home: tuple[float, float] | None
    availability: frozenset[str]
    travel_km: float | None
    running_matches: int = 0


@dataclass(frozen=True, slots=True)
class RequestFacts:
    need: str
    need_label: str
    home: tuple[float, float] | None
    when: frozenset[str]


@dataclass(frozen=True, slots=True)
class Ranked:
    volunteer_id: int
    name: str
    score: float
    factors: tuple[Factor, ...]

    @property
    def explanation(self) -> str:
        return " · ".join(f.text for f in self.factors if f.text)


@dataclass(frozen=True, slots=True)
class Excluded:
    volunteer_id: int
    name: str
    reason: str


def rank(request: RequestFacts, volunteers: list[VolunteerFacts], *,
         left_out: dict[int, str] | None = None) -> tuple[list[Ranked], list[Excluded]]:
    """The volunteers offering the request's need, best first (score down, then nearest,
    then name), and those left out with why: `left_out` (the caller's reasons, e.g. they
    already declined this request) and anyone further than they said they would travel."""
    left_out = left_out or {}
    ranked, excluded = [], []
    for v in volunteers:
        if request.need not in v.offers:
            continue
        km = distance_km(request.home, v.home)
        if v.volunteer_id in left_out:
            excluded.append(Excluded(v.volunteer_id, v.name, left_out[v.volunteer_id]))
        elif (request.need not in REMOTE_NEEDS and km is not None
              and v.travel_km is not None and km > v.travel_km):
            excluded.append(Excluded(v.volunteer_id, v.name,
                                     f"{km:.1f} km away: travels up to {v.travel_km:g} km"))
        else:
            factors = tuple(f for build in FACTORS.values()
                            if (f := build(request, v, km)) is not None)
            score = math.floor(sum(f.points for f in factors) * 10 + 0.5) / 10
            ranked.append((-score, math.inf if km is None else km, v.name, v.volunteer_id,
                           Ranked(v.volunteer_id, v.name, score, factors)))
    ranked.sort(key=lambda row: row[:4])
    return [row[-1] for row in ranked], sorted(excluded, key=lambda e: e.name)


def distance_km(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float | None:
    if a is None or b is None:
        return None
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def slot_words(slots) -> str:
    """"Monday mornings and Thursday afternoons" from "mon-morning", "thu-afternoon"."""
    words = []
    for slot in SLOTS:
        if slot in slots:
            day, _, part = slot.partition("-")
            words.append(f"{DAYS[day]} {part}s")
    return join_words(words)


def _factor(name: str, share: float, text: str, fits: bool = True) -> Factor:
    return Factor(name, WEIGHTS[name] * share, text, fits)


def _need(request: RequestFacts, v: VolunteerFacts, km: float | None) -> Factor:
    return _factor("need", 1.0, f"offers {request.need_label.lower()}")


def _distance(request: RequestFacts, v: VolunteerFacts, km: float | None) -> Factor:
    remote = request.need in REMOTE_NEEDS
    if km is None:
        return _factor("distance", UNKNOWN_DISTANCE_SHARE * (REMOTE_DISTANCE_SHARE if remote
                                                             else 1), "distance not known")
    share = 1.0 if km <= NEAR_KM else math.exp(-(km - NEAR_KM) / FADE_KM)
    return _factor("distance", share * (REMOTE_DISTANCE_SHARE if remote else 1),
                   f"{km:.1f} km away")


def _availability(request: RequestFacts, v: VolunteerFacts, km: float | None) -> Factor | None:
    if not request.when:
        return None  # the person said any time: nothing to weigh
    if not v.availability:
        return _factor("availability", UNKNOWN_AVAILABILITY_SHARE, "has not said when they are free")
    both = request.when & v.availability
    if not both:
        return _factor("availability", NO_OVERLAP_SHARE, "not free at the times asked", False)
    share = len(both) / len(request.when)
    return _factor("availability", share, f"free {slot_words(both)}")


def _commitments(request: RequestFacts, v: VolunteerFacts, km: float | None) -> Factor | None:
    if not v.running_matches:
        return None
    n = v.running_matches
    return _factor("commitments", max(-1.0, COMMITMENT_SHARE * n),
                   f"already matched with {n} {'person' if n == 1 else 'people'}")


Builder = Callable[[RequestFacts, VolunteerFacts, "float | None"], "Factor | None"]
FACTORS: dict[str, Builder] = {
    "need": _need,
    "distance": _distance,
    "availability": _availability,
    "commitments": _commitments,
}
