"""Scoring an instrument's answers by its definition's rules: no instrument is special."""
from __future__ import annotations

from referrals.outcomes.instruments import Instrument, ScoreRule


def score(instrument: Instrument, answers: dict[str, int | None]) -> dict[str, float | None]:
    """Each score rule's value: the sum of its items (reverse items counted as
    max + min - value), converted through the rule's table when it has one.

    A score is None when any of its items was skipped (None or absent), so a partly
    answered scale is never reported as if complete. Raises ValueError for an answer
    outside the scale: callers check answers first (service.record_measurement)."""
    for item_id, value in answers.items():
        if value is not None and not instrument.scale.contains(value):
            raise ValueError(f"{instrument.code} {item_id}: {value!r} is not on the scale")
    return {rule.id: _score_rule(rule, instrument, answers) for rule in instrument.scores}


def _score_rule(rule: ScoreRule, instrument: Instrument, answers) -> float | None:
    values = [answers.get(item_id) for item_id in rule.items]
    if any(value is None for value in values):
        return None
    low, high = instrument.scale.min, instrument.scale.max
    raw = sum(high + low - value if item_id in rule.reverse_items else value
              for item_id, value in zip(rule.items, values, strict=True))
    if rule.conversion is None:
        return raw
    if raw not in rule.conversion:
        raise ValueError(f"{instrument.code} {rule.id}: raw score {raw} is not in the table")
    return rule.conversion[raw]
