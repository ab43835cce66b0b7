"""NHS number parsing: 10 digits with a Modulus 11 check digit."""
from __future__ import annotations

import re

from referrals.errors import InvalidNhsNumber

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_SEPARATORS = re.compile(r"[\s-]+")


def check_digit(first_nine: str) -> int | None:
    """The Modulus 11 check digit for nine digits, or None when no number can be valid."""
    remainder = sum(int(d) * w for d, w in zip(first_nine, _WEIGHTS, strict=True)) % 11
    check = 11 - remainder
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise(raw: str) -> str:
    """Return the 10 digits of `raw`, or raise InvalidNhsNumber saying what is wrong.

    Spaces and hyphens are accepted between digits, as people type them.
    """
    value = _SEPARATORS.sub("", (raw or "").strip())
    if not value:
        raise InvalidNhsNumber("Enter the person's NHS number")
    if not value.isdigit() or not value.isascii():
        raise InvalidNhsNumber("NHS number must contain only numbers, spaces and hyphens")
    if len(value) != 10:
        raise InvalidNhsNumber(f"NHS number must be 10 digits; you entered {len(value)}")
    expected = check_digit(value[:9])
    if expected is None or expected != int(value[9]):
        raise InvalidNhsNumber(
            "This is not a valid NHS number: its check digit does not match. "
            "Check each digit and enter it again"
        )
    return value


def is_valid(raw: str) -> bool:
    try:
        normalise(raw)
    except InvalidNhsNumber:
        return False
    return True


def format_nhs_number(value: str) -> str:
    """Show 10 digits as 3-3-4: 999 123 4560."""
    digits = _SEPARATORS.sub("", value or "")
    # Anything else (a half-typed or mistyped value) is shown exactly as given.
    if len(digits) != 10 or not (digits.isdigit() and digits.isascii()):
        return value
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
