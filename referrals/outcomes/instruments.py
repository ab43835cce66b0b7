"""Outcome instruments as data: one JSON definition per instrument.

The built-in definitions live beside this module (referrals/outcomes/instruments/*.json).
Licensed instruments (SWEMWBS, MYCaW) ship their scoring but not their wording, so they
are not `configured`; an organisation holding a licence lists its own file in
OUTCOME_INSTRUMENT_FILES, which either lays its wording over the shipped scoring (same
code, items with text) or is a complete definition. The format is described in
instruments/README.md. Definitions are checked when the app starts, so a bad file stops
the app with the file and field named instead of failing a connector's request later.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from flask import Flask, current_app

BUILT_IN_DIR = Path(__file__).resolve().parent / "instruments"
EXTENSION = "kindly_instruments"
# Codes go in URLs and in Measurement.instrument (40 characters); item ids in form names.
_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_ITEM_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

_COMPLETE_KEYS = {"code", "name", "version", "intro", "items", "scale", "scores", "licence",
                  "source", "wording_shipped"}
_OPTIONAL_KEYS = {"short_name", "notes"}
# What a licensed organisation's file may lay over a shipped definition.
_OVERLAY_KEYS = {"code", "version", "name", "short_name", "intro", "items", "scale", "licence",
                 "source", "notes"}
_RULE_KEYS = {"id", "label", "items", "reverse_items", "higher_is_better", "conversion",
              "minimum", "maximum"}


class InstrumentError(ValueError):
    """A definition file is not valid; the message names the file and the field."""

    def __init__(self, source: str, field: str, problem: str):
        self.source, self.field, self.problem = source, field, problem
        super().__init__(f"{source}: {field}: {problem}" if field else f"{source}: {problem}")


@dataclass(frozen=True)
class Item:
    id: str
    text: str  # "" when the wording is not shipped


@dataclass(frozen=True)
class Scale:
    min: int
    max: int
    labels: tuple[tuple[int, str], ...]

    def contains(self, value) -> bool:
        return (isinstance(value, int) and not isinstance(value, bool)
                and self.min <= value <= self.max)


@dataclass(frozen=True)
class ScoreRule:
    id: str
    label: str
    items: tuple[str, ...]
    reverse_items: tuple[str, ...]
    higher_is_better: bool
    conversion: dict[int, float] | None
    minimum: float
    maximum: float


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    version: str
    intro: str
    items: tuple[Item, ...]
    scale: Scale
    scores: tuple[ScoreRule, ...]
    licence: str
    source: str
    configured: bool
    short_name: str = ""
    wording_shipped: bool = True

    @property
    def label(self) -> str:
        """The short name people use: "ONS4", "SWEMWBS"."""
        return self.short_name or self.code.upper()

    def item(self, item_id: str) -> Item:
        return next(item for item in self.items if item.id == item_id)


# --- the app's instruments ---------------------------------------------------------


def instruments() -> dict[str, Instrument]:
    """The current app's instruments by code, in the order they were loaded."""
    return instruments_for(current_app)


def get(code: str) -> Instrument:
    """The instrument with this code; KeyError if there is none."""
    return instruments()[code]


def instruments_for(app: Flask) -> dict[str, Instrument]:
    """Load (once per app) the built-in definitions and the configured files.

    Raises RuntimeError naming the file and field when a definition is not valid."""
    loaded = app.extensions.get(EXTENSION)
    if loaded is None:
        paths = [_resolve(app, path) for path in _configured_files(app)]
        try:
            loaded = load_definitions(paths)
        except InstrumentError as exc:
            raise RuntimeError(f"Outcome instrument definition not valid: {exc}") from None
        app.extensions[EXTENSION] = loaded
    return loaded


def _configured_files(app: Flask) -> list[str]:
    files = app.config.get("OUTCOME_INSTRUMENT_FILES") or []
    # KINDLY_OUTCOME_INSTRUMENT_FILES=/etc/kindly/swemwbs.json arrives as one string.
    return [files] if isinstance(files, (str, Path)) else list(files)


