"""Answers to the outcome instruments for generated people: a baseline as people referred
for loneliness tend to answer, and a follow-up a little better on average (some worse).
Scores come from the instrument's own definition (referrals.outcomes.scoring), so a
generated measure scores exactly as one a connector recorded."""
from __future__ import annotations

import random

from referrals.outcomes import instruments as registry
from referrals.outcomes.scoring import score

# Only instruments with shipped wording can be recorded without a licence file.
INSTRUMENT_MIX = (("ons4",), ("ucla3",), ("ons4", "ucla3"))
INSTRUMENT_WEIGHTS = (55, 25, 20)
SKIPPED = 0.02  # a person now and then skips a question; that score is then None

# ONS4 baselines well below the national means (about 7.5 for the first three): the
# people referred are struggling. The mean and spread of each item, and its change.
ONS4 = {"life_satisfaction": (4.6, 2.0, 1.0), "worthwhile": (5.2, 2.1, 0.8),
        "happy": (4.7, 2.3, 1.0), "anxious": (5.9, 2.6, -0.9)}


def choose_instruments(rng: random.Random) -> tuple[str, ...]:
    return rng.choices(INSTRUMENT_MIX, INSTRUMENT_WEIGHTS)[0]


def baseline(code: str, rng: random.Random) -> dict[str, int | None]:
    if code == "ons4":
        answers = {item: _clamp(rng.gauss(mean, sd), 0, 10)
                   for item, (mean, sd, _) in ONS4.items()}
    else:  # ucla3: 1 hardly ever, 2 some of the time, 3 often lonely
        answers = {item: rng.choices([1, 2, 3], [15, 40, 45])[0]
                   for item in ("lack_companionship", "left_out", "isolated")}
    return _skip_some(answers, rng)


def follow_up(code: str, before: dict[str, int | None], rng: random.Random
              ) -> dict[str, int | None]:
    if code == "ons4":
        answers = {item: None if before[item] is None else
                   _clamp(before[item] + rng.gauss(change, 1.8), 0, 10)
                   for item, (_, _, change) in ONS4.items()}
    else:
        answers = {item: None if value is None else
                   _clamp(value + rng.choices([-1, 0, 1], [32, 60, 8])[0], 1, 3)
                   for item, value in before.items()}
    return answers


def scores(code: str, answers: dict[str, int | None]) -> tuple[str, dict]:
    """The instrument's version and the answers' scores (needs the app: the registry)."""
    instrument = registry.get(code)
    return instrument.version, score(instrument, answers)


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _skip_some(answers: dict[str, int | None], rng: random.Random) -> dict[str, int | None]:
    if rng.random() < SKIPPED:
        answers[rng.choice(list(answers))] = None
    return answers
