"""Unmet needs, for the hub and its funders (issue 13 point 8): the needs no offer could
meet, by category and neighbourhood; the offers that answered "no capacity"; and the
people still waiting past the first-contact target. In the hub report and its PDF, and
on the coordinators' /reports/unmet-needs page; suppressed like every count.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from referrals.directory.vocabulary import CATEGORY_BY_CODE
from referrals.extensions import db
from referrals.models import (
    Connection,
    ConnectionEvent,
    ConnectionStatus,
    Offer,
    Practice,
    Referral,
    UnmetNeed,
    UnmetReason,
)
from referrals.scopes import Period, Scope
from reports import period_sql as q
from reports import suppression
from reports.charts import Chart, bar_chart
from reports.suppression import Cell

MOST_OFFERS = 20  # the offers most often full; the rest are summed in one line


@dataclass(frozen=True)
class UnmetNeeds:
    recorded: Cell
    districts: tuple[str, ...]
    # (category label, cells by district, the category's total)
    by_category: tuple[tuple[str, tuple[Cell, ...], Cell], ...]
    district_totals: tuple[Cell, ...]
    by_reason: tuple[tuple[str, Cell], ...]
    still_unmet: Cell
    no_capacity: tuple[tuple[str, Cell], ...]  # offer name, times in the period
    no_capacity_total: Cell
    waiting: Cell
    waiting_by_practice: tuple[tuple[str, Cell], ...]
    chart: Chart | None = None


def build(scope: Scope, period: Period) -> UnmetNeeds:
    in_period = and_(scope.referrals(), UnmetNeed.recorded_at >= period.starts_at,
                     UnmetNeed.recorded_at < period.ends_before)
    needs = select(UnmetNeed).join(Referral, Referral.id == UnmetNeed.referral_id)
    district = func.coalesce(func.nullif(UnmetNeed.postcode_district, ""), "Not known")
    grid = {(cat, dist): n for cat, dist, n in db.session.execute(
        needs.with_only_columns(UnmetNeed.category, district, func.count())
        .where(in_period).group_by(UnmetNeed.category, district)).all()}
    categories = sorted({cat for cat, _ in grid},
                        key=lambda c: (c not in CATEGORY_BY_CODE, _category(c)))
    districts = tuple(sorted({dist for _, dist in grid}))
    table = suppression.table(grid, categories, districts)
    reasons = {getattr(r, "value", r): n for r, n in db.session.execute(
        needs.with_only_columns(UnmetNeed.reason, func.count()).where(in_period)
        .group_by(UnmetNeed.reason)).all()}
    reason_cells = suppression.column(reasons, [r.value for r in UnmetReason])
    still = db.session.scalar(needs.with_only_columns(func.count()).where(
        in_period, or_(UnmetNeed.met_at.is_(None), UnmetNeed.met_at >= period.ends_before)))
    offers, offers_total = _no_capacity(scope, period)
    waiting, by_practice = _waiting(scope, period)
    by_category = tuple(
        (_category(cat), tuple(table.cell(cat, d) for d in districts), table.row_totals[cat])
        for cat in categories)
    return UnmetNeeds(
        recorded=table.total, districts=districts, by_category=by_category,
        district_totals=tuple(table.column_totals[d] for d in districts),
        by_reason=tuple((r.label, reason_cells[r.value]) for r in UnmetReason),
        still_unmet=suppression.count(still or 0), no_capacity=offers,
        no_capacity_total=offers_total, waiting=waiting, waiting_by_practice=by_practice,
        chart=bar_chart("Unmet needs, by category",
                        [(label, total) for label, _, total in by_category])
        if by_category else None)


def _category(code: str) -> str:
    category = CATEGORY_BY_CODE.get(code)
    return category.name if category else code


def _no_capacity(scope: Scope, period: Period):
    """Offers that answered "no capacity" in the period, most often first."""
    times = func.count(ConnectionEvent.id)
    rows = db.session.execute(
        select(Offer.name, times)
        .join(Connection, Connection.offer_id == Offer.id)
        .join(ConnectionEvent, ConnectionEvent.connection_id == Connection.id)
        .join(Referral, Referral.id == Connection.referral_id)
        .where(scope.referrals(), ConnectionEvent.to_status == ConnectionStatus.NO_CAPACITY,
               ConnectionEvent.at >= period.starts_at, ConnectionEvent.at < period.ends_before)
        .group_by(Offer.id, Offer.name).order_by(times.desc(), Offer.name)).all()
    shown = [(name, suppression.count(n)) for name, n in rows[:MOST_OFFERS]]
    rest = sum(n for _, n in rows[MOST_OFFERS:])
    if rest:
        shown.append((f"{len(rows) - MOST_OFFERS} other offers", suppression.count(rest)))
    return tuple(shown), suppression.count(sum(n for _, n in rows))


def _waiting(scope: Scope, period: Period):
    """People whose referral was open at the end of the period with no first contact by
    then, and whose first-contact target day had passed."""
    status = q.status_at_end(period)
    waiting = and_(scope.referrals(), Referral.created_at < period.ends_before,
                   status.in_(q.OPEN), Referral.first_contact_due <= period.end,
                   or_(Referral.first_contact_at.is_(None),
                       Referral.first_contact_at >= period.ends_before))
    found = {name: n for name, n in db.session.execute(
        select(Practice.name, func.count(Referral.id))
        .join(Practice, Practice.id == Referral.practice_id)
        .where(waiting).group_by(Practice.name)).all()}
    names = sorted(found)
    cells = suppression.column(found, names)
    return cells["total"], tuple((name, cells[name]) for name in names)
