"""The county-sized directory the directory benchmarks (bench/directory.py) measure:
2,000 offers from 800 organisations in a ~40 km square of towns and villages, with
postcodes and their district centroids.

It is written with the models, one flush per 200 offers: it is test data, not a test of
the coordinator's services (those write an audit event per change). Deterministic
(seeded).
"""
from __future__ import annotations

import math
import random
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as clock_time
from decimal import Decimal

from flask import Flask
from sqlalchemy import func, select, text

from bench.timing import Progress
from referrals import geo
from referrals.directory import vocabulary
from referrals.extensions import db
from referrals.models import (
    CapacityStatus,
    CostOption,
    DirectoryOrganisation,
    Location,
    Offer,
    OfferAttribute,
    OfferKind,
    OfferStatus,
    PostcodePlace,
    Schedule,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)

SEED = 2026
CENTRE_POSTCODE = "KB1 1AB"  # the town centre surgery's
CENTRE = (52.800, -2.100)  # KB1 1AB
HALF_SIDE_KM = 20.0  # a ~40 km square: a county's worth of towns and villages
FLUSH_EVERY = 200

TOWNS = {"KB1": "Kindlebury", "KB2": "Kindlebury", "KB3": "Kindlebury", "KB4": "Ashcombe",
         "KB5": "Brindley", "KB6": "Thistlecombe", "KB7": "Pennimore"}
VILLAGES = ["Upper Kindlebury", "Hollins Green", "Marston Cross", "Oakley Bank", "Fenwick",
            "Little Haywood", "Coldmeece", "Bramshall", "Stowe End", "Wetley Moor"]


@dataclass(frozen=True)
class Area:
    """A postcode district: a town part (centre and spread, km from KB1 1AB) or the
    countryside (a box), and its share of the venues."""

    code: str
    share: float
    postcodes: int
    centre: tuple[float, float] | None = None
    spread_km: float = 0.0
    box: tuple[float, float, float, float] | None = None  # west, east, south, north (km)


# A third of the venues in the market town, a third in four small towns, a third in
# villages, as a county directory is: dense in the middle, thin at the edges.
AREAS = (
    Area("KB1", 0.14, 45, centre=(0.0, 0.0), spread_km=1.2),
    Area("KB2", 0.10, 35, centre=(2.2, 1.6), spread_km=1.3),
    Area("KB3", 0.10, 35, centre=(-1.8, -2.0), spread_km=1.3),
    Area("KB4", 0.08, 25, centre=(-12.0, 9.0), spread_km=1.4),
    Area("KB5", 0.08, 25, centre=(13.0, 11.0), spread_km=1.4),
    Area("KB6", 0.08, 25, centre=(-10.0, -12.0), spread_km=1.4),
    Area("KB7", 0.08, 25, centre=(11.0, -10.0), spread_km=1.4),
    Area("KB8", 0.17, 45, box=(-HALF_SIDE_KM, HALF_SIDE_KM, 0.0, HALF_SIDE_KM)),
    Area("KB9", 0.17, 45, box=(-HALF_SIDE_KM, HALF_SIDE_KM, -HALF_SIDE_KM, 0.0)),
)
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# First category of an offer (it names the offer) and how common each is.
CATEGORY_WEIGHTS = {
    "social-groups": 12, "befriending": 4, "bereavement": 3, "carers": 4,
    "physical-activity": 12, "food-lunch-clubs": 7, "mens-sheds": 3, "arts-crafts": 8,
    "music-singing": 5, "gardening-nature": 5, "digital-skills": 4, "money-debt": 4,
    "housing": 3, "mental-wellbeing": 7, "health-conditions": 6, "learning-work": 5,
    "volunteering": 8,
}
OFFER_NAMES = {
    "social-groups": ["Coffee morning", "Friendship club", "Tea and chat", "Knit and natter",
                      "Over-60s social club", "Community breakfast"],
    "befriending": ["Telephone befriending", "Home visiting befrienders",
                    "Good neighbours scheme"],
    "bereavement": ["Bereavement café", "Bereavement support group", "Walk and talk after loss"],
    "carers": ["Carers' coffee morning", "Carers' support group", "Young carers club"],
    "physical-activity": ["Health walk", "Walking group", "Chair exercise", "Tai chi",
                          "Walking football", "Gentle yoga", "Nordic walking", "Tea dance"],
    "food-lunch-clubs": ["Lunch club", "Community café", "Community pantry", "Cook and eat"],
    "mens-sheds": ["Men's shed", "Woodwork shed", "Repair café"],
    "arts-crafts": ["Art group", "Craft club", "Knitting circle", "Pottery for beginners"],
    "music-singing": ["Community choir", "Singing for the brain", "Ukulele group"],
    "gardening-nature": ["Community garden", "Conservation volunteers", "Allotment group"],
    "digital-skills": ["Tablet and phone help", "Get online drop-in", "Computer club"],
    "money-debt": ["Debt advice drop-in", "Benefits advice clinic", "Money matters course"],
    "housing": ["Housing advice surgery", "Tenants' drop-in"],
    "mental-wellbeing": ["Wellbeing peer support", "Mindfulness course", "Talking café"],
    "health-conditions": ["Parkinson's support group", "Breathe easy group",
                          "Diabetes support group", "Stroke club", "Memory café"],
    "learning-work": ["English conversation class", "Job club", "Adult learning course"],
    "volunteering": ["Volunteer drivers", "Charity shop volunteers", "Volunteer befrienders",
                     "Litter pick volunteers"],
}
ORGANISATION_NOUNS = [
    "Community Trust", "Friends Group", "Wellbeing Network", "Village Hall Committee",
    "Methodist Church", "Baptist Church", "Age Friendly Group", "Carers Network", "Men's Shed",
    "Walking Club", "Arts Collective", "Advice Centre", "Community Hub", "Rotary Club",
    "Women's Institute", "Library Friends", "Allotment Society", "Community Choir",
    "Youth Project", "Tenants' Association", "Mosque", "Gurdwara", "Scout Group", "Lions Club",
]
VENUES = ["Community Centre", "Methodist Church Hall", "Library", "Village Hall", "Scout Hut",
          "Leisure Centre", "Park Pavilion", "Parish Rooms", "Sports Club", "Memorial Hall"]
