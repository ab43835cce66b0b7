"""What the matcher works with: an offer's facts, a person's needs, and the factors and
matches `rank` returns. Frozen values, pure like the ranker (no Flask, no session, no
models).

Whatever depends on the offer alone is worked out when its facts are made: venues as points
on the unit sphere, sessions as bits of the week's day-parts (a person's availability
becomes the same bits), and when it runs, in words.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, time

from referrals.directory.vocabulary import WEEKDAY_NAMES

# Parts of the day a connector records ("TU-morning"), in minutes from midnight.
SLOTS = {"morning": (0, 720), "afternoon": (720, 1020), "evening": (1020, 1440)}
_DAY_INDEX = {day: i for i, day in enumerate(WEEKDAY_NAMES)}
_SLOT_INDEX = {part: i for i, part in enumerate(SLOTS)}
_RADIANS = math.pi / 180


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
    # Issue 15: full until this day (a partner's "no capacity"); from it, open again.
    capacity_returns_on: date | None = None
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
        put(self, "_points", tuple(unit_vector(lat, lon) for lat, lon in self.places))
        put(self, "_sessions", tuple((_slot_bits(s), _day_bits(s.weekday), _label(s))
                                     for s in self.sessions))
        present = {s.weekday for s in self.sessions}
        days = [day for day in WEEKDAY_NAMES if day in present]
        put(self, "_days", join_words([f"{WEEKDAY_NAMES[day]}s" for day in days]) or "other days")
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


def unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    lat, lon = lat * _RADIANS, lon * _RADIANS
    return math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)


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


def availability_bits(availability: frozenset[str]) -> int:
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


def join_words(words: list[str]) -> str:
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"
