"""The matcher's facts, made from the models: an offer's once, a person's per referral.

Reads only what is already loaded (the directory search loads offers with their sites,
locations, schedules and attributes); the person's home comes from the caller, who looks
the postcode up with referrals.geo.locate, so nothing here touches the database.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, time

from referrals.directory.vocabulary import CATEGORY_BY_CODE, WEEKDAY_NAMES, categories_for_reasons
from referrals.matching.scoring import OfferFacts, PersonNeeds, Session
from referrals.models import CapacityStatus, Offer, OfferKind, OfferStatus, Referral

_WEEK = tuple(WEEKDAY_NAMES)


def facts_for(offer: Offer) -> OfferFacts:
    """What the matcher needs of this offer. Unflushed defaults read as the columns'
    defaults (active, open, paid, English)."""
    locations = offer.locations
    categories = frozenset(c for c in offer.category_codes if c in CATEGORY_BY_CODE)
    if offer.kind == OfferKind.VOLUNTEERING:
        # A role is a fit for someone looking to volunteer, not for the need it serves:
        # the befriender role is no answer to someone who needs befriending.
        categories = categories & {"volunteering"} or frozenset({"volunteering"})
    return OfferFacts(
        offer_id=offer.id,
        name=offer.name or "",
        categories=categories,
        places=tuple(dict.fromkeys(
            (loc.latitude, loc.longitude) for loc in locations
            if loc.location_type != "virtual"
            and loc.latitude is not None and loc.longitude is not None)),
        is_virtual=any(loc.location_type == "virtual" for loc in locations),
        sessions=_sessions(offer),
        is_free=bool(offer.is_free),
        minimum_age=offer.minimum_age,
        maximum_age=offer.maximum_age,
        accessibility=frozenset(offer.accessibility),
        languages=frozenset(code.strip().lower() for code in offer.languages or () if code),
        capacity=str(offer.capacity_status or CapacityStatus.OPEN),
        active=(offer.status or OfferStatus.ACTIVE) == OfferStatus.ACTIVE,
        capacity_returns_on=offer.capacity_returns_on,
    )


def as_of(facts: OfferFacts, today: date) -> OfferFacts:
    """The offer's facts on `today`: one full only until a day now come counts as open
    (its partner said when capacity returns). Facts are cached across days, so this is
    applied per request rather than when they are made."""
    returns = facts.capacity_returns_on
    if facts.capacity == CapacityStatus.FULL and returns is not None and returns <= today:
        return replace(facts, capacity=str(CapacityStatus.OPEN))
    return facts


def needs_for(referral: Referral, home: tuple[float, float] | None, today: date) -> PersonNeeds:
    """What suits the person referred, from the reasons and the preferences the connector
    recorded. `home` is (latitude, longitude), or a referrals.geo.Place, or None."""
    if home is not None and hasattr(home, "latitude"):  # a geo.Place is a 4-tuple
        home = (home.latitude, home.longitude)
    birth = referral.patient.birth_date if referral.patient is not None else None
    max_km = referral.max_distance_km
    return PersonNeeds(
        categories=frozenset(categories_for_reasons(r.code for r in referral.reasons)),
        home=home,
        max_distance_km=float(max_km) if max_km is not None and max_km > 0 else None,
        availability=frozenset(referral.availability or ()),
        prefers_free=bool(referral.prefers_free),
        age=age_on(birth, today) if birth is not None else None,
        access_needs=frozenset(referral.access_needs or ()),
        language=(referral.language or "").strip().lower(),
    )


def age_on(birth_date: date, today: date) -> int:
    """Whole years old on `today`."""
    had_birthday = (today.month, today.day) >= (birth_date.month, birth_date.day)
    return today.year - birth_date.year - (0 if had_birthday else 1)


def _sessions(offer: Offer) -> tuple[Session, ...]:
    """Each weekday of each schedule as a session, Monday first then by opening time. A
    daily schedule runs every day; one with no day at all is no fixed time."""
    found = {}
    for schedule in offer.schedules:
        if (schedule.freq or "").upper() == "DAILY" and not schedule.byday:
            days = _WEEK
        else:
            days = [day for day in schedule.weekdays if day in WEEKDAY_NAMES]
        for day in days:
            session = Session(day, schedule.opens_at, schedule.closes_at)
            found[session] = None
    return tuple(sorted(found, key=lambda s: (
        _WEEK.index(s.weekday), s.opens is not None, s.opens or time.min,
        s.closes is not None, s.closes or time.min)))
