"""The generated community directory: organisations, their venues and their offers, each
with a weekly session, a cost and one to three of Kindly's categories."""
from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from referrals.directory import vocabulary
from referrals.generate.places import District
from referrals.generate.writer import Writer

# How common each category is among offers; every category has some.
CATEGORY_WEIGHTS = {
    "social-groups": 12, "befriending": 4, "bereavement": 3, "carers": 4,
    "physical-activity": 12, "food-lunch-clubs": 7, "mens-sheds": 3, "arts-crafts": 8,
    "music-singing": 5, "gardening-nature": 5, "digital-skills": 4, "money-debt": 4,
    "housing": 3, "mental-wellbeing": 7, "health-conditions": 6, "learning-work": 5,
    "volunteering": 8,
}
OFFER_WORDS = {
    "social-groups": ["Coffee morning", "Friendship club", "Tea and chat", "Knit and natter"],
    "befriending": ["Telephone befriending", "Home visiting befrienders"],
    "bereavement": ["Bereavement café", "Bereavement support group"],
    "carers": ["Carers' coffee morning", "Carers' support group"],
    "physical-activity": ["Health walk", "Chair exercise", "Tai chi", "Walking football"],
    "food-lunch-clubs": ["Lunch club", "Community café", "Cook and eat"],
    "mens-sheds": ["Men's shed", "Repair café"],
    "arts-crafts": ["Art group", "Craft club", "Pottery for beginners"],
    "music-singing": ["Community choir", "Singing for the brain", "Ukulele group"],
    "gardening-nature": ["Community garden", "Conservation volunteers"],
    "digital-skills": ["Tablet and phone help", "Get online drop-in"],
    "money-debt": ["Debt advice drop-in", "Benefits advice clinic"],
    "housing": ["Housing advice surgery", "Tenants' drop-in"],
    "mental-wellbeing": ["Wellbeing peer support", "Mindfulness course", "Talking café"],
    "health-conditions": ["Breathe easy group", "Diabetes support group", "Memory café"],
    "learning-work": ["English conversation class", "Job club"],
    "volunteering": ["Volunteer drivers", "Charity shop volunteers", "Litter pick volunteers"],
}
ORGANISATION_WORDS = ["Community Trust", "Friends Group", "Wellbeing Network", "Village Hall",
                      "Methodist Church", "Carers Network", "Advice Centre", "Community Hub",
                      "Rotary Club", "Women's Institute", "Allotment Society", "Mosque",
                      "Gurdwara", "Lions Club", "Age Friendly Group", "Arts Collective"]
VENUES = ["Community Centre", "Church Hall", "Library", "Village Hall", "Leisure Centre",
          "Park Pavilion", "Memorial Hall"]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA"]
SLOTS = [(time(9, 30), time(11, 0)), (time(10, 0), time(12, 0)), (time(13, 30), time(15, 30)),
         (time(14, 0), time(16, 0)), (time(18, 30), time(20, 30))]


