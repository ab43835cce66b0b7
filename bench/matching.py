"""Matching benchmark: `rank` over 2,000 offers, against the same loop doing no scoring.

The directory is made of Offer models (never stored: matching reads no database) spread over
a district about 55 km across, around Kindlebury, then turned into facts with
`facts.facts_for` once, as a page would. Each measure ranks them for one person and is
timed alternately with its floor, a loop over the same 2,000 facts that builds a trivial
tuple per offer. The goal (issue 5) is under 10 ms per ranking.
"""
from __future__ import annotations

import random
from datetime import date, time
from time import perf_counter

from bench.timing import Progress, Timings, ratio, timed_pair
from referrals.directory.vocabulary import ACCESSIBILITY, CATEGORIES, term_id
from referrals.matching.facts import facts_for, needs_for
from referrals.matching.scoring import PersonNeeds, clear_caches, rank
from referrals.models import (
    CapacityStatus,
    Location,
    Offer,
    OfferAttribute,
    OfferStatus,
    Patient,
    Referral,
    ReferralReason,
    Schedule,
    ServiceAtLocation,
    TaxonomyTerm,
)

OFFERS = 2000
GOAL_MS = 10.0
TOWN = (52.80, -2.10)  # Kindlebury's centre
SPREAD = (0.25, 0.40)  # degrees either side: ~28 km north-south, ~27 km east-west
TODAY = date(2026, 11, 23)
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
STARTS = (time(9, 30), time(10), time(10, 30), time(13), time(14), time(18), time(19))


def build_directory(*, count: int = OFFERS, seed: int = 2026) -> list[Offer]:
    """`count` offers shaped like the demo town's: 1-3 categories, 1 venue (some 2, some
    phone or online only), 0-3 weekly sessions, most free, a few with age limits, other
    languages, waiting lists, full or inactive."""
    rng = random.Random(seed)
    terms = {c.code: TaxonomyTerm(id=term_id(c.code), code=c.code, name=c.name)
             for c in CATEGORIES}
    features = [f.code for f in ACCESSIBILITY]
    offers = []
    for n in range(count):
        sites = []
        if rng.random() < 0.12:
            sites.append(_site(n, 0, "virtual", None, []))
        if not sites or rng.random() < 0.3:
            for k in range(2 if rng.random() < 0.08 else 1):
                at = (TOWN[0] + rng.uniform(-SPREAD[0], SPREAD[0]),
                      TOWN[1] + rng.uniform(-SPREAD[1], SPREAD[1]))
                sites.append(_site(n, k + 1, "physical", at, rng.sample(features, 4)))
        schedules = [
            Schedule(id=f"sch-{n}-{k}", freq="WEEKLY", byday=rng.choice(DAYS),
                     opens_at=(start := rng.choice(STARTS)),
                     closes_at=time(start.hour + rng.choice((1, 2)), start.minute))
            for k in range(rng.choice((0, 1, 1, 1, 2, 3)))]
        offers.append(Offer(
            id=f"offer-{n:04d}", name=f"Offer {n:04d}",
            status=OfferStatus.ACTIVE if rng.random() < 0.95 else OfferStatus.INACTIVE,
            capacity_status=rng.choices(list(CapacityStatus), weights=(85, 10, 5))[0],
            is_free=rng.random() < 0.7,
            minimum_age=rng.choice((None,) * 8 + (18, 55)),
            maximum_age=rng.choice((None,) * 19 + (25,)),
            languages=rng.choice([[]] * 8 + [["en", "pl"], ["en", "ur", "pa"]]),
            attributes=[OfferAttribute(id=f"attr-{n}-{code}", term=terms[code])
                        for code in rng.sample(sorted(terms), rng.choice((1, 1, 2, 3)))],
            sites=sites, schedules=schedules))
    return offers


def _site(n: int, k: int, kind: str, at, accessibility) -> ServiceAtLocation:
    lat, lon = at if at else (None, None)
    return ServiceAtLocation(id=f"sal-{n}-{k}", location=Location(
        id=f"loc-{n}-{k}", location_type=kind, latitude=lat, longitude=lon,
        accessibility=accessibility))


