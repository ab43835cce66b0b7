"""Row-level CSV exports: one row per referral received in a period, for the people a
report scope covers.

Pseudonymised by default: each row carries a keyed hash of the referral id (stable
within this install, meaningless outside it), never the KND reference, the NHS number,
a name, a postcode or a date of birth. `identifiable=True` adds the person's name, NHS
number, date of birth and postcode; the view lets only access.may_export_identifiable
users ask, and audits the referral ids each such export holds. No free text is ever
written (referrals.sharing: words about a person stay behind sign-in).

Row-level exports go to authorised people and are not suppressed (docs/reports.md).
Rows are written in chunks of ids, each chunk read in its own short transaction, so a
70k-row export neither builds one big string nor holds SQLite's write lock.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import Select, func, select

from referrals import database
from referrals.extensions import db
from referrals.models import (
    Connection,
    ConnectionStatus,
    Contact,
    Measurement,
    Patient,
    PostcodeDeprivation,
    Practice,
    Referral,
    ReferralReason,
    Timepoint,
)
from referrals.outcomes.instruments import instruments
from referrals.scopes import Period, Scope
from referrals.workdays import uk_date
from reports.period_sql import AGE_BANDS

CHUNK = 500
# A cell a spreadsheet would read as a formula (OWASP "CSV injection") gets a leading
# apostrophe; tab and carriage return start formulas in some spreadsheets too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Ten-year bands from 25, as the ONS and NHS Digital publish them; under-18s together.
AFTER_BASELINE = (Timepoint.FOLLOW_UP, Timepoint.CLOSING)

COLUMNS = ("pseudonym", "practice_ods", "received_on", "source", "urgency", "reasons",
           "status", "first_contact_days", "contacts", "connections_made",
           "connections_attended", "age_band", "sex", "ethnic_category", "imd_decile")
IDENTIFIABLE_COLUMNS = ("given_name", "family_name", "nhs_number", "birth_date", "postcode")


# --- pieces each row is made of -----------------------------------------------------


def pseudonym(referral_id: int) -> str:
    """A keyed hash of the referral id: the same referral always gets the same pseudonym
    in this install (so exports can be joined), and nobody without the SECRET_KEY can
    turn it back into a referral."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"kindly-referral:{referral_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:20]


def age_band(birth_date: date | None, on: date) -> str:
    """The age band of someone born on `birth_date`, on the day `on`."""
    if birth_date is None:
        return ""
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    # The report's own bands, so a row and the report's table always agree.
    return next(label for label, start in reversed(AGE_BANDS) if age >= start)


def safe_cell(value) -> str | int | float:
    """A cell as written: text that a spreadsheet would run as a formula is defused;
    numbers (a negative change of score included) are written as numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def measure_columns() -> list[tuple[str, str, str]]:
    """(instrument, score, column name) for every score of every instrument loaded,
    configured or not, so the columns do not change when a licence is added."""
    return [(code, rule.id, f"{code}_{rule.id}_change")
            for code, instrument in instruments().items() for rule in instrument.scores]


def baseline_and_latest(rows: Iterable[Measurement]) -> dict[tuple[str, str], tuple]:
    """(instrument, score) -> (the first baseline score, the latest follow-up or closing
    score), either None when there is none; `rows` ordered by completed_on, id."""
    firsts: dict[tuple[str, str], float | None] = {}
    lasts: dict[tuple[str, str], float | None] = {}
    for m in rows:
        for score, value in (m.scores or {}).items():
            key = (m.instrument, score)
            if m.timepoint in AFTER_BASELINE:
                lasts[key] = value
            elif m.timepoint is Timepoint.BASELINE:
                firsts.setdefault(key, value)
    return {key: (firsts.get(key), lasts.get(key)) for key in firsts.keys() | lasts.keys()}


def change(before: float | None, after: float | None) -> float | None:
    """The change from baseline, when both scores exist."""
    if before is None or after is None:
        return None
    return round(after - before, 2)


def measure_changes(rows: Iterable[Measurement]) -> dict[tuple[str, str], float | None]:
    """Change from baseline per (instrument, score)."""
    return {key: change(*pair) for key, pair in baseline_and_latest(rows).items()}


# --- which referrals, and their rows ------------------------------------------------


def received_in(scope: Scope, period: Period) -> Select:
    """Ids of the scope's referrals received in the period, in id order."""
    return (select(Referral.id)
            .where(scope.referrals(), Referral.created_at >= period.starts_at,
                   Referral.created_at < period.ends_before)
            .order_by(Referral.id))


