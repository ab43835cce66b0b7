"""Directory benchmarks on a county-sized directory (2,000 offers from 800 organisations),
each against a floor measured in the same process and run.

1. `search()` for a public query (postcode, within 5 km, Tuesday, one category) and for
   words only, against raw SQL selecting the same offers and their venues with the same
   filters (bounding box, day, category; or the words), the distances worked out in
   Python with the same haversine.
2. The whole public `GET /directory` for the postcode query, against the floor of (1);
   and its SQL statement count for 10 and for 20 results a page, which must be equal.
3. Open Referral: `GET /openreferral/services?per_page=50` and `/services/<id>`, against
   raw SQL for the same rows plus `json.dumps` of the parsed response; statements for
   per_page 10 and 50 must be equal.

The directory is written with the models, one flush per 200 offers: it is test data, not
a test of the coordinator's services (those write an audit event per change). A page or
API that does not exist yet is recorded as not available and the rest still runs.
"""
from __future__ import annotations

import json
import math
import random
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as clock_time
from decimal import Decimal
from urllib.parse import urlencode

from flask import Flask
from sqlalchemy import bindparam, func, select, text

from bench.timing import Progress, Timings, counting_statements, ratio, timed_pair
from referrals import geo
from referrals.directory import views, vocabulary
from referrals.directory.search import KM_PER_DEGREE_LATITUDE, DirectoryQuery, search
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
CENTRE = (52.800, -2.100)  # KB1 1AB
HALF_SIDE_KM = 20.0  # a ~40 km square: a county's worth of towns and villages
FLUSH_EVERY = 200
# The public query: a Tuesday walking group within 5 km of the town centre surgery.
POSTCODE, WITHIN_KM, DAY, CATEGORY = "KB1 1AB", 5.0, "TU", "physical-activity"
WORDS = "walking"
PER_PAGE = 20
ORUK_PER_PAGE = 50
GOALS = {"page_ratio": 10.0, "page_fixed_ms": 5.0}  # scale-and-speed.md B5.1
BASE_URL = "https://localhost"  # production's cookies are Secure; ask as a browser would

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
    rows, seen = [{"postcode": POSTCODE, "latitude": CENTRE[0], "longitude": CENTRE[1]}], set()
    seen.add(POSTCODE)
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


# --- the measurements --------------------------------------------------------------------


def bench(app: Flask, world: DirectoryWorld, *, runs: int, http_runs: int) -> dict:
    """The measures; `runs` for search(), `http_runs` for each GET. A page or API not yet
    in the app is recorded as not available."""
    with app.app_context():
        engine = db.engine
    client = app.test_client()
    return {
        "directory": world.stats,
        "search_postcode": _search_postcode(app, engine, runs=runs),
        "search_words": _search_words(app, engine, runs=runs),
        "public_page": _public_page(app, client, engine, runs=http_runs),
        "openreferral_services": _oruk_services(app, client, engine, runs=http_runs),
        "openreferral_service": _oruk_service(app, client, engine, world, runs=http_runs),
    }


def _measured(subject: list[float], floor: list[float], **extra) -> dict:
    subject_t, floor_t = Timings.of(subject), Timings.of(floor)
    goal_ms = GOALS["page_ratio"] * floor_t.median_ms + GOALS["page_fixed_ms"]
    return {
        **extra,
        "timing": subject_t.as_dict(),
        "raw_sql_floor": floor_t.as_dict(),
        "ratio_median": ratio(subject_t.median_ms, floor_t.median_ms),
        "ratio_p95": ratio(subject_t.p95_ms, floor_t.p95_ms),
        "goal_ms": round(goal_ms, 3),
        "goal_met": subject_t.median_ms <= goal_ms,
    }


def _unavailable(what: str) -> dict:
    return {"available": False, "reason": f"{what} is not in the app yet"}


def _has_rule(app: Flask, rule: str) -> bool:
    return any(r.rule == rule for r in app.url_map.iter_rules())


