"""The generated area: postcode districts with their deprivation, practices grouped in
PCNs with their list sizes, the hub, its staff and the GP system's API client."""
from __future__ import annotations

import hashlib
import math
import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from referrals.generate.tiers import Tier
from referrals.generate.writer import Ids, Writer
from referrals.models import Role

# The county is fictional: "KB" postcodes are never issued to a real street.
AREA = "KB"
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
CENTRE = (52.80, -2.10)
EMAIL_DOMAIN = "generated.kindly.example"

TOWNS = ["Kindlebury", "Ashcombe", "Brindley", "Thistlecombe", "Pennimore", "Hollins Green",
         "Marston Cross", "Oakley Bank", "Fenwick", "Little Haywood", "Coldmeece", "Bramshall",
         "Stowe End", "Wetley Moor", "Chartley", "Gnosall", "Eccleshall", "Abbots Bromley",
         "Cheadle Vale", "Leekfield", "Uttoxbury", "Stonebridge", "Rugeford", "Cannock Edge",
         "Tamworth Cross", "Burslem Green", "Kidsgrove Hill", "Biddulph Moor"]
PRACTICE_WORDS = ["Surgery", "Medical Centre", "Health Centre", "Medical Practice",
                  "Family Practice"]
STREETS = ["Market Street", "Mill Lane", "Church Road", "Station Road", "High Street",
           "Chapel Street", "The Green", "Park Road", "Victoria Road", "Brook Lane"]
STAFF_GIVEN = ["Priya", "Tom", "Helen", "Sandra", "Gareth", "Aisha", "Jo", "Sam", "Megan",
               "Ruth", "Alex", "Chris", "Fiona", "Imran", "Kate", "Liam", "Nadia", "Owen",
               "Rachel", "Sunita", "David", "Emma", "Hassan", "Julie", "Mark", "Zoe"]
STAFF_FAMILY = ["Shah", "Okafor", "Price", "Lowe", "Evans", "Rahman", "Bennett", "Patel",
                "Hughes", "Adeyemi", "Morgan", "Taylor", "Wilson", "Ahmed", "Clarke", "Doyle",
                "Kaur", "Lewis", "Murray", "Nowak", "Reid", "Singh", "Walsh", "Young"]


@dataclass
class District:
    code: str
    east_km: float
    north_km: float
    decile: int  # the district's typical IMD decile; its postcodes vary round it
    postcodes: list[str] = field(default_factory=list)
    places: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass
class PracticeInfo:
    id: int
    ods_code: str
    pcn: str
    district: District
    list_size: int
    referrer_ids: list[int] = field(default_factory=list)
    manager_id: int = 0
    # Whether its GP system refers through the API client (the demo's connects only one).
    fhir: bool = True


@dataclass
class Area:
    districts: list[District]
    practices: list[PracticeInfo]
    team_id: int
    first_contact_days: int
    connector_ids: list[int]
    coordinator_ids: list[int]
    api_client_id: int
    api_client_label: str
    staff: list[tuple[str, str]]  # (email, role) of each account, for the summary
    names: dict[int, str]  # each account's name by id, for the events that name them
    emails: dict[int, str]  # and email, which audit events name them by


def build_area(tier: Tier, rng: random.Random, ids: Ids, out: Writer, *,
               start: datetime, password_hash: str) -> Area:
    districts = _districts(tier, rng, ids, out, start)
    team_id = ids("team")
    team_name = "Kindlebury Community Connectors" if tier.pcns == 1 else "Kindleshire Hub"
    out.add("team", {"id": team_id, "name": f"{team_name} (generated)", "first_contact_days": 5,
                     "max_contact_attempts": 3, "follow_up_grace_days": 2})
    practices = _practices(tier, rng, ids, out, districts, team_id)
    staff: list[tuple[str, str]] = []
    names: dict[int, str] = {}
    emails: dict[int, str] = {}

    def account(role: Role, number: int, *, practice_id=None, team=None, capacity=None,
                title: str = "") -> int:
        user_id = ids("user_account")
        email = f"{role.value}{number}@{EMAIL_DOMAIN}"
        name = f"{title}{rng.choice(STAFF_GIVEN)} {rng.choice(STAFF_FAMILY)}"
        out.add("user_account", {
            "id": user_id, "email": email, "name": name, "role": role.value,
            "password_hash": password_hash, "practice_id": practice_id, "team_id": team,
            "active": True, "capacity": capacity, "phone": "01632 960900" if team else "",
            "created_at": start,
            "report_emails": False, "identifiable_exports": False,
            # A secret, like the password hash: never part of what the seed reproduces.
            "session_token": secrets.token_urlsafe(32)})
        staff.append((email, role.value))
        names[user_id], emails[user_id] = name, email
        return user_id

    for number, practice in enumerate(practices, start=1):
        practice.manager_id = account(Role.MANAGER, number, practice_id=practice.id)
    # Every practice has a referrer; the rest go where the lists are longest.
    weights = [p.list_size for p in practices]
    homes = practices + rng.choices(practices, weights=weights,
                                    k=max(0, tier.referrers - len(practices)))
    for number, practice in enumerate(homes, start=1):
        # Most referrers are GPs; the rest nurses and other practice staff.
        title = "Dr " if rng.random() < 0.6 else ""
        practice.referrer_ids.append(account(Role.REFERRER, number, practice_id=practice.id,
                                             title=title))
    connectors = [account(Role.CONNECTOR, n, team=team_id, capacity=tier.connector_capacity)
                  for n in range(1, tier.connectors + 1)]
    coordinators = [account(Role.COORDINATOR, n, team=team_id)
                    for n in range(1, tier.coordinators + 1)]
    account(Role.ADMIN, 1)

    client_id = ids("api_client")
    client_name = "GP system (generated)"
    out.add("api_client", {
        "id": client_id, "name": client_name,
        # Nobody holds the token: the hash of random bytes matches no bearer token.
        "token_hash": hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
        "token_hint": "generated", "created_at": start, "revoked_at": None,
        "last_used_at": None})
    for practice in practices:
        out.add("api_client_practice", {"api_client_id": client_id, "practice_id": practice.id})
    return Area(districts, practices, team_id, 5, connectors, coordinators, client_id,
                f"api-client:{client_name}", staff, names,
                emails)


