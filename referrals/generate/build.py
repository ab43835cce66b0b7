"""Building a whole tier: the area, the directory, then every referral in the order they
arrived, each with the person it is for."""
from __future__ import annotations

import random
import time as clock
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine

from referrals import workdays
from referrals.generate import journeys, people
from referrals.generate.directory import build_directory
from referrals.generate.places import PracticeInfo, build_area
from referrals.generate.records import Context, write_referral
from referrals.generate.tiers import Tier
from referrals.generate.writer import Ids, Writer, advance_sequences, bulk_connection

# "Now" is midday on the day given: nothing generated happens after it.
NOW_AT = time(12, 0)
# How often a story is planned again when only closed ones are wanted.
CLOSED_TRIES = 20


@dataclass
class Result:
    tier: Tier
    seed: int
    now: datetime
    rows: dict[str, int]
    staff: list[tuple[str, str]]
    seconds: float


def now_on(today: date) -> datetime:
    return datetime.combine(today, NOW_AT, workdays.UK).astimezone(UTC)


def generate(engine: Engine, tier: Tier, *, seed: int, today: date, password_hash: str,
             audit: bool = True, progress: Callable[[int], None] = lambda _: None,
             batch: int = 20_000) -> Result:
    """Write the tier into an empty database. `progress` is told how many referrals are
    written so far. Same seed and day, same rows (password hashes and session tokens
    aside: they are secrets)."""
    started = clock.perf_counter()
    rng = random.Random(seed)
    now = now_on(today)
    start = now - timedelta(days=365 * tier.years)
    with bulk_connection(engine) as connection:
        ids = Ids(connection)
        out = Writer(connection, batch=batch)
        area = build_area(tier, rng, ids, out, start=start, password_hash=password_hash)
        offers = build_directory(tier.offers, tier.organisations, rng, out, area.districts,
                                 start=start, today=today)
        ctx = Context(ids, out, area, offers, audit)
        practices = rng.choices(area.practices, [p.list_size for p in area.practices],
                                k=tier.referrals)
        arrivals = sorted(arrival(rng, start, now) for _ in range(tier.referrals))
        write_stories(ctx, rng, list(zip(arrivals, practices, strict=True)), now=now,
                      today=today, numbers=people.nhs_numbers(),
                      reuse=max(0.0, 1 - tier.patients / tier.referrals), progress=progress)
        out.flush()
        advance_sequences(connection)
    return Result(tier, seed, now, dict(out.written), area.staff,
                  round(clock.perf_counter() - started, 1))


def write_stories(ctx: Context, rng: random.Random,
                  arrivals: list[tuple[datetime, PracticeInfo]], *, now: datetime,
                  today: date, numbers: Iterator[str], reuse: float,
                  progress: Callable[[int], None] = lambda _: None, closed_only: bool = False,
                  ethnic_categories: Iterator[str] | None = None) -> int:
    """Each referral's story (oldest first), with a new person or someone whose last
    referral had closed: the generator's whole run, and the demo's history for its own
    practices and team. `closed_only` plans a story again until it has ended by `now`
    (the demo's history must not fill its connectors' caseloads); `ethnic_categories`
    gives each new person's category instead of drawing one. Returns how many were
    written; the caller flushes `ctx.out`."""
    # Per practice: people whose last referral has closed, and since when.
    free: dict[int, list[tuple[datetime, int, str]]] = defaultdict(list)
    done = 0
    for created, practice in arrivals:
        plan = journeys.plan(rng, created, now)
        if closed_only:
            for _ in range(CLOSED_TRIES):
                if plan.closed_at is not None:
                    break
                plan = journeys.plan(rng, created, now)
            else:
                continue
        if plan.source == "fhir" and not practice.fhir:
            plan.source = "form"  # sent from the practice's form: its GP system is not linked
        person = _returning(rng, free[practice.id], created) if rng.random() < reuse \
            else None
        if person is None:
            patient_id, postcode, known = people.add_patient(
                rng, ctx.ids, ctx.out, numbers, practice, ctx.area.districts,
                source=plan.source, today=today, at=created,
                ethnic_category=next(ethnic_categories) if ethnic_categories else None)
        else:
            (patient_id, postcode), known = person, True
        write_referral(ctx, rng, plan, patient_id=patient_id, postcode=postcode,
                       practice=practice)
        # Found again by NHS number: someone who never gave one comes back as new.
        if plan.closed_at is not None and known:
            free[practice.id].append((plan.closed_at, patient_id, postcode))
        done += 1
        if done % 100 == 0 or done == len(arrivals):
            progress(done)
    return done


def arrival(rng: random.Random, start: datetime, now: datetime) -> datetime:
    """When a referral arrived: in working hours on a working day, bar a few
    self-referrals sent in the evening or at the weekend."""
    while True:
        moment = start + (now - start) * rng.random()
        day = workdays.uk_date(moment)
        if workdays.is_working_day(day):
            moment = journeys.at_work(day, rng)
            return moment if moment < now else now - timedelta(minutes=rng.randint(5, 180))
        if rng.random() < 0.05:
            return moment


def _returning(rng: random.Random, free: list[tuple[datetime, int, str]], created: datetime
               ) -> tuple[int, str] | None:
    """Someone referred before, whose last referral closed before this one arrived (one
    open referral per person), or None."""
    for _ in range(4):
        if not free:
            return None
        k = rng.randrange(len(free))
        closed_at, patient_id, postcode = free[k]
        if closed_at < created:
            free[k] = free[-1]
            free.pop()
            return patient_id, postcode
    return None