def new_id(rng: random.Random) -> str:
    """An HSDS id that the seed reproduces (a UUID4 drawn from the generator's stream)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def build_directory(offers: int, organisations: int, rng: random.Random, out: Writer,
                    districts: list[District], *, start: datetime, today: date
                    ) -> dict[str, list[str]]:
    """Write the directory; return the ids of the active offers in each category."""
    out.add("taxonomy", {"id": vocabulary.TAXONOMY_ID, "name": vocabulary.TAXONOMY_NAME,
                         "description": vocabulary.TAXONOMY_DESCRIPTION, "uri": "",
                         "version": ""})
    for category in vocabulary.CATEGORIES:
        out.add("taxonomy_term", {
            "id": category.id, "taxonomy_id": vocabulary.TAXONOMY_ID, "code": category.code,
            "name": category.name, "description": category.description, "parent_id": None,
            "term_uri": "", "extra": {}})
    orgs = [_organisation(rng, out, rng.choice(districts), start) for _ in range(organisations)]
    by_category: dict[str, list[str]] = defaultdict(list)
    codes, weights = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
    for n in range(offers):
        # Every organisation runs something; the busier ones run more.
        org_id, org_name, venues = orgs[n] if n < len(orgs) else rng.choice(orgs)
        # The first offers cover every category once, so none is ever missing.
        first = codes[n] if n < len(codes) else rng.choices(codes, weights)[0]
        categories = [first] + [c for c in {rng.choices(codes, weights)[0]
                                            for _ in range(rng.choice([0, 0, 1, 2]))}
                                if c != first]
        active = n < len(codes) or rng.random() < 0.95
        offer_id = _offer(rng, out, org_id, org_name, venues, first, categories, active,
                          start=start, today=today)
        if active:
            for code in categories:
                by_category[code].append(offer_id)
    return {code: sorted(ids) for code, ids in by_category.items()}


def _organisation(rng: random.Random, out: Writer, district: District, start: datetime
                  ) -> tuple[str, str, list[tuple[str, str]]]:
    org_id = new_id(rng)
    town = district.code
    name = f"{rng.choice(ORGANISATION_WORDS)} {district.code}"
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:30]
    out.add("directory_organisation", {
        "id": org_id, "name": name, "description": f"A charity run by volunteers in {town}.",
        "email": f"hello@{slug}.example", "website": f"https://{slug}.example",
        "phone": f"01632 96{rng.randint(0, 9999):04d}", "retired_at": None, "extra": {},
        "created_at": start, "updated_at": start})
    venues = []
    for _ in range(rng.choice([1, 1, 2])):
        location_id = new_id(rng)
        postcode = rng.choice(district.postcodes)
        venue = f"{rng.choice(VENUES)}, {district.code}"
        out.add("directory_location", {
            "id": location_id, "organisation_id": org_id, "location_type": "physical",
            "name": venue, "description": "", "address_id": new_id(rng),
            "address_1": f"{rng.randint(1, 120)} Station Road", "address_2": "",
            "city": "Kindlebury", "state_province": "", "postal_code": postcode,
            "country": "GB", "latitude": district.places[postcode][0],
            "longitude": district.places[postcode][1],
            "accessibility": [f.code for f in vocabulary.ACCESSIBILITY if rng.random() < 0.35],
            "extra": {}})
        venues.append((location_id, venue))
    return org_id, name, venues


def _offer(rng: random.Random, out: Writer, org_id: str, org_name: str,
           venues: list[tuple[str, str]], first: str, categories: list[str], active: bool,
           *, start: datetime, today: date) -> str:
    offer_id = new_id(rng)
    free = rng.random() < 0.6
    location_id, venue = rng.choice(venues)
    out.add("offer", {
        "id": offer_id, "organisation_id": org_id,
        "name": f"{rng.choice(OFFER_WORDS[first])}, {venue}",
        "description": f"{vocabulary.CATEGORY_BY_CODE[first].description} Run by {org_name}.",
        "kind": "volunteering" if first == "volunteering" else
        rng.choices(["group", "service"], [3, 1])[0],
        "status": "active" if active else "inactive",
        "capacity_status": rng.choices(["open", "waiting-list", "full"], [80, 12, 8])[0],
        "capacity_updated_at": None, "url": "", "email": "", "contact_name": "",
        "contact_phone": "", "is_free": free, "fees_description": "" if free else "Per session",
        "eligibility_description": "", "minimum_age": 60 if rng.random() < 0.1 else None,
        "maximum_age": None, "languages": [],
        "last_verified_on": today - timedelta(days=rng.randint(0, 400)),
        "verified_by_id": None, "verified_by_email": "", "extra": {},
        "created_at": start, "updated_at": start})
    out.add("service_at_location", {"id": new_id(rng), "offer_id": offer_id,
                                    "location_id": location_id, "description": "",
                                    "extra": {}})
    opens, closes = rng.choice(SLOTS)
    out.add("schedule", {
        "id": new_id(rng), "offer_id": offer_id, "service_at_location_id": None,
        "freq": "WEEKLY", "interval": None, "byday": rng.choice(DAYS), "bymonthday": "",
        "opens_at": opens, "closes_at": closes, "valid_from": None, "valid_to": None,
        "dtstart": None, "description": "", "extra": {}})
    out.add("cost_option", {
        "id": new_id(rng), "offer_id": offer_id, "option": "Free" if free else "Per session",
        "amount": Decimal(0) if free else rng.choice([Decimal(2), Decimal("3.50")]),
        "currency": "GBP", "amount_description": "", "extra": {}})
    for code in categories:
        out.add("offer_attribute", {"id": new_id(rng), "offer_id": offer_id,
                                    "taxonomy_term_id": vocabulary.term_id(code), "value": ""})
    return offer_id