_ACTIVE = f"'{OfferStatus.ACTIVE.value}'"
_NEAR_SQL = text(
    # The sort key and distance inputs first; then every column of the offer and its venue,
    # as the ORM reads them. From the category's offers (the narrowest filter, indexed).
    "SELECT o.id, lower(o.name), l.latitude, l.longitude, o.*, l.* FROM offer_attribute a "
    "JOIN offer o ON o.id = a.offer_id "
    "JOIN service_at_location s ON s.offer_id = o.id "
    "JOIN directory_location l ON l.id = s.location_id "
    f"WHERE a.taxonomy_term_id = :term AND o.status = {_ACTIVE} "
    "AND l.latitude BETWEEN :south AND :north AND l.longitude BETWEEN :west AND :east "
    "AND EXISTS (SELECT 1 FROM schedule sc WHERE sc.offer_id = o.id AND sc.byday LIKE :day)")
_PLACE_SQL = text("SELECT latitude, longitude FROM postcode_place WHERE postcode = :postcode")


def _near_floor(engine, per_page: int):
    """Raw SQL for the postcode query: the postcode's place, then the offers with a venue in
    the bounding box, a Tuesday session and the category, with those venues; the nearest
    venue of each by haversine in Python, within the distance, nearest first."""
    term = vocabulary.term_id(CATEGORY)

    def floor() -> tuple[int, list[str]]:
        with engine.connect() as conn:
            lat, lon = conn.execute(_PLACE_SQL, {"postcode": POSTCODE}).one()
            dlat = WITHIN_KM / KM_PER_DEGREE_LATITUDE
            dlon = WITHIN_KM / (KM_PER_DEGREE_LATITUDE * max(0.01, math.cos(math.radians(lat))))
            rows = conn.execute(_NEAR_SQL, {
                "south": lat - dlat, "north": lat + dlat, "west": lon - dlon,
                "east": lon + dlon, "day": f"%{DAY}%", "term": term}).fetchall()
        nearest: dict[str, tuple] = {}
        for row in rows:
            km = geo.haversine_km(lat, lon, row[2], row[3])
            if km <= WITHIN_KM and (row[0] not in nearest or km < nearest[row[0]][0]):
                nearest[row[0]] = (km, row[1], row[0], row)
        ordered = sorted(nearest.values(), key=lambda hit: hit[:3])
        return len(ordered), [hit[2] for hit in ordered[:per_page]]

    return floor


def _timed_search(app: Flask, engine, query: DirectoryQuery, floor, *, runs: int,
                  label: str) -> dict:
    """search(query) as a request would call it (a fresh session each time) against the
    floor; the two must find the same offers in the same order."""
    with app.app_context():
        def call():
            found = search(query)
            db.session.rollback()  # a request ends here; the next call loads afresh
            return found

        found = search(query)
        ids = [hit.offer.id for hit in found.hits]
        total = found.total
        db.session.rollback()
        if floor() != (total, ids):
            raise RuntimeError(f"{label}: search() found {total} {ids[:3]}..., raw SQL "
                               f"{floor()[0]} {floor()[1][:3]}...")
        statements = {}
        for per_page in (10, 20):
            query.per_page = per_page
            call()
            with counting_statements(engine) as seen:
                call()
            statements[f"per_page={per_page}"] = seen[0]
        query.per_page = PER_PAGE
        subject, floor_times = timed_pair(call, floor, runs=runs, warmup=min(20, runs),
                                          label=label)
        db.session.remove()
    result = _measured(subject, floor_times, found=total, shown=len(ids),
                       sql_statements_per_call=statements,
                       sql_statements_constant=len(set(statements.values())) == 1)
    result["call"] = result.pop("timing")
    return result


def _postcode_query() -> DirectoryQuery:
    return DirectoryQuery(postcode=POSTCODE, within_km=WITHIN_KM, day=DAY,
                          categories=[CATEGORY], per_page=PER_PAGE)


