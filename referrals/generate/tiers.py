"""The sizes the generator builds, from shared/reference/scale-and-speed.md §A4."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    name: str
    practices: int
    pcns: int
    referrers: int  # managers: one per practice, on top
    connectors: int
    coordinators: int
    patients: int
    referrals: int
    years: int
    offers: int
    organisations: int
    # Postcode districts the people live in, and postcodes in each.
    districts: int
    postcodes_per_district: int
    # A connector's caseload capacity: room for the open referrals the tier holds.
    connector_capacity: int


TIERS = {
    # A market town: one PCN of five practices and its connector team, one year.
    "pcn": Tier("pcn", practices=5, pcns=1, referrers=25, connectors=3, coordinators=1,
                patients=900, referrals=1000, years=1, offers=500, organisations=200,
                districts=6, postcodes_per_district=40, connector_capacity=70),
    # A county (Staffordshire-like): 146 practices in 28 PCNs and one hub, three years.
    "county": Tier("county", practices=146, pcns=28, referrers=600, connectors=50,
                   coordinators=5, patients=60_000, referrals=67_000, years=3, offers=2000,
                   organisations=800, districts=40, postcodes_per_district=90,
                   connector_capacity=80),
}
