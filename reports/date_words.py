"""Dates as a letter writes them (NHS.UK style: "4 March 2026", never "04/03/2026" or
"4 Mar"), and two dates as one range that repeats only what differs."""
from __future__ import annotations

from datetime import date


def long_date(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def date_range(start: date, end: date) -> str:
    """"4 to 19 March 2026", "28 February to 3 March 2026", "30 December 2025 to
    2 January 2026", or one date when both are the same day. Given the wrong way round,
    the earlier date still comes first."""
    start, end = min(start, end), max(start, end)
    if start == end:
        return long_date(start)
    if start.year != end.year:
        return f"{long_date(start)} to {long_date(end)}"
    if start.month != end.month:
        return f"{start.day} {start:%B} to {long_date(end)}"
    return f"{start.day} to {long_date(end)}"