def _search_postcode(app: Flask, engine, *, runs: int) -> dict:
    result = _timed_search(app, engine, _postcode_query(), _near_floor(engine, PER_PAGE),
                           runs=runs, label="search() by postcode vs raw SQL")
    result["query"] = {"postcode": POSTCODE, "within_km": WITHIN_KM, "day": DAY,
                       "category": CATEGORY, "per_page": PER_PAGE}
    return result


_MENTIONS = (
    f"o.status = {_ACTIVE} AND (lower(o.name) LIKE :words OR lower(o.description) LIKE :words "
    "OR o.organisation_id IN (SELECT g.id FROM directory_organisation g "
    "WHERE lower(g.name) LIKE :words) "
    "OR o.id IN (SELECT a.offer_id FROM offer_attribute a JOIN taxonomy_term t "
    "ON t.id = a.taxonomy_term_id WHERE lower(t.name) LIKE :words))")
_WORDS_COUNT_SQL = text(f"SELECT COUNT(*) FROM offer o WHERE {_MENTIONS}")
_WORDS_PAGE_SQL = text(f"SELECT o.id, o.* FROM offer o WHERE {_MENTIONS} "
                       "ORDER BY lower(o.name), o.id LIMIT :per_page")
_VENUES_SQL = text(
    "SELECT s.offer_id, l.* FROM service_at_location s JOIN directory_location l "
    "ON l.id = s.location_id WHERE s.offer_id IN :ids ORDER BY s.offer_id, s.id"
).bindparams(bindparam("ids", expanding=True))


def _search_words(app: Flask, engine, *, runs: int) -> dict:
    """Words only: no place, so a count and a page in name order, with their venues."""
    def floor() -> tuple[int, list[str]]:
        words = {"words": f"%{WORDS}%"}
        with engine.connect() as conn:
            total = conn.execute(_WORDS_COUNT_SQL, words).scalar_one()
            ids = [row[0] for row in conn.execute(_WORDS_PAGE_SQL,
                                                  {**words, "per_page": PER_PAGE})]
            conn.execute(_VENUES_SQL, {"ids": ids}).fetchall()
        return total, ids

    result = _timed_search(app, engine, DirectoryQuery(text=WORDS, per_page=PER_PAGE), floor,
                           runs=runs, label="search() by words vs raw SQL")
    result["query"] = {"text": WORDS, "per_page": PER_PAGE}
    return result


def _getter(client, url: str):
    def get():
        response = client.get(url, base_url=BASE_URL)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}: "
                               f"{response.get_data(as_text=True)[:800]}")
        return response
    return get


def _public_page(app: Flask, client, engine, *, runs: int) -> dict:
    """The whole public search page for the postcode query, against the floor of the
    search; statements for 10 and 20 results a page (the page's own size, patched)."""
    if "directory.search" not in app.view_functions:
        return _unavailable("the public search page (directory.search)")

    url = "/directory?" + urlencode({"postcode": POSTCODE, "distance": f"{WITHIN_KM:g}",
                                     "day": DAY, "category": CATEGORY})
    get = _getter(client, url)
    per_page = getattr(views, "PER_PAGE", PER_PAGE)
    floor = _near_floor(engine, per_page)
    total, ids = floor()
    html = get().get_data(as_text=True)
    shown = [i for i in ids if i in html]
    statements, shown_at = {}, {}
    if hasattr(views, "PER_PAGE"):
        # The page takes no page size from the query string: its constant is patched for
        # the count, and put back.
        try:
            for size in (10, 20):
                views.PER_PAGE = size
                get()
                with counting_statements(engine) as seen:
                    body = get().get_data(as_text=True)
                statements[f"{size} a page"] = seen[0]
                shown_at[f"{size} a page"] = sum(i in body for i in _near_floor(engine, size)()[1])
        finally:
            views.PER_PAGE = per_page
    subject, floor_times = timed_pair(get, floor, runs=runs, warmup=min(5, runs),
                                      label="GET /directory vs raw SQL")
    result = _measured(subject, floor_times, url=url, found=total, per_page=per_page,
                       shown=len(shown), same_offers_as_floor=len(shown) == min(per_page, total),
                       shown_at_each_size=shown_at,
                       response_bytes=len(get().get_data()),
                       sql_statements_per_request=statements,
                       sql_statements_constant=len(set(statements.values())) == 1)
    result["request"] = result.pop("timing")
    return result


