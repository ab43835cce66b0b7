"""Ranking community offers for one person: a pure, fast function that explains itself.

Pure: no Flask, no session, no models. `facts.py` turns models into the frozen facts of
`types.py` once; `rank` is then arithmetic over them, quick enough (a few milliseconds for
2,000 offers, see bench/matching.py) to run on every page view.

Hard constraints exclude an offer (`excluded_reason`): not running, full, outside its age
limits, or further than the person will travel when it can only be reached in person.
Everything else ranks: each factor in `FACTORS` (factors.py) gives points (its weight in
`WEIGHTS` times a share from -1 to 1) and the few words a connector reads.

Speed: whatever depends on the offer alone is worked out when its facts are made
(`OfferFacts.__post_init__`: venues as points on the unit sphere, sessions as bits of the
week's day-parts); each factor is scored for all offers in one comprehension; and each
factor's scorer, with the `Factor` objects it has made, is kept for the next person with
the same needs, so a ranking seldom makes one. See bench/matching.py for the figures.
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

from referrals.matching.factors import (
    ACCESS_WORDS,
    FACTORS,
    WEIGHTS,
    access_words,
    age_limits,
    clear_caches,
    language_name,
)
from referrals.matching.types import (
    SLOTS,
    Factor,
    Match,
    OfferFacts,
    PersonNeeds,
    Session,
    unit_vector,
)

# Callers import the matcher from here: rank and its hard constraints, the values of
# types.py, and the factors' registry, weights and words (factors.py).
__all__ = [
    "ACCESS_WORDS", "EARTH_RADIUS_KM", "FACTORS", "SLOTS", "WEIGHTS", "Factor", "Match",
    "OfferFacts", "PersonNeeds", "Session", "access_words", "age_limits", "clear_caches",
    "excluded_reason", "language_name", "rank",
]

EARTH_RADIUS_KM = 6371.0088  # as referrals.geo, which cannot be imported here (it needs Flask)
_DIAMETER_KM = 2 * EARTH_RADIUS_KM
_NOWHERE = math.inf  # sorts offers with no known distance after equal-scoring ones


def rank(person: PersonNeeds, offers: Sequence[OfferFacts], *,
         limit: int | None = None) -> list[Match]:
    """The offers that break no hard constraint, best first: score (to one decimal) down,
    then nearest, then name, then id; only the first `limit` if given."""
    kept, kms = _Screen(person).keep(offers)
    # A factor at a time over all the offers kept (a column each), then a row per offer:
    # a comprehension per factor costs far less than a call per factor per offer.
    columns = [score(kept, kms) for build in FACTORS.values()
               if (score := build(person)) is not None]
    totals = [0.0] * len(kept)
    for column in columns:
        totals = [t if f is None else t + f.points for t, f in zip(totals, column)]
    # To one decimal place, halves up (plain arithmetic: round() costs ~0.3 µs an offer).
    scores = [(total * 10 + 0.5) // 1 / 10 for total in totals]
    chosen: Sequence[int] = range(len(kept))
    if limit is not None and limit < len(kept):
        if limit <= 0:
            return []
        # Only offers scoring at least the limit-th best can make the cut: order just those.
        lowest = heapq.nlargest(limit, scores)[-1]
        chosen = [i for i, score in enumerate(scores) if score >= lowest]
    order = sorted((-scores[i], _NOWHERE if kms[i] is None else kms[i], kept[i].name,
                    kept[i].offer_id, i) for i in chosen)[:limit]
    rows = list(zip(*columns)) if columns else [()] * len(kept)
    matches = []
    append = matches.append
    for _, _, _, offer_id, i in order:
        # Match(offer_id, score, factors) at half the cost: a frozen dataclass's __init__
        # takes ~1 µs, and there may be 2,000 of them.
        match = _new(Match)
        _set_offer_id(match, offer_id)
        _set_score(match, scores[i])
        _set_factors(match, tuple(filter(None, rows[i])))
        append(match)
    return matches


def excluded_reason(person: PersonNeeds, offer: OfferFacts) -> str | None:
    """Why this offer can never be suggested to this person (e.g. "full"), or None."""
    return _Screen(person).check(offer)


_new = object.__new__
_set_offer_id, _set_score, _set_factors = (
    Match.offer_id.__set__, Match.score.__set__, Match.factors.__set__)


class _Screen:
    """The hard constraints (`keep` keeps the offers that break none, `check` says which
    one an offer breaks), and the distance to each offer's nearest venue.

    Distances go through points on the unit sphere: the chord between two points gives
    the great-circle distance exactly (haversine's a is (chord / 2)²), costs a few
    multiplications rather than trigonometry, and compared with the chord of the
    person's limit it is itself the pre-check a bounding box would be, only exact."""

    __slots__ = ("age", "home", "max_km", "within")

    def __init__(self, person: PersonNeeds):
        self.age = person.age
        self.home = self.max_km = self.within = None
        if person.home is None:
            return  # so max_distance_km cannot apply either
        self.home = unit_vector(*person.home)
        self.max_km = max_km = person.max_distance_km
        if max_km is not None:  # the limit as a squared chord
            self.within = (2 * math.sin(min(max_km / EARTH_RADIUS_KM, math.pi) / 2)) ** 2

    def check(self, offer: OfferFacts) -> str | None:
        if self.keep((offer,))[0]:
            return None
        if not offer.active:
            return "not running at the moment"
        if offer.capacity == "full":
            if offer.capacity_returns_on is not None:
                return f"full: no room until {offer.capacity_returns_on:%-d %B %Y}"
            return "full: not taking anyone new"
        age, low, high = self.age, offer.minimum_age, offer.maximum_age
        if age is not None and ((low is not None and age < low) or
                                (high is not None and age > high)):
            return f"for {age_limits(low, high)} only"
        return f"more than {self.max_km:g} km away"

    def keep(self, offers: Sequence[OfferFacts]) -> tuple[list[OfferFacts], list[float | None]]:
        """The offers that break no hard constraint, and the km to each (None: not known)."""
        age, home, within = self.age, self.home, self.within
        open_to_them = [o for o in offers if o.active and o.capacity != "full" and (
            age is None or ((o.minimum_age is None or o.minimum_age <= age) and
                            (o.maximum_age is None or age <= o.maximum_age)))]
        if home is None:
            return open_to_them, [None] * len(open_to_them)
        x0, y0, z0 = home
        asin, sqrt = math.asin, math.sqrt
        kept, kms = [], []
        for o in open_to_them:
            if not o._points:
                kept.append(o)
                kms.append(None)
                continue
            nearest = 4.0  # the squared chord to the nearest venue; 4 is the far side
            for x, y, z in o._points:
                chord = (x - x0) * (x - x0) + (y - y0) * (y - y0) + (z - z0) * (z - z0)
                if chord < nearest:  # noqa: PLR1730 (cheaper than calling min() in this loop)
                    nearest = chord
            if within is not None and nearest > within and not o.is_virtual:
                continue
            kept.append(o)
            kms.append(_DIAMETER_KM * asin(sqrt(nearest) / 2))
        return kept, kms
