"""The rules a new password must meet, wherever one is set: long enough in real
characters, and not one of the passwords everybody uses."""
from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from referrals.errors import DomainError

MIN_LENGTH = 10
# Hashing cost grows with length, and nobody types more than this.
MAX_LENGTH = 200
COMMON_PASSWORDS = Path(__file__).with_name("data") / "common-passwords.txt"
# Digits, punctuation and symbols stuck on either end of a common password add little:
# "Summer2024!" is guessed straight after "summer".
_PADDING = re.compile(r"^[\W\d_]+|[\W\d_]+$")


class WeakPassword(DomainError):
    """The password breaks a rule; the message says which, fit to show next to the field."""


def real_length(password: str) -> int:
    """Characters as a person counts them: spaces at either end ignored, a run of spaces
    counted once, a letter and its accent (in either Unicode form) counted once."""
    return len(_normalise(password))


def problem(password: str | None) -> str | None:
    """Why `password` may not be used, in words for the person choosing it; None if fine."""
    password = password or ""
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    if real_length(password) < MIN_LENGTH:
        return (f"Password must be {MIN_LENGTH} characters or more, not counting spaces "
                "at the start or end or repeated spaces")
    key = _normalise(password).casefold()
    squeezed = key.replace(" ", "")
    common = common_passwords()
    if key in common or squeezed in common:
        return "This is one of the most common passwords, so it is easy to guess. Choose another"
    if (core := _PADDING.sub("", squeezed)) and core != squeezed and core in common:
        return ("This is a common password with numbers or symbols added, so it is easy to "
                "guess. Choose another")
    return None


def check(password: str | None) -> None:
    """Raise WeakPassword unless `password` meets every rule."""
    if (message := problem(password)) is not None:
        raise WeakPassword(message)


@cache
def common_passwords() -> frozenset[str]:
    """The reject list, case-folded (data/make_common_passwords.py says where it is from)."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _normalise(password: str) -> str:
    return " ".join(unicodedata.normalize("NFC", password).split())
