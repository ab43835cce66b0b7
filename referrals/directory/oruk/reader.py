"""Reading one ORUK object for import: typed values out of it, and MappingError naming
where a value Kindly cannot take was.
"""
from __future__ import annotations

import copy
import math

from referrals.directory.oruk.formats import FORMATS


class MappingError(ValueError):
    """A value Kindly cannot take, with where it was ("schedules[0].opens_at")."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


class _Reader:
    """Reads typed values out of one ORUK object, naming where a bad one was."""

    def __init__(self, data, where: str):
        if not isinstance(data, dict):
            raise MappingError(where, "expected an object")
        self.data, self.where = data, where

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.data.get(key)
        if value is None:
            if required:
                raise MappingError(self.at(key), "is required")
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise MappingError(self.at(key), f"expected text, got {value!r}")
        value = str(value)
        if required and not value.strip():
            raise MappingError(self.at(key), "is required")
        return value

    def id(self, key: str = "id", *, required: bool = True) -> str | None:
        value = self.text(key, required=required).strip()
        return value or None

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise MappingError(self.at(key), f"{value!r} is not a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise MappingError(self.at(key), f"{value!r} is not a number") from None
        if not math.isfinite(number):
            raise MappingError(self.at(key), f"{value!r} is not a number")
        return number

    def whole(self, key: str, *, low: int = 0, high: int = 150) -> int | None:
        number = self.number(key)
        if number is None:
            return None
        if number != int(number) or not low <= number <= high:
            raise MappingError(self.at(key), f"{self.data[key]!r} is not a whole number "
                                             f"from {low} to {high}")
        return int(number)

    def typed(self, key: str, kind: str, extra: dict):
        """Parse a time/date/instant/amount; keep the raw text in `extra` when Kindly
        would write it differently."""
        raw = self.data.get(key)
        if raw is None or raw == "":
            return None
        parse, fmt = FORMATS[kind]
        try:
            value = parse(raw)
        except ValueError as exc:
            raise MappingError(self.at(key), str(exc)) from None
        if fmt(value) != raw:
            extra[key] = raw
        return value

    def items(self, key: str) -> list[tuple[_Reader, dict]]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise MappingError(self.at(key), "expected a list")
        return [(_Reader(item, f"{self.at(key)}[{n}]"), item) for n, item in enumerate(value)]

    def rest(self, handled: frozenset[str]) -> dict:
        return {k: copy.deepcopy(val) for k, val in self.data.items() if k not in handled}