_ORUK_PAGE_SQL = text(f"SELECT o.id, o.organisation_id, o.* FROM offer o WHERE o.status = "
                      f"{_ACTIVE} ORDER BY lower(o.name), o.id LIMIT :per_page")
_ORUK_COUNT_SQL = text(f"SELECT COUNT(*) FROM offer o WHERE o.status = {_ACTIVE}")
_ORUK_ONE_SQL = text("SELECT o.id, o.organisation_id, o.* FROM offer o WHERE o.id = :id")
_ORGANISATIONS_SQL = text("SELECT * FROM directory_organisation WHERE id IN :orgs"
                          ).bindparams(bindparam("orgs", expanding=True))
_NESTED_SQL = [text(sql).bindparams(bindparam("ids", expanding=True)) for sql in (
    ("SELECT s.*, l.* FROM service_at_location s JOIN directory_location l "
     "ON l.id = s.location_id WHERE s.offer_id IN :ids ORDER BY s.offer_id, s.id"),
    "SELECT * FROM schedule WHERE offer_id IN :ids ORDER BY offer_id, id",
    "SELECT * FROM cost_option WHERE offer_id IN :ids ORDER BY offer_id, id",
    ("SELECT a.*, t.*, x.* FROM offer_attribute a JOIN taxonomy_term t "
     "ON t.id = a.taxonomy_term_id LEFT JOIN taxonomy x ON x.id = t.taxonomy_id "
     "WHERE a.offer_id IN :ids ORDER BY a.offer_id, a.id"),
)]


def _nested(conn, offers: list, *, summary: bool = False) -> None:
    """What an Open Referral service shows: its organisation, and unless it is a list's
    summary, its venues, schedules, cost options, and categories with their taxonomy."""
    conn.execute(_ORGANISATIONS_SQL, {"orgs": sorted({row[1] for row in offers if row[1]})}
                 ).fetchall()
    if summary:
        return
    ids = [row[0] for row in offers]
    for sql in _NESTED_SQL:
        conn.execute(sql, {"ids": ids}).fetchall()


def _oruk_result(url, response, statements, subject, floor, **extra) -> dict:
    result = _measured(subject, floor, url=url, response_bytes=len(response.get_data()),
                       sql_statements_per_request=statements,
                       sql_statements_constant=len(set(statements.values())) == 1, **extra)
    result["request"] = result.pop("timing")
    return result


def _oruk_services(app: Flask, client, engine, *, runs: int) -> dict:
    """GET /openreferral/services?per_page=50 (the paged envelope of service summaries:
    one-to-one fields and the organisation) against raw SQL for the count, the page of 50
    active offers and their organisations, plus json.dumps of the parsed response;
    statements for per_page 10 and 50."""
    if not _has_rule(app, "/openreferral/services"):
        return _unavailable("GET /openreferral/services")
    url = f"/openreferral/services?per_page={ORUK_PER_PAGE}"
    get = _getter(client, url)
    parsed = get().get_json()
    contents = parsed.get("contents") or []
    listed = [service.get("id") for service in contents]

    def floor() -> list:
        with engine.connect() as conn:
            conn.execute(_ORUK_COUNT_SQL).scalar_one()
            offers = conn.execute(_ORUK_PAGE_SQL, {"per_page": ORUK_PER_PAGE}).fetchall()
            _nested(conn, offers, summary=True)
        json.dumps(parsed)
        return offers

    statements = {}
    for size in (10, ORUK_PER_PAGE):
        fetch = _getter(client, f"/openreferral/services?per_page={size}")
        fetch()
        with counting_statements(engine) as seen:
            fetch()
        statements[f"per_page={size}"] = seen[0]
    subject, floor_times = timed_pair(get, floor, runs=runs, warmup=min(5, runs),
                                      label="GET /openreferral/services vs raw SQL")
    return _oruk_result(url, get(), statements, subject, floor_times, services=len(contents),
                        total_items=parsed.get("total_items"),
                        same_rows_as_floor=listed == [row[0] for row in floor()])


