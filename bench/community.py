"""The hub's community side at a tier's scale, for the report bench (issue 15 point 5):
volunteers, the hours they log and the calls to the hub's phone line, so the hub
report's community queries are timed against real volumes rather than empty tables.

The county figures are the issue's: a county hub that mobilised more than 2,500
volunteers and took over 8,000 calls (a year, here); smaller tiers in proportion to
their referrals. The warm handovers are the generated connections' own (those of kind
referral, with their events). Written with bulk inserts; the caller commits.
"""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from referrals.extensions import db
from referrals.generate.tiers import TIERS, Tier
from referrals.models import CallOutcome, HubCall, Team, Volunteer, VolunteerHours, VolunteerStatus

COUNTY_VOLUNTEERS = 2500
COUNTY_CALLS_A_YEAR = 8000
LOGGING_EVERY_DAYS = 14  # an approved volunteer who logs does so about once a fortnight
CHUNK = 5000


def add(tier: Tier, *, today: date, seed: int) -> dict[str, int]:
    """Volunteers, hours and calls for every team; how many of each were written."""
    rng = random.Random(seed)
    share = tier.referrals / TIERS["county"].referrals
    teams = db.session.scalars(select(Team.id).order_by(Team.id)).all()
    first_day = today - timedelta(days=365 * tier.years)
    written = {"volunteers": 0, "hours": 0, "calls": 0}
    for team_id in teams:
        volunteers = max(10, round(COUNTY_VOLUNTEERS * share / len(teams)))
        written["volunteers"] += _volunteers(team_id, volunteers, first_day, today, rng)
        written["hours"] += _hours(team_id, first_day, today, rng)
        calls = max(20, round(COUNTY_CALLS_A_YEAR * tier.years * share / len(teams)))
        written["calls"] += _calls(team_id, calls, first_day, today, rng)
    return written


def _moment(first_day: date, today: date, rng: random.Random) -> datetime:
    day = first_day + timedelta(days=rng.randrange((today - first_day).days))
    return datetime.combine(day, time(rng.randint(8, 17), rng.randrange(60)), UTC)


def _volunteers(team_id, how_many, first_day, today, rng) -> int:
    statuses = rng.choices(
        [VolunteerStatus.APPROVED, VolunteerStatus.APPLIED, VolunteerStatus.DECLINED,
         VolunteerStatus.LAPSED, VolunteerStatus.LEFT], weights=[75, 10, 5, 5, 5], k=how_many)
    rows = []
    for n, status in enumerate(statuses):
        created = _moment(first_day, today, rng)
        decided = None if status is VolunteerStatus.APPLIED else \
            created + timedelta(days=rng.randint(7, 40))
        rows.append({"team_id": team_id, "given_name": "Volunteer", "family_name": str(n),
                     "email": f"volunteer{team_id}-{n}@bench.example", "status": status,
                     "created_at": created, "decided_at": decided,
                     "last_active_at": decided or created, "offers": ["befriending_calls"]})
    _insert(Volunteer, rows)
    return len(rows)


def _hours(team_id, first_day, today, rng) -> int:
    logging = db.session.execute(
        select(Volunteer.id, Volunteer.decided_at)
        .where(Volunteer.team_id == team_id, Volunteer.status == VolunteerStatus.APPROVED,
               Volunteer.decided_at.is_not(None))).all()
    rows = []
    for volunteer_id, decided in logging:
        if rng.random() < 0.4:  # logging hours is optional: most do, some never
            continue
        day = max(decided.date(), first_day)
        while day <= today:
            rows.append({"volunteer_id": volunteer_id, "on": day,
                         "hours": rng.choice([1, 1.5, 2, 3])})
            day += timedelta(days=rng.randint(LOGGING_EVERY_DAYS // 2, LOGGING_EVERY_DAYS * 2))
    _insert(VolunteerHours, rows)
    return len(rows)


def _calls(team_id, how_many, first_day, today, rng) -> int:
    outcomes = rng.choices(list(CallOutcome), weights=[30, 20, 50], k=how_many)
    rows = [{"team_id": team_id, "received_at": _moment(first_day, today, rng),
             "outcome": outcome, "caller_name": "A caller", "need": "Would like some company"}
            for outcome in outcomes]
    _insert(HubCall, rows)
    return len(rows)


def _insert(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(model.__table__.insert(), rows[start:start + CHUNK])
