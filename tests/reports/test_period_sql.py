"""UK calendar days in SQL: `uk_date` agrees with zoneinfo on both databases, around
every change of the clocks from 2000 to 2040, and `day_number` counts days."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import literal, select

from referrals.models.base import UTCDateTime
from referrals.scopes import UK
from reports.period_sql import day_number, uk_date


def clock_changes(year: int) -> list[datetime]:
    """The instants the UK clocks change in `year`, found by zoneinfo."""
    changes, moment = [], datetime(year, 1, 1, tzinfo=UTC)
    while moment.year == year:
        later = moment + timedelta(hours=1)
        if later.astimezone(UK).utcoffset() != moment.astimezone(UK).utcoffset():
            changes.append(later)
        moment = later
    return changes


def test_uk_date_matches_zoneinfo_around_every_clock_change(db):
    moments = []
    for year in range(2000, 2041):
        for change in clock_changes(year):
            moments += [change + timedelta(minutes=m) for m in (-61, -1, 0, 59, 61)]
        # Late evenings, when UTC and UK dates differ in summer only.
        moments += [datetime(year, month, 15, 23, 30, tzinfo=UTC) for month in (1, 7)]
    for chunk in range(0, len(moments), 100):
        batch = moments[chunk:chunk + 100]
        found = db.session.execute(select(*[
            uk_date(literal(moment, UTCDateTime())) for moment in batch])).one()
        expected = tuple(moment.astimezone(UK).date() for moment in batch)
        assert tuple(_as_date(value) for value in found) == expected


def test_day_number_counts_days_from_1970(db):
    days = [date(1970, 1, 1), date(2024, 2, 29), date(2026, 3, 29)]
    found = db.session.execute(select(*[day_number(literal(day)) for day in days])).one()
    assert list(found) == [(day - date(1970, 1, 1)).days for day in days]


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
