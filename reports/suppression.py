"""Small-number suppression: what every report page, chart table and PDF may show.

The rules (docs/reports.md explains them for readers):
- a count of 1 to 4 is shown as "<5" (primary suppression); 0 and 5+ are exact;
- where a total is shown, a row or column with exactly one hidden cell hides one more,
  the smallest (non-zero first), shown as "[c]", so the hidden one cannot be worked out
  by subtracting the others from the total (secondary suppression), repeated until no
  row or column has a lone hidden cell;
- a median or mean over fewer than 5 people is not shown;
- a percentage is shown only when neither the count nor the rest of its total is
  hidden.
Every number that is shown is exact: nothing is rounded or perturbed.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass

# The primary rule lives in the domain, so pages outside reports apply the same one.
from referrals.suppression import SMALL, THRESHOLD, is_small

WITHHELD = "[c]"  # secondary: withheld so a small count cannot be worked out
NOT_SHOWN = "not shown (fewer than 5)"


@dataclass(frozen=True)
class Cell:
    """One figure as a report shows it; `value` is kept for charts of unsuppressed data
    but a template prints `text`."""

    value: int | float | None
    text: str
    hidden: bool = False

    def __str__(self) -> str:
        return self.text


def count(n: int) -> Cell:
    """A count on its own (no total beside it to subtract from)."""
    return Cell(n, SMALL, True) if is_small(n) else Cell(n, f"{n:,}")


def statistic(value: float | None, n: int, *, places: int = 1, unit: str = "") -> Cell:
    """A median or mean over `n` people: not shown for fewer than 5."""
    if value is None or n < THRESHOLD:
        return Cell(None, NOT_SHOWN, True)
    text = f"{value:,.{places}f}" if places else f"{round(value):,}"
    return Cell(value, f"{text}{unit}")


def percentage(part: int, whole: int, *, places: int = 0) -> Cell:
    """`part` of `whole` as a percentage, unless either the part or the rest is small
    (either would let the other be worked out)."""
    if whole == 0:
        return Cell(None, "–", True)
    if is_small(part) or is_small(whole - part) or is_small(whole):
        return Cell(None, WITHHELD, True)
    value = 100 * part / whole
    return Cell(value, f"{value:.{places}f}%")


@dataclass(frozen=True)
class Table:
    """A suppressed cross-tabulation: rows × columns of cells, with row and column totals
    and the grand total."""

    rows: tuple[Hashable, ...]
    columns: tuple[Hashable, ...]
    cells: Mapping[tuple[Hashable, Hashable], Cell]
    row_totals: Mapping[Hashable, Cell]
    column_totals: Mapping[Hashable, Cell]
    total: Cell

    def cell(self, row: Hashable, column: Hashable) -> Cell:
        return self.cells[(row, column)]


def table(counts: Mapping[tuple[Hashable, Hashable], int], rows, columns, *,
          totals: bool = True) -> Table:
    """Suppress a table of counts (missing cells count 0). With `totals`, each row and
    column total is shown, so secondary suppression applies along both."""
    rows, columns = tuple(rows), tuple(columns)
    raw = {(r, c): int(counts.get((r, c), 0)) for r in rows for c in columns}
    hidden = {key for key, n in raw.items() if is_small(n)}
    row_sum = {r: sum(raw[(r, c)] for c in columns) for r in rows}
    col_sum = {c: sum(raw[(r, c)] for r in rows) for c in columns}
    if totals:
        lines = [[(r, c) for c in columns] for r in rows if not is_small(row_sum[r])]
        lines += [[(r, c) for r in rows] for c in columns if not is_small(col_sum[c])]
        changed = True
        while changed:
            changed = False
            for line in lines:
                if sum(key in hidden for key in line) == 1:
                    shown = [key for key in line if key not in hidden]
                    if shown:
                        hidden.add(min(shown, key=lambda k: (raw[k] == 0, raw[k])))
                        changed = True
    cells = {key: _cell(raw[key], key in hidden) for key in raw}
    grand = sum(raw.values())
    return Table(rows, columns, cells,
                 {r: count(row_sum[r]) for r in rows},
                 {c: count(col_sum[c]) for c in columns},
                 count(grand))


def _cell(n: int, hidden: bool) -> Cell:
    if not hidden:
        return Cell(n, f"{n:,}")
    return Cell(n, SMALL if is_small(n) else WITHHELD, True)


def column(counts: Mapping[Hashable, int], keys, *, total: bool = True) -> dict:
    """A one-column breakdown (e.g. referrals by urgency) with its total: the same
    secondary rule as a table's column. Returns key -> Cell, plus "total" when asked."""
    result = table({(k, "n"): n for k, n in counts.items()}, keys, ("n",), totals=total)
    out = {k: result.cell(k, "n") for k in result.rows}
    if total:
        out["total"] = result.total
    return out