def _resolve(app: Flask, path) -> Path:
    """Relative paths are taken from the instance folder, where local config lives."""
    path = Path(path)
    return path if path.is_absolute() else Path(app.instance_path) / path


# --- loading and checking definitions -----------------------------------------------


def load_definitions(extra_files: Iterable[Path] = ()) -> dict[str, Instrument]:
    """The built-in definitions, then each extra file laid over them or added."""
    built_in: dict[str, Instrument] = {}
    for path in sorted(BUILT_IN_DIR.glob("*.json")):
        data = _read(path)
        instrument = parse_definition(data, _name(path))
        if instrument.code in built_in:
            raise InstrumentError(_name(path), "code", f"{instrument.code!r} is defined twice")
        built_in[instrument.code] = instrument
    # Those with their wording first (ONS4, UCLA-3), then the licensed ones.
    found = dict(sorted(built_in.items(), key=lambda pair: (not pair[1].wording_shipped,
                                                            pair[0])))
    overlaid: set[str] = set()
    for path in extra_files:
        source = str(path)
        data = _read(Path(path))
        code = data.get("code")
        if not isinstance(code, str):
            raise InstrumentError(source, "code", "must be text")
        if code in overlaid:
            raise InstrumentError(source, "code", f"{code!r} is already given by another file")
        if code in found and "scores" not in data:
            found[code] = apply_wording(found[code], data, source)
        else:
            found[code] = parse_definition(data, source)
        overlaid.add(code)
    return found