def _districts(tier: Tier, rng: random.Random, ids: Ids, out: Writer, start: datetime
               ) -> list[District]:
    """Districts on a rough grid round the centre (a town's worth for one PCN, a county's
    for more), each with postcodes, their places and their deprivation deciles."""
    spread = 4.0 if tier.pcns == 1 else 30.0
    districts = []
    for n in range(1, tier.districts + 1):
        # Town centres are more deprived than the villages round them, as in most counties.
        east, north = rng.uniform(-spread, spread), rng.uniform(-spread, spread)
        distance = math.hypot(east, north) / spread
        decile = max(1, min(10, round(2 + 7 * distance + rng.gauss(0, 1.5))))
        districts.append(District(f"{AREA}{n}", east, north, decile))
    seen = set()
    for district in districts:
        while len(district.postcodes) < tier.postcodes_per_district:
            code = (f"{district.code} {rng.randint(1, 9)}{rng.choice(INWARD_LETTERS)}"
                    f"{rng.choice(INWARD_LETTERS)}")
            if code in seen:
                continue
            seen.add(code)
            district.postcodes.append(code)
            lat, lon = _lat_lon(district.east_km + rng.gauss(0, 1.0),
                                district.north_km + rng.gauss(0, 1.0))
            district.places[code] = (lat, lon)
            out.add("postcode_place", {"postcode": code, "latitude": lat, "longitude": lon})
            out.add("postcode_deprivation", {
                "postcode": code, "lsoa_code": f"E01{rng.randrange(10**6):06d}",
                "imd_decile": max(1, min(10, district.decile + rng.choice([-2, -1, 0, 0, 0, 1, 2]))),
                "imported_at": start})
        lat, lon = _lat_lon(district.east_km, district.north_km)
        out.add("postcode_place", {"postcode": district.code, "latitude": lat, "longitude": lon})
    return districts


def _practices(tier: Tier, rng: random.Random, ids: Ids, out: Writer,
               districts: list[District], team_id: int) -> list[PracticeInfo]:
    pcn_names = [f"{TOWNS[n % len(TOWNS)]}{'' if n < len(TOWNS) else ' South'} PCN"
                 for n in range(tier.pcns)]
    practices = []
    for n in range(tier.practices):
        district = districts[n % len(districts)]
        town = TOWNS[n % len(TOWNS)]
        # List sizes from about 2,000 to 18,000, most near 7,000.
        size = int(min(18_000, max(2_000, rng.lognormvariate(math.log(7_000), 0.5))))
        practice_id = ids("practice")
        ods = f"K{84001 + n:05d}"
        pcn = pcn_names[n * tier.pcns // tier.practices]
        out.add("practice", {
            "id": practice_id, "ods_code": ods,
            "name": f"{rng.choice(STREETS).split()[0]} {rng.choice(PRACTICE_WORDS)}, {town}",
            "address": f"{rng.randint(1, 120)} {rng.choice(STREETS)}, {town}",
            "postcode": rng.choice(district.postcodes), "phone": f"01632 9{60000 + n:05d}",
            "pcn_name": pcn, "team_id": team_id})
        practices.append(PracticeInfo(practice_id, ods, pcn, district, size))
    return practices


def _lat_lon(east_km: float, north_km: float) -> tuple[float, float]:
    lat = CENTRE[0] + north_km / 111.25
    lon = CENTRE[1] + east_km / (111.32 * math.cos(math.radians(CENTRE[0])))
    return round(lat, 6), round(lon, 6)
