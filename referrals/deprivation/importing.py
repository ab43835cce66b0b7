"""Loading postcode -> IMD decile from a CSV (`flask --app wsgi import-imd`).

The published IMD is by LSOA; a postcode lookup (the ONS postcode directory joined to the
IMD file) gives each postcode its LSOA's decile. Kindly keeps only that lookup
(PostcodeDeprivation), so a report can count people by decile without guessing.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select

from referrals.extensions import db
from referrals.models import PostcodeDeprivation, utcnow
from referrals.postcode import normalise_postcode

# Accepted headings (compared case-insensitively), first match wins.
POSTCODE_COLUMNS = ("postcode",)
DECILE_COLUMNS = ("imd_decile", "decile")
LSOA_COLUMNS = ("lsoa_code", "lsoa11cd")
LSOA_MAX = 12  # PostcodeDeprivation.lsoa_code


class ImdFileInvalid(ValueError):
    """The file as a whole cannot be read (no usable header)."""


@dataclass
class ImdRow:
    line: int
    postcode: str
    decile: int
    lsoa_code: str


@dataclass
class ImdReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.created} created", f"{self.updated} updated",
                 f"{self.unchanged} unchanged"]
        if self.removed:
            parts.insert(0, f"{self.removed} removed first (--replace)")
        return ", ".join(parts)


def columns(fieldnames: Iterable[str] | None) -> dict[str, str]:
    """{"postcode" | "decile" | "lsoa": the file's own heading}; ImdFileInvalid without a
    postcode and a decile column."""
    found = {(name or "").strip().lstrip("\ufeff").lower(): name for name in fieldnames or ()}
    chosen = {}
    for key, accepted in (("postcode", POSTCODE_COLUMNS), ("decile", DECILE_COLUMNS),
                          ("lsoa", LSOA_COLUMNS)):
        heading = next((found[a] for a in accepted if a in found), None)
        if heading is not None:
            chosen[key] = heading
    if "postcode" not in chosen or "decile" not in chosen:
        raise ImdFileInvalid(
            "needs the columns postcode and imd_decile (or decile), optionally lsoa_code "
            f"(or lsoa11cd); found {', '.join(n for n in fieldnames or () if n) or 'none'}")
    return chosen


def parse(line: int, row: dict, chosen: dict[str, str]) -> ImdRow:
    """One line of the file as a row to store; ValueError says what is wrong with it."""
    raw_postcode = (row.get(chosen["postcode"]) or "").strip()
    postcode = normalise_postcode(raw_postcode)
    if postcode is None:
        raise ValueError(f"{raw_postcode[:20]!r} is not a UK postcode" if raw_postcode
                         else "no postcode")
    raw_decile = (row.get(chosen["decile"]) or "").strip()
    if not (raw_decile.isascii() and raw_decile.isdigit() and 1 <= int(raw_decile) <= 10):
        raise ValueError(f"the decile must be a whole number from 1 to 10, not "
                         f"{raw_decile[:20]!r}" if raw_decile else "no decile")
    lsoa = (row.get(chosen["lsoa"]) or "").strip() if "lsoa" in chosen else ""
    if len(lsoa) > LSOA_MAX:
        raise ValueError(f"the LSOA code {lsoa[:20]!r} is longer than {LSOA_MAX} characters")
    return ImdRow(line, postcode, int(raw_decile), lsoa)


def read(lines: Iterable[str]) -> tuple[Iterator[ImdRow], ImdReport]:
    """The good rows of a CSV (a text stream opened with newline=""), as they are read;
    each bad line goes into the report's problems with its line number, and reading
    goes on. Blank lines, and lines starting with "#", are skipped (also before the
    header). ImdFileInvalid at once if the header lacks the columns."""
    report = ImdReport()
    # A comment becomes an empty line: csv still counts it in line_num.
    reader = csv.reader("\n" if line.lstrip("\ufeff").startswith("#") else line
                        for line in lines)
    header: list[str] = []
    for cells in reader:
        if any(cell.strip() for cell in cells):
            header = cells
            break
    chosen = columns(header)

    def rows() -> Iterator[ImdRow]:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                report.problems.append((reader.line_num, f"not CSV ({exc})"))
                continue
            if not any(cell.strip() for cell in cells):
                continue
            try:
                yield parse(reader.line_num, dict(zip(header, cells)), chosen)
            except ValueError as exc:
                report.problems.append((reader.line_num, str(exc)))

    return rows(), report


def load(rows: Iterable[ImdRow], report: ImdReport, *, replace: bool = False,
         batch: int = 2000, now: datetime | None = None) -> ImdReport:
    """Upsert the rows (a later line for the same postcode wins); with `replace`, every
    stored decile is removed first. Flushes; the caller commits."""
    now = now or utcnow()
    if replace:
        report.removed = db.session.execute(delete(PostcodeDeprivation)).rowcount or 0
    pending: dict[str, ImdRow] = {}

    def apply() -> None:
        stored = {d.postcode: d for d in db.session.scalars(
            select(PostcodeDeprivation).where(PostcodeDeprivation.postcode.in_(list(pending))))}
        for postcode, row in pending.items():
            old = stored.get(postcode)
            if old is None:
                db.session.add(PostcodeDeprivation(postcode=postcode, imd_decile=row.decile,
                                                   lsoa_code=row.lsoa_code, imported_at=now))
                report.created += 1
            elif (old.imd_decile, old.lsoa_code) != (row.decile, row.lsoa_code):
                old.imd_decile, old.lsoa_code, old.imported_at = row.decile, row.lsoa_code, now
                report.updated += 1
            else:
                report.unchanged += 1
        db.session.flush()
        pending.clear()

    for row in rows:
        pending[row.postcode] = row  # a later line for the same postcode replaces it
        if len(pending) >= batch:
            apply()
    if pending:
        apply()
    return report