def people() -> dict[str, PersonNeeds]:
    """Who is matched: as a connector records people, from much known to little."""
    lonely = Referral(
        patient=Patient(birth_date=date(1952, 5, 17)),
        reasons=[ReferralReason(code="loneliness"), ReferralReason(code="low-mood")],
        availability=["TU-morning", "TH-morning", "TH-afternoon", "FR-morning"],
        prefers_free=True, max_distance_km=5.0, access_needs=["step-free"], language="")
    home = (TOWN[0] + 0.01, TOWN[1] - 0.02)
    recorded = needs_for(lonely, home, TODAY)
    lonely.max_distance_km, lonely.language = None, "pl"
    anywhere = needs_for(lonely, home, TODAY)
    little = needs_for(Referral(patient=None, reasons=[ReferralReason(code="other")]),
                       None, TODAY)
    return {"recorded": recorded, "anywhere": anywhere, "little": little}


# (label, person, limit, cold): the suggestions page asks for the top 20. Scorers and the
# factors they make are kept for the next person with the same needs; "cold" clears them
# before every ranking, as for a person never seen before.
MEASURES = (
    ("everything recorded, within 5 km, top 20", "recorded", 20, False),
    ("everything recorded, within 5 km, all", "recorded", None, False),
    ("no distance limit, Polish speaker, top 20", "anywhere", 20, False),
    ("no distance limit, Polish speaker, all", "anywhere", None, False),
    ("no distance limit, Polish speaker, all, nothing cached", "anywhere", None, True),
    ("only the reasons known (no home, times, age), all", "little", None, False),
)


def bench(*, runs: int) -> dict:
    """Each measure in MEASURES against the no-scoring loop; and facts_for, reported."""
    facts, made = _directory_facts(runs=max(1, min(runs, 20)))
    who = people()

    def floor() -> list:
        out = []
        for offer in facts:
            out.append((offer.offer_id, 0.0))
        return out

    measures = []
    for label, name, limit, cold in MEASURES:
        person = who[name]

        def subject(person=person, limit=limit, cold=cold):
            if cold:
                clear_caches()
            return rank(person, facts, limit=limit)

        subject_t, floor_t = (Timings.of(t) for t in timed_pair(
            subject, floor, runs=runs, warmup=min(20, runs), label=f"rank: {label}"))
        measures.append({
            "label": label, "person": name, "limit": limit, "nothing_cached": cold,
            "offers": len(facts), "suggested": len(rank(person, facts)),
            "returned": len(subject()),
            "rank": subject_t.as_dict(), "floor": floor_t.as_dict(),
            "ratio_median": ratio(subject_t.median_ms, floor_t.median_ms),
            "ratio_p95": ratio(subject_t.p95_ms, floor_t.p95_ms),
            "goal_ms": GOAL_MS, "goal_met": subject_t.median_ms < GOAL_MS,
        })
    return {"offers": len(facts), "facts_for_all_offers": made.as_dict(),
            "people": {name: _describe(p) for name, p in who.items()},
            "sample": [m.explanation for m in rank(who["recorded"], facts, limit=3)],
            "measures": measures}


def _directory_facts(*, runs: int) -> tuple[list, Timings]:
    """The directory's facts, and how long facts_for takes over it. The models are let go,
    as the suggestions service keeps only the facts between requests."""
    progress = Progress("building the matching directory", OFFERS)
    offers = build_directory()
    progress.update(OFFERS)
    progress.done()
    made = Timings.of(_times(lambda: [facts_for(offer) for offer in offers], runs=runs))
    return [facts_for(offer) for offer in offers], made


def _times(call, *, runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        start = perf_counter()
        call()
        seconds.append(perf_counter() - start)
    return seconds


def _describe(person: PersonNeeds) -> dict:
    return {"categories": sorted(person.categories), "home": person.home,
            "max_distance_km": person.max_distance_km,
            "availability": sorted(person.availability), "prefers_free": person.prefers_free,
            "age": person.age, "access_needs": sorted(person.access_needs),
            "language": person.language}
