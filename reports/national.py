"""What practices report nationally: the SNOMED CT counts per practice per month, and the
PRSB social prescribing minimum dataset fields Kindly holds, one row per referral.

The counts follow the outcome letter's own rule (reports.codes.codes_for), so a practice
that codes from its letters and one that copies these counts agree:
- 871731000000106 "took up the referral": the referral reached in progress (the connector
  reached the person and work began; "accepted" onto a caseload is not enough), counted
  in the month it first did, unless the person has since declined;
- 871711000000103 "declined": the referral closed as declined, counted in that month.

Months are UK calendar months; the bounds are computed here and compared in SQL with a
CASE, so the GROUP BY is the same on SQLite and PostgreSQL. Not suppressed: the counts go
to authorised people (docs/reports.md), as the national returns need them exact.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select, union

from referrals import database
from referrals.extensions import db
from referrals.models import (
    OPEN_STATUSES,
    Connection,
    ConnectionKind,
    ConnectionStatus,
    Measurement,
    Offer,
    OfferAttribute,
    Patient,
    Practice,
    Referral,
    ReferralEvent,
    ReferralReason,
    ReferralStatus,
    TaxonomyTerm,
    UnmetNeed,
)
from referrals.scopes import Period, Scope
from reports import exports
from reports.codes import REFERRAL_TO_SOCIAL_PRESCRIBING, SOCIAL_PRESCRIBING_DECLINED, codes_for
from reports.exports import Export

_DAY = timedelta(days=1)
TOOK_UP = REFERRAL_TO_SOCIAL_PRESCRIBING
DECLINED = SOCIAL_PRESCRIBING_DECLINED


# --- SNOMED counts per practice per month -------------------------------------------


def months(period: Period) -> list[Period]:
    """The calendar months the period touches, each cut to the period."""
    found, start = [], period.start
    while start <= period.end:
        next_month = start.replace(day=1, month=start.month % 12 + 1,
                                   year=start.year + (start.month == 12))
        found.append(Period(start, min(period.end, next_month - _DAY)))
        start = next_month
    return found


@dataclass(frozen=True)
class CountRow:
    ods_code: str
    practice: str
    month: Period
    took_up: int
    declined: int

    @property
    def month_label(self) -> str:
        """"April 2026", or the days counted when the period cuts the month."""
        whole = self.month.start.day == 1 and (self.month.end + _DAY).day == 1
        return f"{self.month.start:%B %Y}" if whole else self.month.label


def _first_event(status: ReferralStatus):
    return (select(ReferralEvent.referral_id, func.min(ReferralEvent.at).label("at"))
            .where(ReferralEvent.kind == "status", ReferralEvent.to_status == status)
            .group_by(ReferralEvent.referral_id).subquery())


def _counts_by_month(event, status_rule, scope: Scope, buckets: list[Period]) -> dict:
    month = case(*((event.c.at < bucket.ends_before, i) for i, bucket in enumerate(buckets)),
                 else_=None).label("month")
    rows = db.session.execute(
        select(Referral.practice_id, month, func.count(Referral.id))
        .join(event, event.c.referral_id == Referral.id)
        .where(scope.referrals(), status_rule, event.c.at >= buckets[0].starts_at,
               event.c.at < buckets[-1].ends_before)
        .group_by(Referral.practice_id, month))
    return {(practice_id, index): n for practice_id, index, n in rows}


def national_counts(scope: Scope, period: Period) -> list[CountRow]:
    """One row per practice of the scope per month of the period, zeros included."""
    buckets = months(period)
    # As codes_for: a declined referral is coded declined even if it had been taken up.
    took_up = _counts_by_month(_first_event(ReferralStatus.IN_PROGRESS),
                               Referral.status != ReferralStatus.DECLINED, scope, buckets)
    declined = _counts_by_month(_first_event(ReferralStatus.DECLINED),
                                Referral.status == ReferralStatus.DECLINED, scope, buckets)
    practices = db.session.execute(
        select(Practice.id, Practice.ods_code, Practice.name)
        .where(Practice.id.in_(_practice_ids(scope)))
        .order_by(Practice.ods_code)).all()
    return [CountRow(p.ods_code, p.name, bucket, took_up.get((p.id, i), 0),
                     declined.get((p.id, i), 0))
            for p in practices for i, bucket in enumerate(buckets)]


def _practice_ids(scope: Scope):
    """The scope's practices, and any other whose referrals a hub holds (a referral
    routed to the team from a practice it does not usually serve still counts)."""
    return union(select(Practice.id).where(Practice.id.in_(scope.practice_ids)),
                 select(Referral.practice_id).where(scope.referrals()))


COUNT_COLUMNS = ("practice_ods", "practice", "month", "snomed_code", "snomed_display", "count")


def counts_csv(rows: Sequence[CountRow]) -> Iterator[str]:
    """The counts as CSV: one line per practice, month and code (the shape GP systems and
    returns take)."""
    lines = [[row.ods_code, row.practice, f"{row.month.start:%Y-%m}", code.code, code.display,
              n]
             for row in rows for code, n in ((TOOK_UP, row.took_up), (DECLINED, row.declined))]
    return exports.csv_lines(COUNT_COLUMNS, lines)


# --- the PRSB minimum dataset, one row per referral -----------------------------------

DATASET_COLUMNS = (
    # Demographics (pseudonymised: an age band, never the date of birth).
    "pseudonym", "practice_ods", "age_band", "sex", "ethnic_category", "imd_decile",
    "communication_needs",
    # Referral details and needs.
    "referral_date", "referral_method", "urgency", "needs", "unmet_needs",
    # Support offered.
    "signposts", "referrals_to_services", "support_offered", "connections_attended",
    # Actions.
    "contacts", "first_contact_days", "snomed_code",
    # Outcomes.
    "status", "closed_on",
)


class Dataset(Export):
    """The minimum dataset: Export's rows regrouped under the PRSB's four headings, with
    the support offered (each connection's kind, offer categories and status), unmet
    needs, and baseline and latest score per instrument."""

    @property
    def header(self) -> list[str]:
        measures = [f"{code}_{score}_{when}" for code, score, _ in self.measures
                    for when in ("baseline", "latest", "change")]
        return [*DATASET_COLUMNS, *measures,
                *(exports.IDENTIFIABLE_COLUMNS if self.identifiable else ())]

    def rows(self, ids: Sequence[int]) -> Iterator[list]:
        for start in range(0, len(ids), exports.CHUNK):
            with database.read_only(db.session):  # ended before the rows go out
                rows = self._dataset_chunk(ids[start:start + exports.CHUNK])
            yield from rows

    def _dataset_chunk(self, ids: Sequence[int]) -> list[list]:
        facts = _Facts.load(ids)
        out = []
        for row in db.session.execute(exports._row_query(ids)):
            received = exports.uk_date(row.created_at)
            first_days = ((exports.uk_date(row.first_contact_at) - received).days
                          if row.first_contact_at is not None else None)
            codes, _ = codes_for(row.status, engaged=row.id in facts.engaged)
            offered = facts.connections[row.id]
            cells = [
                exports.pseudonym(row.id), row.ods_code,
                exports.age_band(row.birth_date, received), row.sex.value,
                row.ethnic_category, row.imd_decile, ";".join(facts.needs_codes[row.id]),
                received.isoformat(), row.source, row.urgency.value,
                ";".join(facts.reasons[row.id]), ";".join(facts.unmet[row.id]),
                sum(c.kind is ConnectionKind.SIGNPOST for c in offered),
                sum(c.kind is ConnectionKind.REFERRAL for c in offered),
                ";".join(c.code for c in offered), row.attended,
                row.contacts, first_days, ";".join(code.code for code in codes),
                row.status.value,
                facts.closed[row.id].isoformat() if row.id in facts.closed else "",
            ]
            scores = facts.scores(row.id)
            for code, score, _ in self.measures:
                before, after = scores.get((code, score), (None, None))
                cells += [before, after, exports.change(before, after)]
            if self.identifiable:
                cells += [row.given_name, row.family_name, row.nhs_number or "",
                          row.birth_date.isoformat() if row.birth_date else "", row.postcode]
            out.append(cells)
        return out


@dataclass(frozen=True)
class _Offered:
    kind: ConnectionKind
    code: str  # "referral:walking-groups+exercise:attended"


@dataclass
class _Facts:
    """Everything a chunk of referrals needs beyond their own row, in a few queries."""

    reasons: dict[int, list[str]]
    needs_codes: dict[int, list[str]]
    unmet: dict[int, list[str]]
    connections: dict[int, list[_Offered]]
    engaged: set[int]
    closed: dict[int, date]
    measurements: dict[int, list[Measurement]]

    @classmethod
    def load(cls, ids: Sequence[int]) -> _Facts:
        reasons, needs, unmet = defaultdict(list), defaultdict(list), defaultdict(list)
        for referral_id, code in db.session.execute(
                select(ReferralReason.referral_id, ReferralReason.code)
                .where(ReferralReason.referral_id.in_(ids)).order_by(ReferralReason.id)):
            reasons[referral_id].append(code)
        for referral_id, codes in db.session.execute(
                select(Referral.id, Patient.communication_needs)
                .join(Patient, Referral.patient_id == Patient.id).where(Referral.id.in_(ids))):
            needs[referral_id] = list(codes or [])
        for referral_id, category, reason in db.session.execute(
                select(UnmetNeed.referral_id, UnmetNeed.category, UnmetNeed.reason)
                .where(UnmetNeed.referral_id.in_(ids)).order_by(UnmetNeed.id)):
            unmet[referral_id].append(f"{category}:{reason.value}")
        categories: dict[int, list[str]] = defaultdict(list)
        shape: dict[int, tuple[int, ConnectionKind, ConnectionStatus]] = {}
        for row in db.session.execute(
                select(Connection.id, Connection.referral_id, Connection.kind,
                       Connection.status, TaxonomyTerm.code)
                .join(Offer, Connection.offer_id == Offer.id)
                .outerjoin(OfferAttribute, OfferAttribute.offer_id == Offer.id)
                .outerjoin(TaxonomyTerm, OfferAttribute.taxonomy_term_id == TaxonomyTerm.id)
                .where(Connection.referral_id.in_(ids))
                .order_by(Connection.created_at, Connection.id, TaxonomyTerm.code)):
            shape[row.id] = (row.referral_id, row.kind, row.status)
            if row.code:
                categories[row.id].append(row.code)
        connections = defaultdict(list)
        for connection_id, (referral_id, kind, status) in shape.items():
            code = f"{kind.value}:{'+'.join(categories[connection_id])}:{status.value}"
            connections[referral_id].append(_Offered(kind, code))
        engaged = set(db.session.scalars(
            select(ReferralEvent.referral_id)
            .where(ReferralEvent.referral_id.in_(ids), ReferralEvent.kind == "status",
                   ReferralEvent.to_status == ReferralStatus.IN_PROGRESS)))
        closed = {referral_id: exports.uk_date(at) for referral_id, at in db.session.execute(
            select(ReferralEvent.referral_id, func.max(ReferralEvent.at))
            .join(Referral, ReferralEvent.referral_id == Referral.id)
            .where(ReferralEvent.referral_id.in_(ids), ReferralEvent.kind == "status",
                   ReferralEvent.to_status == Referral.status,
                   Referral.status.not_in(tuple(OPEN_STATUSES)))
            .group_by(ReferralEvent.referral_id))}
        measurements = defaultdict(list)
        for m in db.session.scalars(select(Measurement).where(Measurement.referral_id.in_(ids))
                                    .order_by(Measurement.completed_on, Measurement.id)):
            measurements[m.referral_id].append(m)
        return cls(reasons, needs, unmet, connections, engaged, closed, measurements)

    def scores(self, referral_id: int) -> dict[tuple[str, str], tuple]:
        return exports.baseline_and_latest(self.measurements[referral_id])


def dataset_csv(scope: Scope, period: Period, *, identifiable: bool
                ) -> tuple[list[int], Iterator[str]]:
    """The referrals the dataset holds (for the audit), and its CSV as it streams."""
    ids = exports.referral_ids(scope, period)
    dataset = Dataset(identifiable=identifiable, measures=exports.measure_columns())
    return ids, exports.csv_lines(dataset.header, dataset.rows(ids))