def referral_ids(scope: Scope, period: Period) -> list[int]:
    return list(db.session.scalars(received_in(scope, period)))


def _row_query(ids: Sequence[int]) -> Select:
    def count(model, *where):
        return (select(func.count(model.id)).where(model.referral_id == Referral.id, *where)
                .scalar_subquery())

    return (
        select(Referral.id, Practice.ods_code, Referral.created_at, Referral.source,
               Referral.urgency, Referral.status, Referral.first_contact_at,
               Patient.birth_date, Patient.sex, Patient.ethnic_category,
               PostcodeDeprivation.imd_decile,
               count(Contact).label("contacts"),
               count(Connection).label("made"),
               count(Connection, Connection.status == ConnectionStatus.ATTENDED)
               .label("attended"),
               Patient.given_name, Patient.family_name, Patient.nhs_number, Patient.postcode)
        .join(Patient, Referral.patient_id == Patient.id)
        .join(Practice, Referral.practice_id == Practice.id)
        .outerjoin(PostcodeDeprivation, PostcodeDeprivation.postcode == Patient.postcode)
        .where(Referral.id.in_(ids))
        .order_by(Referral.id)
    )


@dataclass(frozen=True)
class Export:
    """What one export writes: its columns, and whether they identify people."""

    identifiable: bool
    measures: list[tuple[str, str, str]]

    @property
    def header(self) -> list[str]:
        return [*COLUMNS, *(name for _, _, name in self.measures),
                *(IDENTIFIABLE_COLUMNS if self.identifiable else ())]

    def rows(self, ids: Sequence[int]) -> Iterator[list]:
        for start in range(0, len(ids), CHUNK):
            with database.read_only(db.session):  # ended before the rows go out
                rows = self._chunk(ids[start:start + CHUNK])
            yield from rows

    def _chunk(self, ids: Sequence[int]) -> list[list]:
        reasons: dict[int, list[str]] = defaultdict(list)
        for referral_id, code in db.session.execute(
                select(ReferralReason.referral_id, ReferralReason.code)
                .where(ReferralReason.referral_id.in_(ids)).order_by(ReferralReason.id)):
            reasons[referral_id].append(code)
        measurements: dict[int, list[Measurement]] = defaultdict(list)
        for m in db.session.scalars(select(Measurement).where(Measurement.referral_id.in_(ids))
                                    .order_by(Measurement.completed_on, Measurement.id)):
            measurements[m.referral_id].append(m)
        out = []
        for row in db.session.execute(_row_query(ids)):
            received = uk_date(row.created_at)
            first_days = ((uk_date(row.first_contact_at) - received).days
                          if row.first_contact_at is not None else None)
            changes = measure_changes(measurements[row.id])
            cells = [pseudonym(row.id), row.ods_code, received.isoformat(), row.source,
                     row.urgency.value, ";".join(reasons[row.id]), row.status.value,
                     first_days, row.contacts, row.made, row.attended,
                     age_band(row.birth_date, received), row.sex.value, row.ethnic_category,
                     row.imd_decile]
            cells += [changes.get((code, score)) for code, score, _ in self.measures]
            if self.identifiable:
                cells += [row.given_name, row.family_name, row.nhs_number or "",
                          row.birth_date.isoformat() if row.birth_date else "", row.postcode]
            out.append(cells)
        return out


def csv_lines(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """The CSV text, a line at a time, every cell through safe_cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    yield _take(buffer)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def referral_csv(scope: Scope, period: Period, *, identifiable: bool
                 ) -> tuple[list[int], Iterator[str]]:
    """The referrals the export holds (for the audit), and its CSV text as it streams."""
    ids = referral_ids(scope, period)
    export = Export(identifiable=identifiable, measures=measure_columns())
    return ids, csv_lines(export.header, export.rows(ids))
