"""Recording outcome measures for a referral, and the change each shows from baseline.

Like the casework service: an explicit actor, the referral locked first (a colleague's
measure at the same moment lands too), its own permission (RECORD_MEASURE, the same rule
as recording a contact today), an audit event, the referral's version moved on (the FHIR
Task's output lists the measurements) and a flush; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from referrals import access, audit, revisions
from referrals.access import Action
from referrals.errors import CaseworkInvalid
from referrals.extensions import db
from referrals.models import CompletionMode, Measurement, Referral, Timepoint, User, utcnow
from referrals.outcomes import instruments as registry
from referrals.outcomes.instruments import Instrument
from referrals.outcomes.scoring import score


def answer_field(item_id: str) -> str:
    """The form field (and error key) for one item's answer."""
    return f"item_{item_id}"


def _day(value: date) -> str:
    return value.strftime("%-d %b %Y")


def _local_date(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def record_measurement(
    referral: Referral,
    instrument_code: str,
    *,
    timepoint: Timepoint | None,
    mode: CompletionMode | None,
    completed_on: date | None,
    answers: dict[str, int | None],
    actor: User,
    now: datetime | None = None,
) -> Measurement:
    """Record one completion of an instrument, scored by its definition.

    Guarantees: the instrument exists and is configured; every item is answered within
    the scale or explicitly skipped (None), and at least one is answered; one baseline
    per instrument per referral, and no follow-up or closing dated before it; the date
    is neither in the future nor before the referral was made. Raises CaseworkInvalid
    (errors keyed by form field) or NotPermitted."""
    revisions.begin(referral)
    access.require(actor, Action.RECORD_MEASURE, referral)
    now = now or utcnow()
    try:
        instrument = registry.get(instrument_code)
    except KeyError:
        raise CaseworkInvalid({"instrument": "Choose an outcome measure"}) from None
    if not instrument.configured:
        raise CaseworkInvalid({"instrument": f"{instrument.label} is not configured: its "
                                             "licensed wording has not been provided"})
    timepoint, mode = _member(Timepoint, timepoint), _member(CompletionMode, mode)
    errors = _check_when(referral, instrument, timepoint, completed_on, _local_date(now))
    if mode is None:
        errors["mode"] = "Select how it was completed"
    errors |= _check_answers(instrument, answers)
    if errors:
        raise CaseworkInvalid(errors)
    ordered = {item.id: answers[item.id] for item in instrument.items}
    measurement = Measurement(
        instrument=instrument.code, instrument_version=instrument.version,
        timepoint=timepoint, mode=mode, completed_on=completed_on, answers=ordered,
        scores=score(instrument, ordered), recorded_by=actor, recorded_at=now,
    )
    referral.measurements.append(measurement)  # the collection adds it to the session
    revisions.touch(referral, f"Outcome measure recorded ({instrument.label}, "
                              f"{timepoint.label.lower()})", actor=actor, now=now)
    db.session.flush()
    audit.record_referral("record-measurement", referral, actor=actor,
                          measurement_id=measurement.id, instrument=instrument.code,
                          timepoint=timepoint.value)
    return measurement


def _member(enum_cls, value):
    try:
        return enum_cls(value) if value else None
    except ValueError:
        return None


def _check_when(referral: Referral, instrument: Instrument, timepoint: Timepoint | None,
                completed_on: date | None, today: date) -> dict[str, str]:
    errors = {}
    baseline = _baseline(referral, instrument.code)
    if timepoint is None:
        errors["timepoint"] = "Select baseline, follow-up or closing"
    elif timepoint is Timepoint.BASELINE and baseline is not None:
        errors["timepoint"] = (f"A baseline for {instrument.label} is already recorded on "
                               f"{_day(baseline.completed_on)}")
    if completed_on is None:
        errors["completed_on"] = "Enter the date it was completed"
    elif completed_on > today:
        errors["completed_on"] = "The date cannot be in the future"
    elif completed_on < (made := _local_date(referral.created_at)):
        errors["completed_on"] = (f"The date cannot be before the referral was made "
                                  f"({_day(made)})")
    elif (timepoint in (Timepoint.FOLLOW_UP, Timepoint.CLOSING) and baseline is not None
          and completed_on < baseline.completed_on):
        errors["completed_on"] = (f"The date cannot be before the baseline "
                                  f"({_day(baseline.completed_on)})")
    return errors


def _check_answers(instrument: Instrument, answers: dict) -> dict[str, str]:
    errors = {}
    scale = instrument.scale
    for number, item in enumerate(instrument.items, start=1):
        if item.id not in answers:
            errors[answer_field(item.id)] = f"Answer question {number}, or select Skipped"
        elif answers[item.id] is not None and not scale.contains(answers[item.id]):
            errors[answer_field(item.id)] = (f"Answer question {number} from {scale.min} to "
                                             f"{scale.max}, or select Skipped")
    if unknown := sorted(set(answers) - {item.id for item in instrument.items}, key=str):
        errors["answers"] = f"{unknown[0]!s:.40} is not a question in {instrument.label}"
    if not errors and all(value is None for value in answers.values()):
        errors[answer_field(instrument.items[0].id)] = (
            "Answer at least one question: every question was skipped")
    return errors


def _baseline(referral: Referral, code: str) -> Measurement | None:
    return next((m for m in referral.measurements
                 if m.instrument == code and m.timepoint is Timepoint.BASELINE), None)


# --- change from baseline ------------------------------------------------------------


@dataclass(frozen=True)
class ScoreChange:
    score_id: str
    label: str
    baseline: float | None
    latest: float | None
    latest_timepoint: Timepoint | None
    change: float | None  # latest - baseline
    better: bool | None  # None when there is no change, or nothing to compare
    minimum: float
    maximum: float
    higher_is_better: bool = True


@dataclass(frozen=True)
class InstrumentChange:
    instrument: Instrument
    rows: list[ScoreChange]
    baseline_on: date | None
    latest_on: date | None


def outcome_summary(referral: Referral) -> list[InstrumentChange]:
    """For each instrument with a baseline: baseline against the latest later measurement
    (follow-up or closing), score by score. Uses `referral.measurements`; load them
    eagerly on list pages."""
    summary = []
    for code, instrument in registry.instruments().items():
        baseline = _baseline(referral, code)
        if baseline is None:
            continue
        start = (baseline.completed_on, baseline.id)
        later = [m for m in referral.measurements
                 if m.instrument == code and m.timepoint is not Timepoint.BASELINE
                 and (m.completed_on, m.id) > start]
        latest = max(later, key=lambda m: (m.completed_on, m.id), default=None)
        rows = [_change(rule, baseline, latest) for rule in instrument.scores]
        summary.append(InstrumentChange(instrument, rows, baseline.completed_on,
                                        latest.completed_on if latest else None))
    return summary


def _change(rule, baseline: Measurement, latest: Measurement | None) -> ScoreChange:
    before = baseline.scores.get(rule.id)
    after = latest.scores.get(rule.id) if latest is not None else None
    change = None
    if before is not None and after is not None:
        # Converted scores carry two decimals; keep float noise out of the difference.
        change = round(after - before, 2)
        change = int(change) if float(change).is_integer() else change
    return ScoreChange(
        score_id=rule.id, label=rule.label, baseline=before, latest=after,
        latest_timepoint=latest.timepoint if latest is not None else None, change=change,
        better=None if not change else (change > 0) == rule.higher_is_better,
        minimum=rule.minimum, maximum=rule.maximum, higher_is_better=rule.higher_is_better,
    )
