"""Searching the directory: one function behind the public site, the Open Referral API
and the connector's search, so all three filter alike."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import time

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from referrals.directory import fulltext, vocabulary
from referrals.extensions import db
from referrals.geo import Place, haversine_km, locate
from referrals.models import (
    CapacityStatus,
    Location,
    Offer,
    OfferAttribute,
    OfferKind,
    OfferStatus,
    Schedule,
    ServiceAtLocation,
    TaxonomyTerm,
)

MAX_PER_PAGE = 200
KM_PER_DEGREE_LATITUDE = 111.2


@dataclass
class DirectoryQuery:
    text: str = ""
    # Category codes (vocabulary) or taxonomy term ids; an offer with any of them matches.
    categories: list[str] = field(default_factory=list)
    taxonomy_id: str | None = None
    kinds: set[OfferKind] | None = None
    capacities: set[CapacityStatus] | None = None
    day: str | None = None  # "MO".."SU"
    start_time: time | None = None
    end_time: time | None = None
    free_only: bool = False
    postcode: str = ""
    within_km: float | None = None
    # People of this age range must be eligible (ranges overlap).
    minimum_age: int | None = None
    maximum_age: int | None = None
    # Offers reached by phone or online only (no place) count as near everyone.
    include_virtual: bool = True
    include_inactive: bool = False
    organisation_id: str | None = None
    # Mistyped words are corrected unless the person asked for exactly what they typed.
    correct: bool = True
    page: int = 1
    per_page: int = 20


@dataclass
class Hit:
    offer: Offer
    distance_km: float | None = None
    location: Location | None = None  # the nearest venue when a postcode was given


@dataclass
class Results:
    hits: list[Hit]
    total: int
    page: int
    per_page: int
    place: Place | None = None
    unknown_postcode: bool = False
    # The words searched for instead of those typed, when one was corrected.
    corrected_text: str | None = None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1


def offer_loading():
    """Everything a results page or an Open Referral service shows, in a fixed number
    of queries whatever the page size."""
    return (
        selectinload(Offer.organisation),
        selectinload(Offer.sites).joinedload(ServiceAtLocation.location),
        selectinload(Offer.schedules),
        selectinload(Offer.cost_options),
        selectinload(Offer.attributes).joinedload(OfferAttribute.term),
        selectinload(Offer.verified_by),
    )


def search(query: DirectoryQuery) -> Results:
    """Offers matching every filter and the words (best matches first), or nearest first
    from a postcode."""
    per_page = max(1, min(query.per_page, MAX_PER_PAGE))
    page = max(1, query.page)
    place = None
    if query.postcode.strip():
        place = locate(query.postcode)
        if place is None:
            return Results([], 0, page, per_page, unknown_postcode=True)
    words = fulltext.plan(query.text, correct=query.correct)
    if words is None:
        return _search(query, page, per_page, place, None)
    results = _search(query, page, per_page, place, fulltext.matches(words, every=True))
    if results.total == 0 and len(words.groups) > 1:
        # Nothing has every word: offers with any of them are better than nothing.
        results = _search(query, page, per_page, place, fulltext.matches(words, every=False))
    results.corrected_text = words.corrected
    return results


def _search(query: DirectoryQuery, page: int, per_page: int, place: Place | None,
            match) -> Results:
    stmt = _matching(query, match)
    if place is None:
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
        ordered = select(Offer).where(Offer.id.in_(stmt))
        if match is not None:
            ordered = ordered.join(match, match.c.offer_id == Offer.id).order_by(match.c.score)
        offers = db.session.scalars(
            ordered.options(*offer_loading())
            .order_by(func.lower(Offer.name), Offer.id)
            .limit(per_page).offset((page - 1) * per_page)
        ).all()
        return Results([Hit(o) for o in offers], total, page, per_page)

    if query.within_km is not None:
        stmt = stmt.where(_near(place, query.within_km, query.include_virtual))
    candidates = db.session.scalars(
        select(Offer).where(Offer.id.in_(stmt)).options(*offer_loading())
    ).all()
    hits = []
    for offer in candidates:
        hit = nearest(offer, place)
        if query.within_km is not None and hit.distance_km is not None \
                and hit.distance_km > query.within_km:
            continue
        if hit.distance_km is None and not _is_virtual(offer):
            # A venue we cannot place: leave it out of a search by distance.
            continue
        hits.append(hit)
    # Nearest first; phone and online offers (no distance) after the places.
    hits.sort(key=lambda h: (h.distance_km is None, h.distance_km or 0.0,
                             h.offer.name.lower(), h.offer.id))
    start = (page - 1) * per_page
    return Results(hits[start:start + per_page], len(hits), page, per_page, place=place)


def nearest(offer: Offer, place: Place) -> Hit:
    best: Hit = Hit(offer)
    for location in offer.locations:
        if location.latitude is None or location.longitude is None:
            continue
        distance = haversine_km(place.latitude, place.longitude,
                                location.latitude, location.longitude)
        if best.distance_km is None or distance < best.distance_km:
            best = Hit(offer, distance, location)
    return best


def _is_virtual(offer: Offer) -> bool:
    return any(loc.location_type == "virtual" for loc in offer.locations) or not offer.sites


def matching_offer_ids(query: DirectoryQuery) -> Select:
    """The ids of the offers matching every filter and every word, but not distance (and
    no paging)."""
    words = fulltext.plan(query.text, correct=query.correct)
    return _matching(query, None if words is None else fulltext.matches(words, every=True))


def _matching(query: DirectoryQuery, match) -> Select:
    stmt = select(Offer.id)
    if not query.include_inactive:
        stmt = stmt.where(Offer.status == OfferStatus.ACTIVE)
    if query.kinds:
        stmt = stmt.where(Offer.kind.in_(sorted(query.kinds)))
    if query.capacities:
        stmt = stmt.where(Offer.capacity_status.in_(sorted(query.capacities)))
    if query.organisation_id:
        stmt = stmt.where(Offer.organisation_id == query.organisation_id)
    if query.free_only:
        stmt = stmt.where(Offer.is_free.is_(True))
    if query.minimum_age is not None:
        stmt = stmt.where(or_(Offer.maximum_age.is_(None), Offer.maximum_age >= query.minimum_age))
    if query.maximum_age is not None:
        stmt = stmt.where(or_(Offer.minimum_age.is_(None), Offer.minimum_age <= query.maximum_age))
    if match is not None:
        stmt = stmt.where(Offer.id.in_(select(match.c.offer_id)))
    if query.categories:
        term_ids = [vocabulary.CATEGORY_BY_CODE[c].id if c in vocabulary.CATEGORY_BY_CODE else c
                    for c in query.categories]
        stmt = stmt.where(Offer.id.in_(
            select(OfferAttribute.offer_id).where(OfferAttribute.taxonomy_term_id.in_(term_ids))))
    if query.taxonomy_id:
        stmt = stmt.where(Offer.id.in_(
            select(OfferAttribute.offer_id).join(TaxonomyTerm)
            .where(TaxonomyTerm.taxonomy_id == query.taxonomy_id)))
    if query.day or query.start_time or query.end_time:
        stmt = stmt.where(_runs(query.day, query.start_time, query.end_time))
    return stmt


def _runs(day: str | None, start: time | None, end: time | None):
    """Some schedule of the offer runs on `day` and overlaps start..end."""
    conditions = [Schedule.offer_id == Offer.id]
    if day:
        conditions.append(Schedule.byday.like(f"%{day[:2].upper()}%"))
    if start:
        conditions.append(or_(Schedule.closes_at.is_(None), Schedule.closes_at > start))
    if end:
        conditions.append(or_(Schedule.opens_at.is_(None), Schedule.opens_at < end))
    return exists(select(Schedule.id).where(and_(*conditions)))


def _near(place: Place, km: float, include_virtual: bool):
    """A bounding box around the place (indexed); the exact distance is checked after."""
    dlat = km / KM_PER_DEGREE_LATITUDE
    dlon = km / (KM_PER_DEGREE_LATITUDE * max(0.01, math.cos(math.radians(place.latitude))))
    located = exists(
        select(ServiceAtLocation.id).join(Location)
        .where(ServiceAtLocation.offer_id == Offer.id,
               Location.latitude.between(place.latitude - dlat, place.latitude + dlat),
               Location.longitude.between(place.longitude - dlon, place.longitude + dlon)))
    if not include_virtual:
        return located
    virtual = or_(
        exists(select(ServiceAtLocation.id).join(Location)
               .where(ServiceAtLocation.offer_id == Offer.id, Location.location_type == "virtual")),
        ~exists(select(ServiceAtLocation.id).where(ServiceAtLocation.offer_id == Offer.id)),
    )
    return or_(located, virtual)
