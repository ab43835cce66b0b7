"""What a report covers: a period of UK calendar days and a scope (one practice, a PCN,
or a hub team). Every report, export and benchmark builds its queries from these two, so
"which referrals count" is decided once.

Who may ask for which scope is a permission rule: referrals.access.report_scope. It
lives in the domain because access decides it; reports/ builds the figures.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, false

from referrals.models import Referral

UK = ZoneInfo("Europe/London")
# Long enough for a three-year trend, short enough that nobody asks for a century.
MAX_PERIOD_DAYS = 5 * 366


class ScopeKind(StrEnum):
    PRACTICE = "practice"
    PCN = "pcn"
    HUB = "hub"


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    label: str  # "Kindlebury Surgery", "Kindlebury PCN", "Kindlebury Hub"
    practice_ids: tuple[int, ...] = ()
    team_id: int | None = None  # the hub's team

    def referrals(self) -> ColumnElement[bool]:
        """The WHERE clause that picks this scope's referrals."""
        if self.kind is ScopeKind.HUB:
            return Referral.team_id == self.team_id if self.team_id is not None else false()
        return Referral.practice_id.in_(self.practice_ids) if self.practice_ids else false()


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both UK calendar days and both included."""

    start: date
    end: date

    @property
    def starts_at(self) -> datetime:
        """Midnight UK time at the start, as the aware UTC instant stored times compare to."""
        return datetime.combine(self.start, time(), UK).astimezone(UTC)

    @property
    def ends_before(self) -> datetime:
        """Midnight UK time after the last day (exclusive upper bound)."""
        return datetime.combine(self.end + timedelta(days=1), time(), UK).astimezone(UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.start == self.end:
            return f"{self.start:%-d %B %Y}"
        if self.start.year == self.end.year:
            return f"{self.start:%-d %B} to {self.end:%-d %B %Y}"
        return f"{self.start:%-d %B %Y} to {self.end:%-d %B %Y}"

    @classmethod
    def previous_month(cls, today: date) -> Period:
        end = today.replace(day=1) - timedelta(days=1)
        return cls(end.replace(day=1), end)

    @classmethod
    def last_quarter(cls, today: date) -> Period:
        """The last complete calendar quarter before `today` (Jan-Mar, Apr-Jun, ...)."""
        first_month = 3 * ((today.month - 1) // 3) + 1
        end = today.replace(month=first_month, day=1) - timedelta(days=1)
        return cls(end.replace(month=end.month - 2, day=1), end)


def parse_period(raw_from: str | None, raw_to: str | None, *,
                 today: date) -> tuple[Period | None, dict[str, str]]:
    """The period asked for as `?from=YYYY-MM-DD&to=YYYY-MM-DD`, or the errors to show
    next to each field (keyed "from" and "to"). Neither given: the last quarter."""
    if not raw_from and not raw_to:
        return Period.last_quarter(today), {}
    errors: dict[str, str] = {}
    start = _day(raw_from, "from", "start", errors)
    end = _day(raw_to, "to", "end", errors)
    if start and end:
        if end < start:
            errors["to"] = "The end date must be the same as or after the start date"
        elif (end - start).days >= MAX_PERIOD_DAYS:
            errors["to"] = "A report can cover at most five years"
        elif start > today:
            errors["from"] = "The start date must be today or in the past"
    if errors:
        return None, errors
    return Period(start, end), {}


def _day(raw: str | None, field: str, word: str, errors: dict[str, str]) -> date | None:
    if not raw:
        errors[field] = f"Enter the {word} date"
        return None
    try:
        if not (raw.isascii() and len(raw) == 10):
            raise ValueError
        value = date.fromisoformat(raw)
    except ValueError:
        errors[field] = f"Enter the {word} date as a real date, for example 2026-04-01"
        return None
    if value.year < 2000:
        errors[field] = f"The {word} date must be in 2000 or later"
        return None
    return value
