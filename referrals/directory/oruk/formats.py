"""How single values travel between Kindly's columns and HSDS text, used both ways: times,
dates, instants and amounts parsed from text and written back as text, empty values left
out, unmodelled keys carried over from `extra`, and what counts as free.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation


def _put(out: dict, key: str, value) -> None:
    """Set `key` unless the value is empty: ORUK leaves unknown fields out."""
    if value is not None and value != "":
        out[key] = value


def _clock(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def _instant(value: datetime) -> str:
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{value.microsecond:06d}Z" if value.microsecond else "Z")


def _amount(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$")


def parse_time(raw) -> time:
    match = _TIME.match(raw.strip()) if isinstance(raw, str) else None
    if not match:
        raise ValueError(f"{raw!r} is not a time (HH:MM)")
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def parse_date(raw) -> date:
    if not isinstance(raw, str):
        raise ValueError(f"{raw!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(raw.strip()[:10])
    except ValueError:
        raise ValueError(f"{raw!r} is not a date (YYYY-MM-DD)") from None


def parse_instant(raw) -> datetime:
    if not isinstance(raw, str):
        raise ValueError(f"{raw!r} is not a date-time")
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"{raw!r} is not a date-time (e.g. 2025-01-31T09:00:00Z)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_amount(raw) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ValueError(f"{raw!r} is not a number")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not a number") from None
    if not value.is_finite() or abs(value) >= Decimal("1e8"):
        raise ValueError(f"{raw!r} is not an amount")
    return value.quantize(Decimal("0.01"))


# (parse, format) for the values Kindly stores typed and HSDS writes as text.
FORMATS: dict[str, tuple[Callable, Callable]] = {
    "time": (parse_time, _clock),
    "date": (parse_date, date.isoformat),
    "instant": (parse_instant, _instant),
    "amount": (parse_amount, _amount),
}


def _typed_out(out: dict, extra: Mapping, key: str, value, kind: str) -> None:
    """Kindly's value, written as the source wrote it while that still means the same."""
    if value is None:
        return
    parse, fmt = FORMATS[kind]
    raw = extra.get(key)
    if raw is not None:
        try:
            if parse(raw) == value:
                out[key] = raw
                return
        except ValueError:
            pass
    out[key] = fmt(value)


def _extra_out(extra: Mapping | None, handled: frozenset[str]) -> dict:
    return {k: copy.deepcopy(val) for k, val in (extra or {}).items() if k not in handled}


# --- what counts as free: import sets Offer.is_free by it; export adds no "Free" cost
# option where the fees text already says so.


def says_free(text: str) -> bool:
    words = (text or "").strip().casefold()
    return words.startswith("free") or words in {"no charge", "none", "£0", "0", "nothing"}


def is_free(cost_options: list[dict], fees_description: str) -> bool:
    """Kindly's rule: free when the service has cost options and every one costs nothing
    (amount 0, or no amount and an option that says "Free"); with no cost options, when
    the fees text says so ("Free", "No charge"). Anything unclear is not free, so "free
    only" never shows something that charges."""
    if cost_options:
        return all(o.get("amount") == 0 or (
            o.get("amount") is None and (says_free(o.get("option", ""))
                                         or says_free(o.get("amount_description", ""))))
            for o in cost_options)
    return says_free(fees_description)