STREETS = ["Market Street", "Forge Street", "Mill Lane", "Church Road", "Station Road",
           "High Street", "Chapel Street", "The Green", "Wharf Yard", "Tanners Row"]
# Weekday sessions are the norm; weekends fewer.
DAYS = {"MO": 1.0, "TU": 1.0, "WE": 1.0, "TH": 1.0, "FR": 1.0, "SA": 0.5, "SU": 0.25}
SLOTS = [((9, 30), (11, 0)), ((10, 0), (12, 0)), ((10, 30), (12, 0)), ((13, 30), (15, 30)),
         ((14, 0), (16, 0)), ((18, 30), (20, 30)), ((19, 0), (21, 0))]
PRICES = [Decimal(x) for x in ("1", "2", "2.50", "3", "4", "5", "6", "8")]


@dataclass
class DirectoryWorld:
    offers: int
    organisations: int
    detail_offer_id: str  # active, two venues, two sessions, three categories
    small_offer_id: str  # active, one venue, one session, one category
    stats: dict


# --- the directory -----------------------------------------------------------------------


def build_directory(app: Flask, *, offers: int = 2000, organisations: int = 800
                    ) -> DirectoryWorld:
    """A county's directory: postcodes with district centroids, organisations with one or
    two venues each, and offers with one or two venues, one or two weekly sessions and one
    to three categories, ~60% free, some for an age group. Deterministic (seeded)."""
    rng = random.Random(SEED)
    started = time.perf_counter()
    today = date.today()
    with app.app_context():
        postcodes = _postcodes(rng)
        geo.load_postcodes(postcodes)
        _category_terms()
        db.session.flush()
        places = {area.code: [p for p in postcodes if p["postcode"].startswith(area.code + " ")]
                  for area in AREAS}
        progress = Progress("building the directory", organisations + offers)
        orgs = []
        for i in range(organisations):
            orgs.append(_organisation(rng, places))
            progress.update(i + 1)
        db.session.add_all(o for o, _ in orgs)
        db.session.flush()
        detail = small = None
        for i in range(offers):
            # Every organisation runs something; the busier ones run more.
            org, venues = orgs[i] if i < len(orgs) else rng.choice(orgs)
            offer = _offer(rng, org, venues, today)
            db.session.add(offer)
            shape = (len(offer.sites), len(offer.schedules), len(offer.attributes))
            if offer.status is OfferStatus.ACTIVE:
                detail = detail or (offer.id if shape == (2, 2, 3) else None)
                small = small or (offer.id if shape == (1, 1, 1) else None)
            if (i + 1) % FLUSH_EVERY == 0:
                db.session.flush()
                db.session.expunge_all()  # the flushed offers are not needed again
            progress.update(organisations + i + 1)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # Autovacuum would gather the planner's statistics within a minute or so; a
            # query planned before then, on empty statistics, measures nothing real.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        progress.done()
        stats = _stats()
        stats["build_s"] = round(time.perf_counter() - started, 1)
        db.session.remove()
    if detail is None or small is None:
        raise RuntimeError("no offer with two venues, two sessions and three categories, "
                           "or none with one of each")
    return DirectoryWorld(offers, organisations, detail, small, stats)