def _name(path: Path) -> str:
    try:
        return str(path.relative_to(BUILT_IN_DIR.parent.parent.parent))
    except ValueError:
        return str(path)


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InstrumentError(str(path), "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InstrumentError(str(path), "", f"cannot be read ({exc})") from None
    except ValueError as exc:
        raise InstrumentError(str(path), "", f"is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InstrumentError(str(path), "", "must hold one JSON object")
    return data


def parse_definition(data: dict, source: str) -> Instrument:
    """Check a complete definition and build its Instrument."""
    check = _Checker(source)
    if not isinstance(data, dict):
        check.fail("", "must hold one JSON object")
    missing = sorted(_COMPLETE_KEYS - data.keys())
    if missing:
        check.fail(missing[0], "is missing")
    check.no_unknown(data, _COMPLETE_KEYS | _OPTIONAL_KEYS, "")
    code = check.text(data, "code", pattern=_CODE,
                      explain="lower-case letters, digits and hyphens, at most 40")
    wording_shipped = check.flag(data, "wording_shipped")
    items = check.items(data.get("items"), wording_shipped)
    scale = check.scale(data.get("scale"), "scale")
    scores = check.rules(data.get("scores"), {item.id for item in items}, scale)
    return Instrument(
        code=code,
        name=check.text(data, "name"),
        short_name=check.text(data, "short_name", required=False),
        version=check.text(data, "version", max_length=20),
        intro=check.text(data, "intro", required=False),
        items=items,
        scale=scale,
        scores=scores,
        licence=check.text(data, "licence"),
        source=check.text(data, "source"),
        wording_shipped=wording_shipped,
        configured=wording_shipped,
    )


def apply_wording(shipped: Instrument, data: dict, source: str) -> Instrument:
    """Lay a licensed organisation's wording over a shipped definition's scoring."""
    check = _Checker(source)
    check.no_unknown(data, _OVERLAY_KEYS, "")
    if "version" in data and data["version"] != shipped.version:
        check.fail("version", f"is {data['version']!r} but the shipped scoring is version "
                              f"{shipped.version!r}; give a complete definition instead")
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        check.fail("items", "must be a list giving the text of every item")
    texts: dict[str, str] = {}
    for index, raw in enumerate(raw_items):
        where = f"items[{index}]"
        if not isinstance(raw, dict):
            check.fail(where, "must be an object with id and text")
        check.no_unknown(raw, {"id", "text"}, where)
        item_id = raw.get("id")
        if item_id not in {item.id for item in shipped.items}:
            check.fail(f"{where}.id", f"{item_id!r} is not an item of {shipped.code}")
        if item_id in texts:
            check.fail(f"{where}.id", f"{item_id!r} is given twice")
        texts[item_id] = check.text(raw, "text", where=f"{where}.text")
    if missing := [item.id for item in shipped.items if item.id not in texts]:
        check.fail("items", f"no text for {', '.join(missing)}")
    labels = shipped.scale.labels
    if "scale" in data:
        scale = data["scale"]
        if not isinstance(scale, dict) or set(scale) != {"labels"}:
            check.fail("scale", "may only give labels (the scoring stays as shipped)")
        labels = check.labels(scale["labels"], shipped.scale.min, shipped.scale.max,
                              "scale.labels")
    return replace(
        shipped,
        name=check.text(data, "name", required=False) or shipped.name,
        short_name=check.text(data, "short_name", required=False) or shipped.short_name,
        intro=check.text(data, "intro", required=False) or shipped.intro,
        items=tuple(Item(item.id, texts[item.id]) for item in shipped.items),
        scale=replace(shipped.scale, labels=labels),
        licence=check.text(data, "licence", required=False) or shipped.licence,
        source=check.text(data, "source", required=False) or shipped.source,
        configured=True,
    )


class _Checker:
    """Field checks that fail with the file's name and the field's path."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, field: str, problem: str):
        raise InstrumentError(self.source, field, problem)

    def no_unknown(self, data: dict, allowed: set[str], where: str) -> None:
        if unknown := sorted(set(data) - allowed):
            self.fail(f"{where}.{unknown[0]}" if where else unknown[0], "is not a known field")

    def text(self, data: dict, key: str, *, required=True, pattern=None, explain="",
             max_length=500, where="") -> str:
        where = where or key
        value = data.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.fail(where, "must be text")
        value = value.strip()
        if required and not value:
            self.fail(where, "must not be empty")
        if key not in ("intro", "licence", "source") and len(value) > max_length:
            self.fail(where, f"must be {max_length} characters or fewer")
        if pattern is not None and not pattern.match(value):
            self.fail(where, f"{value!r} is not allowed: {explain}")
        return value

    def flag(self, data: dict, key: str) -> bool:
        if not isinstance(data.get(key), bool):
            self.fail(key, "must be true or false")
        return data[key]

    def items(self, raw, wording_shipped: bool) -> tuple[Item, ...]:
        if not isinstance(raw, list) or not raw:
            self.fail("items", "must be a non-empty list")
        items, seen = [], set()
        for index, entry in enumerate(raw):
            where = f"items[{index}]"
            if not isinstance(entry, dict):
                self.fail(where, "must be an object with id (and text)")
            self.no_unknown(entry, {"id", "text"}, where)
            item_id = self.text(entry, "id", pattern=_ITEM_ID, where=f"{where}.id",
                                explain="lower-case letters, digits and _, starting with a letter")
            if item_id in seen:
                self.fail(f"{where}.id", f"{item_id!r} is given twice")
            seen.add(item_id)
            text = self.text(entry, "text", required=wording_shipped, where=f"{where}.text")
            if text and not wording_shipped:
                # A file that says it ships no wording must not carry any: licensed text
                # kept out of the repository stays out.
                self.fail(f"{where}.text", "must be left out when wording_shipped is false")
            items.append(Item(item_id, text))
        return tuple(items)

    def scale(self, raw, where: str) -> Scale:
        if not isinstance(raw, dict):
            self.fail(where, "must be an object with min, max and labels")
        self.no_unknown(raw, {"min", "max", "labels"}, where)
        low, high = raw.get("min"), raw.get("max")
        for key, value in (("min", low), ("max", high)):
            if not _is_int(value):
                self.fail(f"{where}.{key}", "must be a whole number")
        if not low < high or high - low > 20:
            self.fail(where, "min must be below max, and the scale at most 21 points")
        return Scale(low, high, self.labels(raw.get("labels"), low, high, f"{where}.labels"))

    def labels(self, raw, low: int, high: int, where: str) -> tuple[tuple[int, str], ...]:
        expected = list(range(low, high + 1))
        if (not isinstance(raw, list)
                or not all(isinstance(pair, list) and len(pair) == 2 for pair in raw)
                or [pair[0] for pair in raw] != expected
                or not all(_is_int(pair[0]) for pair in raw)):
            self.fail(where, f"must list [value, label] for each of {low} to {high}, in order")
        if not all(isinstance(pair[1], str) and pair[1].strip() for pair in raw):
            self.fail(where, "every label must be non-empty text")
        return tuple((value, label.strip()) for value, label in raw)

    def rules(self, raw, item_ids: set[str], scale: Scale) -> tuple[ScoreRule, ...]:
        if not isinstance(raw, list) or not raw:
            self.fail("scores", "must be a non-empty list")
        rules, seen = [], set()
        for index, entry in enumerate(raw):
            where = f"scores[{index}]"
            if not isinstance(entry, dict):
                self.fail(where, "must be an object")
            self.no_unknown(entry, _RULE_KEYS, where)
            if missing := sorted(_RULE_KEYS - entry.keys()):
                self.fail(f"{where}.{missing[0]}", "is missing")
            rule_id = self.text(entry, "id", pattern=_ITEM_ID, where=f"{where}.id",
                                explain="lower-case letters, digits and _, starting with a letter")
            if rule_id in seen:
                self.fail(f"{where}.id", f"{rule_id!r} is given twice")
            seen.add(rule_id)
            rules.append(self.rule(entry, where, rule_id, item_ids, scale))
        return tuple(rules)

    def rule(self, entry: dict, where: str, rule_id: str, item_ids: set[str],
             scale: Scale) -> ScoreRule:
        items = entry["items"]
        if (not isinstance(items, list) or not items
                or not all(isinstance(i, str) for i in items) or len(set(items)) != len(items)):
            self.fail(f"{where}.items", "must be a non-empty list of distinct item ids")
        if unknown := [i for i in items if i not in item_ids]:
            self.fail(f"{where}.items", f"{unknown[0]!r} is not an item")
        reverse = entry["reverse_items"]
        if not isinstance(reverse, list) or not all(i in items for i in reverse):
            self.fail(f"{where}.reverse_items", "must list only items of this score")
        if not isinstance(entry["higher_is_better"], bool):
            self.fail(f"{where}.higher_is_better", "must be true or false")
        low, high = len(items) * scale.min, len(items) * scale.max
        conversion = self.conversion(entry["conversion"], low, high, f"{where}.conversion")
        if conversion is not None:
            low, high = min(conversion.values()), max(conversion.values())
        for key, expected in (("minimum", low), ("maximum", high)):
            value = entry[key]
            if not _is_number(value) or not math.isclose(value, expected):
                self.fail(f"{where}.{key}", f"must be {expected} (from the items and scale)")
        return ScoreRule(
            id=rule_id, label=self.text(entry, "label", where=f"{where}.label"),
            items=tuple(items), reverse_items=tuple(reverse),
            higher_is_better=entry["higher_is_better"], conversion=conversion,
            minimum=entry["minimum"], maximum=entry["maximum"],
        )

    def conversion(self, raw, low: int, high: int, where: str) -> dict[int, float] | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.fail(where, "must be null or an object of raw score -> converted score")
        table = {}
        for key, value in raw.items():
            if not re.fullmatch(r"-?\d{1,4}", key) or not _is_number(value):
                self.fail(where, f"entry {key!r}: {value!r} is not a whole raw score and a number")
            table[int(key)] = float(value)
        if sorted(table) != list(range(low, high + 1)):
            self.fail(where, f"must give every raw score from {low} to {high}")
        return table


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))
