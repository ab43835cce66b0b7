"""Ranking community offers for one person: a pure, fast function that explains itself.

Pure: no Flask, no session, no models. `facts.py` turns models into the frozen facts below
once; `rank` is then arithmetic over them, quick enough (a few milliseconds for 2,000
offers, see bench/matching.py) to run on every page view.

Hard constraints exclude an offer (`excluded_reason`): not running, full, outside its age
limits, or further than the person will travel when it can only be reached in person.
Everything else ranks: each factor in `FACTORS` gives points (its weight in `WEIGHTS` times a
share from -1 to 1) and the few words a connector reads.

Speed: whatever depends on the offer alone is worked out when its facts are made
(`OfferFacts.__post_init__`: venues as points on the unit sphere, sessions as bits of the
week's day-parts); each factor is scored for all offers in one comprehension; and each
factor's scorer, with the `Factor` objects it has made, is kept for the next person with
the same needs, so a ranking seldom makes one. See bench/matching.py for the figures.
"""
from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import time

from referrals.directory.vocabulary import ACCESSIBILITY_BY_CODE, LANGUAGES, WEEKDAY_NAMES

# Parts of the day a connector records ("TU-morning"), in minutes from midnight.
SLOTS = {"morning": (0, 720), "afternoon": (720, 1020), "evening": (1020, 1440)}
_DAY_INDEX = {day: i for i, day in enumerate(WEEKDAY_NAMES)}
_SLOT_INDEX = {part: i for i, part in enumerate(SLOTS)}


@dataclass(frozen=True, slots=True)
class Session:
    """One weekly occurrence of an offer."""

    weekday: str  # "MO".."SU"
    opens: time | None
    closes: time | None


@dataclass(frozen=True, slots=True)
class OfferFacts:
    """What the matcher needs of an offer, worked out once (facts.facts_for)."""

    offer_id: str
    name: str
    categories: frozenset[str]  # vocabulary.CATEGORIES codes
    places: tuple[tuple[float, float], ...]  # (lat, lon) of physical venues; empty = none known
    is_virtual: bool  # can be joined by phone or online: no travel needed
    sessions: tuple[Session, ...]  # empty = flexible, no fixed times
    is_free: bool
    minimum_age: int | None
    maximum_age: int | None
    accessibility: frozenset[str]  # vocabulary.ACCESSIBILITY codes every venue has
    languages: frozenset[str]  # ISO 639 codes; empty means English only
    capacity: str  # "open" | "waiting-list" | "full"
    active: bool
    # Derived from the fields above when the facts are made, so that rank() need not:
    # venues as points on the unit sphere; sessions as (bits of the day-parts they touch,
    # bits of their day, "Tuesdays 10:00"); when it runs, in words.
    _points: tuple[tuple[float, float, float], ...] = field(init=False, repr=False,
                                                           compare=False)
    _sessions: tuple[tuple[int, int, str], ...] = field(init=False, repr=False, compare=False)
    _when: str = field(init=False, repr=False, compare=False)
    _days: str = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        put = object.__setattr__  # frozen
        put(self, "_points", tuple(_unit_vector(lat, lon) for lat, lon in self.places))
        put(self, "_sessions", tuple((_slot_bits(s), _day_bits(s.weekday), _label(s))
                                     for s in self.sessions))
        present = {s.weekday for s in self.sessions}
        days = [day for day in WEEKDAY_NAMES if day in present]
        put(self, "_days", _and([f"{WEEKDAY_NAMES[day]}s" for day in days]) or "other days")
        put(self, "_when", self._days if len(days) != 1 else next(
            label for s, (_, _, label) in zip(self.sessions, self._sessions, strict=True)
            if s.weekday == days[0]))


@dataclass(frozen=True, slots=True)
class PersonNeeds:
    """What suits the person (facts.needs_for): empty or None means "no preference"."""

    categories: frozenset[str]  # vocabulary.categories_for_reasons(reasons)
    home: tuple[float, float] | None
    max_distance_km: float | None
    availability: frozenset[str]  # "TU-morning", "TU-afternoon", "TU-evening"; empty = any time
    prefers_free: bool
    age: int | None
    access_needs: frozenset[str]
    language: str  # ISO 639; "" or "en" = English