def _new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _lat_lon(east_km: float, north_km: float) -> tuple[float, float]:
    lat = CENTRE[0] + north_km / 111.25
    lon = CENTRE[1] + east_km / (111.32 * math.cos(math.radians(CENTRE[0])))
    return round(lat, 6), round(lon, 6)


def _point(area: Area, rng: random.Random) -> tuple[float, float]:
    if area.box:
        west, east, south, north = area.box
        return rng.uniform(west, east), rng.uniform(south, north)
    return (area.centre[0] + rng.gauss(0, area.spread_km),
            area.centre[1] + rng.gauss(0, area.spread_km))


def _postcodes(rng: random.Random) -> list[dict]:
    """A few hundred postcodes in nine districts, and each district's centroid (what an
    unknown postcode in a known district falls back to)."""
    rows = [{"postcode": CENTRE_POSTCODE, "latitude": CENTRE[0], "longitude": CENTRE[1]}]
    seen = {CENTRE_POSTCODE}
    for area in AREAS:
        points = []
        while len(points) < area.postcodes:
            code = (f"{area.code} {rng.randint(1, 9)}{rng.choice(INWARD_LETTERS)}"
                    f"{rng.choice(INWARD_LETTERS)}")
            if code in seen:
                continue
            seen.add(code)
            east, north = _point(area, rng)
            lat, lon = _lat_lon(east, north)
            points.append({"postcode": code, "latitude": lat, "longitude": lon})
        rows.extend(points)
    for area in AREAS:
        mine = [r for r in rows if r["postcode"].startswith(area.code + " ")]
        rows.append({"postcode": area.code,
                     "latitude": round(sum(r["latitude"] for r in mine) / len(mine), 6),
                     "longitude": round(sum(r["longitude"] for r in mine) / len(mine), 6)})
    return [{k: str(v) for k, v in r.items()} for r in rows]


def _category_terms() -> None:
    """Kindly's category taxonomy, unless another part of the bench made it already."""
    if db.session.get(Taxonomy, vocabulary.TAXONOMY_ID) is None:
        db.session.add(Taxonomy(id=vocabulary.TAXONOMY_ID, name=vocabulary.TAXONOMY_NAME,
                                description=vocabulary.TAXONOMY_DESCRIPTION))
    have = set(db.session.scalars(select(TaxonomyTerm.id).where(
        TaxonomyTerm.id.in_([c.id for c in vocabulary.CATEGORIES]))))
    db.session.add_all(TaxonomyTerm(id=c.id, taxonomy_id=vocabulary.TAXONOMY_ID, code=c.code,
                                    name=c.name, description=c.description)
                       for c in vocabulary.CATEGORIES if c.id not in have)


def _town(area: Area, rng: random.Random) -> str:
    return TOWNS.get(area.code) or rng.choice(VILLAGES)


def _organisation(rng: random.Random, places: dict[str, list[dict]]
                  ) -> tuple[DirectoryOrganisation, list[Location]]:
    area = rng.choices(AREAS, weights=[a.share for a in AREAS])[0]
    town = _town(area, rng)
    org_id = _new_id(rng)
    name = f"{town} {rng.choice(ORGANISATION_NOUNS)}"
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:30]
    org = DirectoryOrganisation(
        id=org_id, name=name, description=f"A {town} charity run by local volunteers.",
        email=f"hello@{slug}.example", website=f"https://{slug}.example",
        phone=f"01632 96{rng.randint(0, 9999):04d}", extra={})
    venues = []
    for _ in range(rng.choice([1, 2])):
        place = rng.choice(places[area.code])
        # Within a couple of hundred metres of its postcode's point, as real venues are.
        lat = round(float(place["latitude"]) + rng.uniform(-0.0018, 0.0018), 6)
        lon = round(float(place["longitude"]) + rng.uniform(-0.003, 0.003), 6)
        venues.append(Location(
            id=_new_id(rng), organisation_id=org_id, location_type="physical",
            name=f"{town} {rng.choice(VENUES)}", address_id=_new_id(rng),
            address_1=f"{rng.randint(1, 120)} {rng.choice(STREETS)}", city=town,
            postal_code=place["postcode"], latitude=lat, longitude=lon,
            accessibility=[f.code for f in vocabulary.ACCESSIBILITY if rng.random() < 0.35],
            extra={}))
    db.session.add_all(venues)
    return org, venues


