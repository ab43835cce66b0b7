"""Working days in England and Wales: weekdays that are not bank holidays.

The bank holidays come from the maintained `holidays` package (England's calendar,
which England and Wales share), including the substitute days given when a holiday
falls at a weekend, so nobody has to keep a hand-typed list up to date.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

UK = ZoneInfo("Europe/London")


@lru_cache(maxsize=32)
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays (with substitute days) in `year`."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (which itself never counts).

    A referral on a Friday with a target of 1 working day is due the next Monday
    (or Tuesday, when Monday is a bank holiday). Zero days means the start date.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    remaining = days
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def uk_date(moment: datetime) -> date:
    """The calendar date in the UK at `moment` (an aware UTC datetime)."""
    return moment.astimezone(UK).date()
