"""Scoring each instrument against worked examples: the definition's rules, no special cases."""
from __future__ import annotations

import json

import pytest

from referrals.outcomes.instruments import load_definitions
from referrals.outcomes.scoring import score
from tests.referrals.outcomes.conftest import SWEMWBS_ITEMS

DEFINITIONS = load_definitions()
ONS4, UCLA3 = DEFINITIONS["ons4"], DEFINITIONS["ucla3"]
SWEMWBS, MYCAW = DEFINITIONS["swemwbs"], DEFINITIONS["mycaw"]


def test_ons4_reports_each_item_as_given_with_no_total():
    answers = {"life_satisfaction": 7, "worthwhile": 8, "happy": 6, "anxious": 3}

    assert score(ONS4, answers) == {"life_satisfaction": 7, "worthwhile": 8, "happiness": 6,
                                    "anxiety": 3}


def test_ons4_flags_anxiety_as_the_one_where_lower_is_better():
    direction = {rule.id: rule.higher_is_better for rule in ONS4.scores}

    assert direction == {"life_satisfaction": True, "worthwhile": True, "happiness": True,
                         "anxiety": False}
    assert all(len(rule.items) == 1 and not rule.reverse_items for rule in ONS4.scores)


def test_ons4_scores_the_answered_items_when_one_is_skipped():
    answers = {"life_satisfaction": 0, "worthwhile": None, "happy": 10, "anxious": 10}

    assert score(ONS4, answers) == {"life_satisfaction": 0, "worthwhile": None,
                                    "happiness": 10, "anxiety": 10}


@pytest.mark.parametrize("answers, total", [
    ((1, 2, 3), 6), ((1, 1, 1), 3), ((3, 3, 3), 9), ((2, 2, 3), 7)])
def test_ucla3_sums_its_three_items_from_3_to_9(answers, total):
    items = dict(zip(["lack_companionship", "left_out", "isolated"], answers, strict=True))

    assert score(UCLA3, items) == {"loneliness": total}
    assert UCLA3.scores[0].higher_is_better is False  # higher is lonelier


def test_ucla3_has_no_total_when_an_item_is_skipped():
    assert score(UCLA3, {"lack_companionship": 3, "left_out": None, "isolated": 3}) == {
        "loneliness": None}


def swemwbs(*values):
    return dict(zip(SWEMWBS_ITEMS, values, strict=True))


@pytest.mark.parametrize("answers, raw, metric", [
    ((1, 1, 1, 1, 1, 1, 1), 7, 7.00),
    ((3, 3, 3, 3, 3, 3, 3), 21, 19.25),
    ((5, 5, 5, 5, 5, 5, 5), 35, 35.00),
    ((4, 4, 4, 3, 4, 4, 3), 26, 23.21),
    ((2, 1, 1, 1, 1, 1, 1), 8, 9.51),
])
def test_swemwbs_sums_seven_items_then_converts_with_the_warwick_table(answers, raw, metric):
    assert score(SWEMWBS, swemwbs(*answers)) == {"raw": raw, "metric": metric}


def test_swemwbs_table_covers_every_raw_score_and_rises():
    table = next(rule for rule in SWEMWBS.scores if rule.id == "metric").conversion

    assert sorted(table) == list(range(7, 36))
    assert [table[raw] for raw in range(7, 36)] == sorted(table.values())


def test_swemwbs_is_not_scored_when_an_item_is_skipped():
    assert score(SWEMWBS, swemwbs(3, 3, 3, None, 3, 3, 3)) == {"raw": None, "metric": None}


def test_mycaw_reports_each_concern_and_wellbeing_separately_lower_better():
    answers = {"concern_1": 5, "concern_2": None, "wellbeing": 4}

    assert score(MYCAW, answers) == {"concern_1": 5, "concern_2": None, "wellbeing": 4}
    assert not any(rule.higher_is_better for rule in MYCAW.scores)


def test_reverse_items_count_from_the_other_end_of_the_scale(tmp_path):
    definition = {
        "code": "reversed", "name": "Reversed", "version": "1", "intro": "",
        "items": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
        "scale": {"min": 0, "max": 4, "labels": [[v, str(v)] for v in range(5)]},
        "scores": [{"id": "total", "label": "Total", "items": ["a", "b"],
                    "reverse_items": ["b"], "higher_is_better": True, "conversion": None,
                    "minimum": 0, "maximum": 8}],
        "licence": "Test", "source": "Test", "wording_shipped": True}
    path = tmp_path / "reversed.json"
    path.write_text(json.dumps(definition))
    instrument = load_definitions([path])["reversed"]

    # b = 1 counts as 4 + 0 - 1 = 3.
    assert score(instrument, {"a": 2, "b": 1}) == {"total": 5}


def test_an_answer_off_the_scale_is_refused_not_scored():
    with pytest.raises(ValueError):
        score(UCLA3, {"lack_companionship": 4, "left_out": 1, "isolated": 1})
    with pytest.raises(ValueError):
        score(ONS4, {"life_satisfaction": True, "worthwhile": 1, "happy": 1, "anxious": 1})