def _offer(rng: random.Random, org: DirectoryOrganisation, venues: list[Location],
           today: date) -> Offer:
    first = rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
    codes = [first]
    for _ in range(rng.choice([0, 1, 1, 2])):
        extra = rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
        if extra not in codes:
            codes.append(extra)
    kind = (OfferKind.VOLUNTEERING if first == "volunteering" else
            rng.choices([OfferKind.GROUP, OfferKind.SERVICE], weights=[3, 1])[0])
    town = venues[0].city
    free = rng.random() < 0.6
    offer_id = _new_id(rng)
    offer = Offer(
        id=offer_id, organisation_id=org.id,
        name=f"{rng.choice(OFFER_NAMES[first])}, {town}",
        description=(f"{vocabulary.CATEGORY_BY_CODE[first].description} Run by {org.name} "
                     f"in {town}; new people are always welcome."),
        kind=kind,
        status=rng.choices([OfferStatus.ACTIVE, OfferStatus.INACTIVE,
                            OfferStatus.TEMPORARILY_CLOSED], weights=[95, 4, 1])[0],
        capacity_status=rng.choices(list(CapacityStatus), weights=[80, 12, 8])[0],
        url=org.website, email=org.email, contact_name="Volunteer coordinator",
        contact_phone=org.phone, is_free=free,
        fees_description="" if free else "Pay as you go",
        eligibility_description="", languages=[] if rng.random() < 0.9 else
        ["en", rng.choice(["pl", "pa", "ur", "bfi", "cy"])],
        last_verified_on=None if rng.random() < 0.1 else today - timedelta(
            days=rng.randint(0, 420)),
        verified_by_email="coordinator@bench.example", extra={})
    offer.minimum_age, offer.maximum_age = rng.choices(
        [(None, None), (18, None), (50, None), (60, None), (16, None), (11, 18)],
        weights=[70, 12, 4, 4, 5, 5])[0]
    used = venues if len(venues) > 1 and rng.random() < 0.5 else [rng.choice(venues)]
    offer.sites = [ServiceAtLocation(id=_new_id(rng), location_id=v.id, extra={})
                   for v in used]
    picked = []
    for _ in range(rng.choice([1, 1, 2])):
        day = rng.choices(list(DAYS), weights=list(DAYS.values()))[0]
        if day not in picked:
            picked.append(day)
    offer.schedules = []
    for day in picked:
        (oh, om), (ch, cm) = rng.choice(SLOTS)
        offer.schedules.append(Schedule(
            id=_new_id(rng), freq="WEEKLY", byday=day, opens_at=clock_time(oh, om),
            closes_at=clock_time(ch, cm), extra={}))
    amount = Decimal(0) if free else rng.choice(PRICES)
    offer.cost_options = [CostOption(
        id=_new_id(rng), option="Free" if free else "Per session", amount=amount,
        currency="GBP", amount_description="" if free else "Per session, tea included",
        extra={})]
    offer.attributes = [OfferAttribute(id=_new_id(rng), taxonomy_term_id=vocabulary.term_id(c))
                        for c in codes]
    return offer


def _stats() -> dict:
    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return {
        "built_with": "the models, one flush per 200 offers (test data, no audit events)",
        "organisations": count(DirectoryOrganisation),
        "offers": count(Offer),
        "active_offers": count(Offer, Offer.status == OfferStatus.ACTIVE),
        "free_offers": count(Offer, Offer.is_free.is_(True)),
        "offers_with_age_limits": count(Offer, (Offer.minimum_age.is_not(None))
                                        | (Offer.maximum_age.is_not(None))),
        "venues": count(Location),
        "offer_venues": count(ServiceAtLocation),
        "schedules": count(Schedule),
        "category_links": count(OfferAttribute),
        "postcodes": count(PostcodePlace, PostcodePlace.postcode.contains(" ")),
        "district_centroids": count(PostcodePlace, ~PostcodePlace.postcode.contains(" ")),
        "square_km": round((2 * HALF_SIDE_KM) ** 2),
    }