@dataclass(frozen=True, slots=True)
class Factor:
    name: str  # a key of FACTORS
    points: float
    text: str  # what a connector reads; empty when there is nothing worth saying
    fits: bool  # False for a soft mismatch the connector should see


@dataclass(frozen=True, slots=True)
class Match:
    offer_id: str
    score: float  # the factors' points added up, to one decimal place
    factors: tuple[Factor, ...]

    @property
    def explanation(self) -> str:
        """E.g. "2.1 km · Tuesdays 10:00 fits · free · step-free access"."""
        return " · ".join(f.text for f in self.factors if f.text)


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
EARTH_RADIUS_KM = 6371.0088  # as referrals.geo, which cannot be imported here (it needs Flask)
_RADIANS = math.pi / 180
_DIAMETER_KM = 2 * EARTH_RADIUS_KM
_NOWHERE = math.inf  # sorts offers with no known distance after equal-scoring ones
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


def clear_caches() -> None:
    """Forget the factors made for earlier people (for tests and the benchmark)."""
    for cached in _CACHED_SCORERS:
        cached.cache_clear()


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
        self.home = _unit_vector(*person.home)
        self.max_km = max_km = person.max_distance_km
        if max_km is not None:  # the limit as a squared chord
            self.within = (2 * math.sin(min(max_km / EARTH_RADIUS_KM, math.pi) / 2)) ** 2

    def check(self, offer: OfferFacts) -> str | None:
        if self.keep((offer,))[0]:
            return None
        if not offer.active:
            return "not running at the moment"
        if offer.capacity == "full":
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


def _unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    lat, lon = lat * _RADIANS, lon * _RADIANS
    return math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)


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
    return _schedule_scorer(_availability_bits(person.availability), WEIGHTS["schedule"])


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
        names = _and(sorted(language_name(code) for code in languages))
        known[languages] = factor = Factor("language", -weight / 2, f"in {names}", False)
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


def _minutes(session: Session) -> tuple[int, int]:
    """A session's minutes of the day: all day with no opening time, an hour with no
    closing time, to midnight if it closes before it opens."""
    if session.opens is None:
        return 0, 1440
    opens = session.opens.hour * 60 + session.opens.minute
    if session.closes is None:
        return opens, min(opens + 60, 1440)
    closes = session.closes.hour * 60 + session.closes.minute
    return opens, closes if closes > opens else 1440


# A day's three parts are bits 3d, 3d+1, 3d+2 (d = 0 for Monday), for persons and sessions.
def _day_bits(day: str) -> int:
    return 0b111 << 3 * _DAY_INDEX[day] if day in _DAY_INDEX else 0


def _slot_bits(session: Session) -> int:
    if session.weekday not in _DAY_INDEX:
        return 0
    opens, closes = _minutes(session)
    return sum(1 << 3 * _DAY_INDEX[session.weekday] + i
               for i, (start, end) in enumerate(SLOTS.values()) if opens < end and closes > start)


def _availability_bits(availability: frozenset[str]) -> int:
    """"TU-morning" etc. as bits; entries Kindly does not know are ignored."""
    bits = 0
    for entry in availability:
        day, _, part = entry.partition("-")
        if day in _DAY_INDEX and part in _SLOT_INDEX:
            bits |= 1 << 3 * _DAY_INDEX[day] + _SLOT_INDEX[part]
    return bits


def _label(session: Session) -> str:
    """"Tuesdays 10:00", or "Tuesdays" when it has no opening time."""
    day = f"{WEEKDAY_NAMES.get(session.weekday, session.weekday)}s"
    opens = session.opens
    return day if opens is None else f"{day} {opens.hour:02d}:{opens.minute:02d}"


def _and(words: list[str]) -> str:
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


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
