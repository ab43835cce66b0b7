"""The demo town's past: about fifteen months of earlier referrals for its own practices
and team, so a practice manager's last-quarter report has real figures in it.

Each story is the data generator's (referrals.generate: journeys plans it by the state
machine, records writes the rows the services would have left), told for the demo's
practices, referrers, connectors, coordinator, API client and directory offers, with new
people from the 999 test range living at the demo's postcodes (so its synthetic IMD table
applies) in census proportions of ethnic category (referrals.ethnicity.allocate).

Only stories that have ended by now are kept: the connectors' caseloads, the team queue
and routing stay exactly as the hand-made referrals (the walkthroughs) left them, and
nobody has two open referrals. History referrals get no outcome letters (a letter is a
rendered PDF each; the hand-made closed referrals keep theirs).

Written with bulk inserts (referrals.generate.writer) in the session's own transaction,
after the hand-made referrals are flushed; the caller commits.
"""
from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from referrals import access, ethnicity, workdays
from referrals.demo import PRACTICES, TEAM_NAME
from referrals.demo_reports import IMD_FILE
from referrals.extensions import db
from referrals.generate import build as generated
from referrals.generate import people
from referrals.generate.places import Area, District, PracticeInfo
from referrals.generate.records import Context
from referrals.generate.writer import Ids, Writer, advance_sequences
from referrals.models import (
    ApiClient,
    Offer,
    OfferStatus,
    Patient,
    Practice,
    Referral,
    Team,
    User,
)

# Months of history before now, and how many referrals each practice sends a year (a
# practice of about 10,000 patients; shared/reference/scale-and-speed.md).
HISTORY_DAYS = 456
# The newest history story arrived this long ago: later ones would still be open.
QUIET_DAYS = 14
PER_PRACTICE_PER_YEAR = 200
# The share of history referrals for someone referred before (their earlier one closed).
RETURNING = 0.08


# What else seed-demo adds once its data is in, from packages the domain never imports
# (reports: last month's stored reports); create_app wires them in. Each is given "now"
# and returns how many jobs it added, run with the letters' after the commit.
EXTRAS: dict[str, Callable[[datetime], int]] = {}


def register_extra(name: str, extra: Callable[[datetime], int]) -> None:
    EXTRAS[name] = extra


@dataclass(frozen=True)
class History:
    referrals: int
    rows: dict[str, int]


def add(*, now: datetime, seed: int = 2026, api_client: ApiClient | None = None,
        progress: Callable[[str], None] = lambda _: None) -> History:
    """Write the history around what the demo already holds. Flushes the session first;
    the caller commits."""
    db.session.flush()
    rng = random.Random(seed + 13)
    area = _area(api_client)
    start, end = now - timedelta(days=HISTORY_DAYS), now - timedelta(days=QUIET_DAYS)
    total = round(len(area.practices) * PER_PRACTICE_PER_YEAR * HISTORY_DAYS / 365)
    arrivals = sorted(((generated.arrival(rng, start, end), rng.choice(area.practices))
                       for _ in range(total)), key=lambda item: item[0])
    connection = db.session.connection()
    ids, out = Ids(connection), Writer(connection)
    ctx = Context(ids, out, area, _offers(), audit=True)
    written = generated.write_stories(
        ctx, rng, arrivals, now=now, today=workdays.uk_date(now), numbers=_unused_numbers(),
        reuse=RETURNING, closed_only=True,
        ethnic_categories=iter(ethnicity.allocate(total, random.Random(seed + 14))))
    out.flush()
    advance_sequences(connection)
    progress(f"Added {written} earlier referrals (the last {HISTORY_DAYS // 30} months), "
             "all closed, for the reports.")
    return History(written, dict(out.written))


def _area(api_client: ApiClient | None) -> Area:
    """The demo's practices, team and staff in the shape the generator writes for: each
    practice's referrers are those who referred its hand-made people."""
    team = db.session.scalars(select(Team).where(Team.name == TEAM_NAME)).one()
    districts = _districts()
    by_code = {d.code: d for d in districts}
    staff = db.session.scalars(select(User).order_by(User.id)).all()
    practices = []
    for ods, *_ in PRACTICES:
        practice = db.session.scalars(select(Practice).where(Practice.ods_code == ods)).one()
        referrers = db.session.scalars(
            select(Referral.referrer_id).distinct()
            .where(Referral.practice_id == practice.id, Referral.referrer_id.is_not(None))
            .order_by(Referral.referrer_id)).all()
        practices.append(PracticeInfo(
            id=practice.id, ods_code=ods, pcn=practice.pcn_name or "",
            district=by_code[practice.postcode.split()[0]], list_size=1,
            referrer_ids=list(referrers),
            fhir=api_client is not None and practice in api_client.practices))
    return Area(
        districts=districts, practices=practices, team_id=team.id,
        first_contact_days=team.first_contact_days,
        connector_ids=_user_ids(access.caseload_holders(team.id)),
        coordinator_ids=_user_ids(access.team_coordinators([team.id])),
        api_client_id=api_client.id if api_client else None,
        api_client_label=api_client.name if api_client else "",
        staff=[(u.email, u.role.value) for u in staff],
        names={u.id: u.name for u in staff}, emails={u.id: u.email for u in staff})


def _user_ids(where) -> list[int]:
    return list(db.session.scalars(select(User.id).where(where).order_by(User.id)))


def _districts() -> list[District]:
    """The demo's postcode districts with the postcodes its IMD table holds, so every
    history person's deprivation decile is known. The town's three districts only: the
    outlying ones are nobody's practice."""
    towns = {ods_postcode.split()[0] for *_, ods_postcode, _ in PRACTICES}
    districts: dict[str, District] = {}
    with IMD_FILE.open(newline="", encoding="utf-8-sig") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        for row in rows:
            code = row["postcode"].split()[0]
            if code in towns:
                district = districts.setdefault(
                    code, District(code, 0.0, 0.0, int(row["imd_decile"])))
                district.postcodes.append(row["postcode"])
    return [districts[code] for code in sorted(districts)]


def _offers() -> dict[str, list[str]]:
    """The directory's active offers by category."""
    offers: dict[str, list[str]] = {}
    for offer in db.session.scalars(select(Offer).where(Offer.status == OfferStatus.ACTIVE)
                                    .order_by(Offer.id)):
        for code in offer.category_codes:
            offers.setdefault(code, []).append(offer.id)
    return offers


def _unused_numbers():
    """The generator's 999 test-range numbers, less any the hand-made people hold."""
    taken = set(db.session.scalars(select(Patient.nhs_number)
                                   .where(Patient.nhs_number.is_not(None))))
    return (number for number in people.nhs_numbers() if number not in taken)
