"""The first-contact deadline counts working days: no weekends, no England & Wales bank holidays."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from referrals.workdays import add_working_days, is_working_day, uk_date


@pytest.mark.parametrize("start, days, due", [
    (date(2026, 11, 23), 0, date(2026, 11, 23)),   # Monday, no target: the same day
    (date(2026, 11, 23), 1, date(2026, 11, 24)),   # Monday + 1 = Tuesday
    (date(2026, 11, 23), 5, date(2026, 11, 30)),   # a week later
    (date(2026, 11, 27), 1, date(2026, 11, 30)),   # Friday + 1 skips the weekend
    (date(2026, 11, 28), 1, date(2026, 11, 30)),   # Saturday + 1 is Monday
    (date(2026, 11, 29), 5, date(2026, 12, 4)),    # Sunday + 5 is Friday
])
def test_working_days_skip_weekends(start, days, due):
    assert add_working_days(start, days) == due


def test_christmas_boxing_day_and_new_year_are_skipped():
    # 2026: Christmas is a Friday, Boxing Day a Saturday (substitute Monday 28th).
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    # Thu 24 Dec + 5: Tue 29, Wed 30, Thu 31, (Fri 1 Jan holiday), Mon 4, Tue 5.
    assert add_working_days(date(2026, 12, 24), 5) == date(2027, 1, 5)


def test_christmas_on_a_weekend_moves_both_holidays_to_the_next_monday_and_tuesday():
    # 2027: Christmas Saturday, Boxing Day Sunday; substitutes Mon 27 and Tue 28.
    assert not is_working_day(date(2027, 12, 27))
    assert not is_working_day(date(2027, 12, 28))
    assert add_working_days(date(2027, 12, 24), 1) == date(2027, 12, 29)


def test_easter_monday_and_good_friday_2027_are_skipped():
    # Good Friday 26 March 2027, Easter Monday 29 March 2027.
    assert add_working_days(date(2027, 3, 25), 1) == date(2027, 3, 30)
    assert add_working_days(date(2027, 3, 24), 3) == date(2027, 3, 31)


def test_early_may_and_late_summer_bank_holidays_are_skipped():
    assert add_working_days(date(2027, 4, 30), 1) == date(2027, 5, 4)
    assert add_working_days(date(2027, 8, 27), 1) == date(2027, 8, 31)


def test_scottish_only_holidays_are_working_days_in_england_and_wales():
    assert is_working_day(date(2027, 1, 4))      # 2 January (substitute) in Scotland
    assert is_working_day(date(2026, 11, 30))    # St Andrew's Day


def test_the_referral_date_is_the_uk_date_not_the_utc_date():
    # 23:30 UTC on 31 May 2027 is already 1 June in British Summer Time.
    assert uk_date(datetime(2027, 5, 31, 23, 30, tzinfo=UTC)) == date(2027, 6, 1)
    assert uk_date(datetime(2027, 12, 31, 23, 30, tzinfo=UTC)) == date(2027, 12, 31)


def test_a_negative_target_is_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2027, 1, 4), -1)
