"""What the demo town adds for the reports (issue 13): its synthetic IMD table, and the
needs its connectors found no offer for. The people's ethnic groups come from
referrals.ethnicity.allocate, through the intake like every other detail.

Each part draws from its own random stream, so adding it left the rest of the demo (who
was referred, when, what happened) exactly as it was.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from referrals.deprivation import importing
from referrals.directory import vocabulary
from referrals.matching import unmet
from referrals.models import Referral, UnmetReason

IMD_FILE = Path(__file__).resolve().parent / "directory" / "data" / "kindlebury-imd-synthetic.csv"

# How often each reason comes up: mostly nothing near enough, or full.
REASON_WEIGHTS = {
    UnmetReason.NONE_NEARBY: 30, UnmetReason.FULL: 20, UnmetReason.WRONG_TIME: 15,
    UnmetReason.COST: 15, UnmetReason.ACCESS: 10, UnmetReason.LANGUAGE: 10,
}
# The share of people worked with for whom a connector found a gap.
UNMET_SHARE = 0.35


def load_imd() -> importing.ImdReport:
    """The demo's own (synthetic) postcode deciles. Flushes; the caller commits."""
    with IMD_FILE.open(newline="", encoding="utf-8-sig") as handle:
        rows, report = importing.read(handle)
        importing.load(rows, report)
    if report.problems:
        raise RuntimeError(f"the demo IMD table did not load: {report.problems}")
    return report


def unmet_needs(referral: Referral, rng: random.Random, *, until: datetime,
                closing: bool) -> None:
    """Perhaps a need no offer met, recorded by the connector while working with the
    person (between the first contact and `until`); for a referral now closing, some were
    met after all before it closed."""
    connector, start = referral.connector, referral.first_contact_at
    if connector is None or start is None or until - start < timedelta(hours=2):
        return
    if rng.random() >= UNMET_SHARE:
        return
    wanted = sorted(vocabulary.categories_for_reasons(r.code for r in referral.reasons)) \
        or [c.code for c in vocabulary.CATEGORIES]
    for category in rng.sample(wanted, min(len(wanted), rng.choice([1, 1, 1, 2]))):
        reason = rng.choices(list(REASON_WEIGHTS), weights=list(REASON_WEIGHTS.values()))[0]
        at = start + (until - start) * rng.uniform(0.2, 0.6)
        need = unmet.record_unmet_need(referral, actor=connector, category=category,
                                       reason=reason, now=at)
        if closing and rng.random() < 0.3:
            unmet.mark_met(referral, need.id, actor=connector,
                           now=at + (until - at) * rng.uniform(0.3, 0.9))