def _oruk_service(app: Flask, client, engine, world: DirectoryWorld, *, runs: int) -> dict:
    """GET /openreferral/services/<id>, fully nested, against raw SQL for that offer and
    everything it nests, plus json.dumps of the parsed response."""
    if not any(r.rule.startswith("/openreferral/services/<") for r in app.url_map.iter_rules()):
        return _unavailable("GET /openreferral/services/<id>")
    url = f"/openreferral/services/{world.detail_offer_id}"
    get = _getter(client, url)
    parsed = get().get_json()

    def floor() -> list:
        with engine.connect() as conn:
            offers = conn.execute(_ORUK_ONE_SQL, {"id": world.detail_offer_id}).fetchall()
            _nested(conn, offers)
        json.dumps(parsed)
        return offers

    statements = {}
    for offer_id, shape in ((world.small_offer_id, "1 venue, 1 session, 1 category"),
                            (world.detail_offer_id, "2 venues, 2 sessions, 3 categories")):
        fetch = _getter(client, f"/openreferral/services/{offer_id}")
        fetch()
        with counting_statements(engine) as seen:
            fetch()
        statements[shape] = seen[0]
    subject, floor_times = timed_pair(get, floor, runs=runs, warmup=min(5, runs),
                                      label="GET /openreferral/services/<id> vs raw SQL")
    return _oruk_result(url, get(), statements, subject, floor_times,
                        venues=2, schedules=2, categories=3)


# --- the printed table -------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def rows(result: dict | None) -> list[tuple]:
    """Rows for bench.timing.table: measure, runs, median ms, p95 ms, floor, floor median
    ms, ratio median, ratio p95, goal."""
    if result is None:
        return []

    def row(label, entry, timing_key, floor_label):
        if not entry.get("available", True):
            return (label, "-", "-", "-", floor_label, "-", "-", "-", "not available")
        timing, floor = entry[timing_key], entry["raw_sql_floor"]
        goal = f"<= 10x + 5 = {entry['goal_ms']:.1f} ms: {_verdict(entry['goal_met'])}"
        counts = entry.get("sql_statements_per_call") or entry.get("sql_statements_per_request")
        if counts and len(counts) > 1:
            goal += (f"; SQL statements {' = '.join(map(str, counts.values()))}: "
                     f"{_verdict(entry['sql_statements_constant'])}")
        return (label, timing["runs"], f"{timing['median_ms']:.2f}", f"{timing['p95_ms']:.2f}",
                floor_label, f"{floor['median_ms']:.2f}", f"{entry['ratio_median']:.1f}x",
                f"{entry['ratio_p95']:.1f}x", goal)

    near, words = result["search_postcode"], result["search_words"]
    page = result["public_page"]
    offers = result["directory"]["offers"]
    floor_near = "raw SQL + haversine, same rows"
    page_label = "GET /directory, postcode + 5 km + day + category (whole request)"
    if page.get("available", True):
        page_label = (f"GET /directory, postcode + 5 km + day + category, {page['shown']} of "
                      f"{page['found']} shown (whole request)")
    return [
        row(f"search(): postcode + 5 km + Tuesday + category, {near['found']} of {offers} "
            "offers", near, "call", floor_near),
        row(f"search(): words only ('{WORDS}'), {words['found']} found", words, "call",
            "raw SQL, count + page + venues"),
        row(page_label, page, "request", floor_near),
        row(f"GET /openreferral/services?per_page={ORUK_PER_PAGE}, service summaries "
            "(whole request)",
            result["openreferral_services"], "request", "raw SQL, same rows + json.dumps"),
        row("GET /openreferral/services/<id>, fully nested: 2 venues, 2 sessions, "
            "3 categories (whole request)",
            result["openreferral_service"], "request", "raw SQL, same rows + json.dumps"),
    ]
