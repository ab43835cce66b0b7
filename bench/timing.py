"""Timing, percentiles, SQL statement counts, progress on the command line, and the printed
table."""
from __future__ import annotations

import gc
import math
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from sqlalchemy import event


@dataclass
class Timings:
    """Seconds per run, summarised in milliseconds."""

    runs: int
    median_ms: float
    p95_ms: float
    p99_ms: float
    min_ms: float
    max_ms: float
    total_s: float

    @classmethod
    def of(cls, seconds: list[float]) -> Timings:
        ordered = sorted(seconds)

        def ms(value: float) -> float:
            return round(value * 1000, 3)

        return cls(
            runs=len(ordered),
            median_ms=ms(percentile(ordered, 50)),
            p95_ms=ms(percentile(ordered, 95)),
            p99_ms=ms(percentile(ordered, 99)),
            min_ms=ms(ordered[0]),
            max_ms=ms(ordered[-1]),
            total_s=round(sum(ordered), 3),
        )

    def as_dict(self) -> dict:
        return asdict(self)


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list (p50 of [a, b] is a)."""
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def ratio(value: float, floor: float) -> float:
    return round(value / floor, 2) if floor else float("inf")


def timed_pair(subject: Callable[[], object], floor: Callable[[], object], *, runs: int,
               warmup: int, label: str) -> tuple[list[float], list[float]]:
    """Time `subject` and `floor` alternately, so drift (CPU frequency, GC) hits both alike."""
    for _ in range(warmup):
        subject()
        floor()
    gc.collect()
    subject_times, floor_times = [], []
    progress = Progress(label, runs)
    clock = time.perf_counter
    for i in range(runs):
        start = clock()
        floor()
        middle = clock()
        subject()
        end = clock()
        floor_times.append(middle - start)
        subject_times.append(end - middle)
        progress.update(i + 1)
    progress.done()
    return subject_times, floor_times


@contextmanager
def counting_statements(engine):
    """Count the SQL statements sent while inside (to spot per-row queries)."""
    seen = [0]

    def count(*_args, **_kwargs):
        seen[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


class Progress:
    """`label  n/total` on stderr: redrawn in place on a terminal, every 10% otherwise."""

    def __init__(self, label: str, total: int):
        self.label, self.total = label, total
        self.tty = sys.stderr.isatty()
        self.started = time.perf_counter()
        self.last_tenth = -1

    def update(self, done: int) -> None:
        if self.tty:
            if done == self.total or done % max(1, self.total // 200) == 0:
                sys.stderr.write(f"\r  {self.label}  {done}/{self.total}")
                sys.stderr.flush()
            return
        tenth = done * 10 // self.total
        if tenth != self.last_tenth:
            self.last_tenth = tenth
            sys.stderr.write(f"  {self.label}  {done}/{self.total}\n")

    def done(self) -> None:
        elapsed = time.perf_counter() - self.started
        end = "\n" if self.tty else ""
        sys.stderr.write(f"{end}  {self.label}: done in {elapsed:.1f} s\n")
        sys.stderr.flush()


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """A plain text table, columns padded to their widest cell; numbers align right."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]

    def line(cells):
        out = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            text = str(cell)
            numeric = i > 0 and text[:1].isdigit()
            out.append(text.rjust(width) if numeric else text.ljust(width))
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])
