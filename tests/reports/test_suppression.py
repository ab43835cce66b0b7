"""Small-number suppression: primary, secondary, statistics and percentages."""
from __future__ import annotations

from reports import suppression as sup


def texts(table):
    return {key: cell.text for key, cell in table.cells.items()}


def test_counts_of_one_to_four_are_shown_as_under_five_and_the_rest_exactly():
    assert [sup.count(n).text for n in (0, 1, 4, 5, 1234)] == ["0", "<5", "<5", "5", "1,234"]
    assert sup.count(3).hidden and not sup.count(5).hidden


def test_a_lone_small_cell_in_a_row_with_a_total_takes_the_next_smallest_with_it():
    t = sup.table({("r", "a"): 3, ("r", "b"): 7, ("r", "c"): 20}, ["r"], ["a", "b", "c"])
    assert texts(t) == {("r", "a"): "<5", ("r", "b"): "[c]", ("r", "c"): "20"}
    assert t.row_totals["r"].text == "30"
    # Nothing hidden can be worked out: two unknowns, one equation.


def test_secondary_suppression_prefers_a_non_zero_cell_and_spreads_across_columns():
    counts = {("x", "a"): 2, ("x", "b"): 0, ("x", "c"): 9, ("x", "d"): 30,
              ("y", "a"): 10, ("y", "b"): 12, ("y", "c"): 11, ("y", "d"): 40}
    t = sup.table(counts, ["x", "y"], ["a", "b", "c", "d"])
    hidden = {key for key, cell in t.cells.items() if cell.hidden}
    # Row x: 2 is small, 9 (not the 0) goes with it. Column a then has one hidden cell
    # (x,a) beside y's 10, so (y,a) goes too, and column c likewise (y,c); row y then
    # has two hidden cells and is safe.
    assert hidden == {("x", "a"), ("x", "c"), ("y", "a"), ("y", "c")}
    for line in ([(r, c) for c in t.columns] for r in t.rows):
        assert sum(key in hidden for key in line) != 1
    for line in ([(r, c) for r in t.rows] for c in t.columns):
        assert sum(key in hidden for key in line) != 1


def test_without_totals_only_small_cells_are_hidden():
    t = sup.table({("r", "a"): 3, ("r", "b"): 7}, ["r"], ["a", "b"], totals=False)
    assert texts(t) == {("r", "a"): "<5", ("r", "b"): "7"}


def test_a_column_with_its_total():
    cells = sup.column({"routine": 40, "urgent": 2}, ["routine", "urgent"])
    assert {k: c.text for k, c in cells.items()} == {"routine": "[c]", "urgent": "<5",
                                                     "total": "42"}


def test_medians_and_means_need_five_people():
    assert sup.statistic(3.25, 4).text == sup.NOT_SHOWN
    assert sup.statistic(3.25, 5).text == "3.2"  # Python rounds half to even: exact enough
    assert sup.statistic(3.0, 5, places=0, unit=" days").text == "3 days"
    assert sup.statistic(None, 50).hidden


def test_a_percentage_hides_when_its_part_or_the_rest_is_small():
    assert sup.percentage(19, 40).text == "48%"
    assert sup.percentage(3, 40).text == sup.WITHHELD
    assert sup.percentage(38, 40).text == sup.WITHHELD  # 2 missed target: small
    assert sup.percentage(0, 0).hidden
