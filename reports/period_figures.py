"""The period report's figures as raw numbers, each from one aggregate query (GROUP BY,
window functions): how many queries a report makes depends on the instruments and the
groups, never on how many referrals there are. reports.period_report suppresses them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, case, func, literal_column, select

from referrals.directory.vocabulary import CATEGORY_BY_CODE
from referrals.extensions import db
from referrals.models import (
    Connection,
    ConnectionEvent,
    Measurement,
    OfferAttribute,
    PostcodeDeprivation,
    Referral,
    ReferralReason,
    TaxonomyTerm,
    Timepoint,
)
from referrals.scopes import Period, Scope
from reports import period_sql as q

UNCATEGORISED = ""


@dataclass(frozen=True)
class Median:
    value: float | None
    n: int


@dataclass(frozen=True)
class Change:
    """Mean scores over the people with both a baseline and a later measure."""

    n: int
    baseline: float | None
    latest: float | None
    change: float | None


def counts(query) -> dict:
    return {key: n for key, n in db.session.execute(query).all()}


def reasons(scope: Scope, period: Period) -> dict[str, int]:
    """Referrals received by coded reason (a referral may give several)."""
    return counts(select(ReferralReason.code, func.count(func.distinct(Referral.id)))
                  .join(Referral, Referral.id == ReferralReason.referral_id)
                  .where(q.received(scope, period)).group_by(ReferralReason.code))


def received_by(column, scope: Scope, period: Period) -> dict:
    return counts(select(column, func.count()).where(q.received(scope, period))
                  .group_by(column))


def status_at_end(facts) -> dict[str, int]:
    return counts(select(facts.c.status, func.count()).group_by(facts.c.status))


def grouped_counts(facts, dimension: str | None) -> dict:
    """Rows per group (or "all") of a facts subquery."""
    group = facts.c[dimension] if dimension else literal_column("0")
    query = select(group, func.count()).select_from(facts)
    return counts(query.group_by(group) if dimension else query)


def first_contact(facts, dimension: str | None) -> tuple[dict, dict]:
    """Per group: the median days to first contact, and (within target, judged)."""
    group = facts.c[dimension] if dimension is not None else None
    medians = {key: Median(value, n) for key, value, n in
               db.session.execute(q.median(facts, facts.c.days, group)).all()}
    key = group if group is not None else literal_column("0")
    query = (select(key, func.coalesce(func.sum(facts.c.within), 0), func.count(facts.c.within))
             .select_from(facts))
    if group is not None:
        query = query.group_by(group)
    targets = {row[0]: (int(row[1]), int(row[2])) for row in db.session.execute(query).all()}
    return medians, targets


def closed_work(facts, dimension: str | None) -> dict:
    """Per group: (people closed, contacts recorded, people who attended an activity)."""
    key = facts.c[dimension] if dimension is not None else literal_column("0")
    query = select(key, func.count(), func.coalesce(func.sum(facts.c.contacts), 0),
                   func.coalesce(func.sum(facts.c.attended), 0)).select_from(facts)
    if dimension is not None:
        query = query.group_by(key)
    return {row[0]: (int(row[1]), int(row[2]), int(row[3]))
            for row in db.session.execute(query).all()}


def connection_outcomes(closed_facts, period: Period) -> dict[tuple[str, str], int]:
    """Connections of the referrals closed in the period, by offer category and by their
    status at the end of the period. An offer in two categories counts in both."""
    categories = (select(OfferAttribute.offer_id, TaxonomyTerm.code)
                  .join(TaxonomyTerm, TaxonomyTerm.id == OfferAttribute.taxonomy_term_id)
                  .where(TaxonomyTerm.code.in_(tuple(CATEGORY_BY_CODE)))
                  .distinct().subquery("category"))
    status = func.coalesce(
        select(ConnectionEvent.to_status)
        .where(ConnectionEvent.connection_id == Connection.id,
               ConnectionEvent.at < period.ends_before)
        .order_by(ConnectionEvent.at.desc(), ConnectionEvent.id.desc())
        .limit(1).correlate(Connection).scalar_subquery(),
        Connection.status)
    category = func.coalesce(categories.c.code, UNCATEGORISED)
    query = (select(category, status, func.count(Connection.id))
             .join(closed_facts, closed_facts.c.referral_id == Connection.referral_id)
             .outerjoin(categories, categories.c.offer_id == Connection.offer_id)
             .where(Connection.created_at < period.ends_before)
             .group_by(category, status))
    return {(cat, str(st)): n for cat, st, n in db.session.execute(query).all()}


def instruments_measured(closed_facts, period: Period) -> list[str]:
    """The instruments with a follow-up or closing measure among the closed referrals."""
    return list(db.session.scalars(
        select(Measurement.instrument).distinct()
        .join(closed_facts, closed_facts.c.referral_id == Measurement.referral_id)
        .where(Measurement.timepoint != Timepoint.BASELINE,
               Measurement.completed_on <= period.end)
        .order_by(Measurement.instrument)))


def _one_measure(people, code: str, period: Period, *, baseline: bool):
    """A person's first baseline (or latest follow-up or closing) scores: one indexed
    lookup per person (ix_measurement_referral)."""
    timepoints = (Timepoint.BASELINE,) if baseline else (Timepoint.FOLLOW_UP, Timepoint.CLOSING)
    order = ((Measurement.completed_on, Measurement.id) if baseline
             else (Measurement.completed_on.desc(), Measurement.id.desc()))
    return (select(Measurement.scores)
            .where(Measurement.referral_id == people.c.referral_id,
                   Measurement.instrument == code, Measurement.timepoint.in_(timepoints),
                   Measurement.completed_on <= period.end)
            .order_by(*order).limit(1).scalar_subquery())


def outcome_changes(people, code: str, score_ids: Iterable[str], period: Period,
                    dimension: str | None) -> dict[tuple, Change]:
    """(group, score id) -> the mean change from baseline to the latest follow-up or
    closing measure, over the closed referrals with both (and that score not skipped)."""
    # Materialised, so each person's two lookups run once, not once per use below.
    pairs = (select(people, _one_measure(people, code, period, baseline=True).label("before"),
                    _one_measure(people, code, period, baseline=False).label("after"))
             .cte("pairs").prefix_with("MATERIALIZED"))
    key = pairs.c[dimension] if dimension is not None else literal_column("0")
    columns = [key]
    score_ids = list(score_ids)
    for score in score_ids:
        before = pairs.c.before[score].as_float()
        after = pairs.c.after[score].as_float()
        both = and_(before.is_not(None), after.is_not(None))
        columns += [func.count(case((both, 1))),
                    func.avg(case((both, before))), func.avg(case((both, after)))]
    query = select(*columns).select_from(pairs).where(pairs.c.before.is_not(None),
                                                      pairs.c.after.is_not(None))
    if dimension is not None:
        query = query.group_by(key)
    found = {}
    for row in db.session.execute(query).all():
        for i, score in enumerate(score_ids):
            n, before, after = row[1 + 3 * i: 4 + 3 * i]
            change = after - before if n else None
            found[(row[0], score)] = Change(int(n), before, after, change)
    return found


def deprivation_loaded() -> bool:
    return db.session.scalar(select(PostcodeDeprivation.postcode).limit(1)) is not None
