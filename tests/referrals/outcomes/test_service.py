"""Recording outcome measures (the rules) and the change from baseline."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from referrals.errors import CaseworkInvalid, NotPermitted
from referrals.models import AuditEvent, CompletionMode, Measurement, ReferralStatus, Timepoint
from referrals.outcomes.service import outcome_summary, record_measurement
from tests.referrals.outcomes.conftest import LONDON, SWEMWBS_ITEMS, local_today

ONS4 = {"life_satisfaction": 4, "worthwhile": 5, "happy": 3, "anxious": 7}
UCLA = {"lack_companionship": 3, "left_out": 2, "isolated": 3}


def record(referral, actor, code="ons4", *, answers=None, timepoint=Timepoint.BASELINE,
           mode=CompletionMode.ASSISTED, on=None, days_later=0):
    """Record as if `days_later` days from now, completed that day unless `on` is given."""
    now = datetime.now(LONDON) + timedelta(days=days_later)
    return record_measurement(
        referral, code, timepoint=timepoint, mode=mode,
        completed_on=on or now.date(), answers=dict(ONS4 if answers is None else answers),
        actor=actor, now=now)


def errors_of(call) -> dict[str, str]:
    with pytest.raises(CaseworkInvalid) as caught:
        call()
    return caught.value.errors


# --- recording -------------------------------------------------------------------------


def test_a_measurement_stores_answers_scores_version_and_who(db, hub):
    version = hub.referral.version

    measurement = record(hub.referral, hub.connector, mode=CompletionMode.SELF)

    stored = db.session.get(Measurement, measurement.id)
    assert stored.instrument == "ons4" and stored.instrument_version == "1"
    assert stored.answers == ONS4 and list(stored.answers) == list(ONS4)
    assert stored.scores == {"life_satisfaction": 4, "worthwhile": 5, "happiness": 3,
                             "anxiety": 7}
    assert stored.recorded_by == hub.connector and stored.mode is CompletionMode.SELF
    assert stored.completed_on == local_today()
    assert hub.referral.version == version + 1


def test_recording_is_audited(db, hub):
    measurement = record(hub.referral, hub.connector)

    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "record-measurement")).one()
    assert event.entity_id == hub.referral.id and event.patient_id == hub.referral.patient_id
    assert event.detail["measurement_id"] == measurement.id
    assert event.detail["timepoint"] == "baseline"


def test_a_coordinator_may_record_for_the_team(db, hub):
    assert record(hub.referral, hub.coordinator).recorded_by == hub.coordinator


@pytest.mark.parametrize("who", ["colleague", "other_team"])
def test_only_whoever_holds_the_referral_may_record(db, make, hub, who):
    actor = hub.colleague if who == "colleague" else make.user("connector")

    with pytest.raises(NotPermitted):
        record(hub.referral, actor)


def test_nothing_is_recorded_on_a_closed_referral(db, make, hub):
    closed = make.referral(hub.practice, status=ReferralStatus.COMPLETED,
                           connector=hub.connector)

    with pytest.raises(NotPermitted):
        record(closed, hub.connector)


def test_an_unknown_or_unconfigured_instrument_is_refused(db, hub):
    assert "instrument" in errors_of(lambda: record(hub.referral, hub.connector, "nope"))
    message = errors_of(lambda: record(hub.referral, hub.connector, "swemwbs",
                                       answers=dict.fromkeys(SWEMWBS_ITEMS, 3)))["instrument"]
    assert message.startswith("SWEMWBS is not configured")


def test_a_licensed_instrument_is_recorded_once_configured(db, hub, licensed):
    measurement = record(hub.referral, hub.connector, "swemwbs",
                         answers=dict.fromkeys(SWEMWBS_ITEMS, 3))

    assert measurement.scores == {"raw": 21, "metric": 19.25}


def test_every_item_must_be_answered_or_skipped(db, hub):
    errors = errors_of(lambda: record(hub.referral, hub.connector,
                                      answers={"life_satisfaction": 4, "happy": None}))

    assert errors == {"item_worthwhile": "Answer question 2, or select Skipped",
                      "item_anxious": "Answer question 4, or select Skipped"}


@pytest.mark.parametrize("value", [11, -1, 4.5, "7", True])
def test_answers_must_be_whole_numbers_on_the_scale(db, hub, value):
    errors = errors_of(lambda: record(hub.referral, hub.connector,
                                      answers=ONS4 | {"happy": value}))

    assert errors == {"item_happy": "Answer question 3 from 0 to 10, or select Skipped"}


def test_an_item_not_in_the_instrument_is_refused(db, hub):
    errors = errors_of(lambda: record(hub.referral, hub.connector,
                                      answers=ONS4 | {"<script>": 1}))

    assert "is not a question in ONS4" in errors["answers"]


def test_skipped_items_are_stored_as_none_and_leave_their_score_empty(db, hub):
    measurement = record(hub.referral, hub.connector, "ucla3",
                         answers=UCLA | {"left_out": None})

    assert measurement.answers["left_out"] is None
    assert measurement.scores == {"loneliness": None}


def test_at_least_one_item_must_be_answered(db, hub):
    errors = errors_of(lambda: record(hub.referral, hub.connector, "ucla3",
                                      answers=dict.fromkeys(UCLA)))

    assert errors == {"item_lack_companionship":
                      "Answer at least one question: every question was skipped"}


def test_a_second_baseline_is_refused_naming_the_first(db, hub):
    first = record(hub.referral, hub.connector, on=local_today())

    errors = errors_of(lambda: record(hub.referral, hub.connector))

    assert errors == {"timepoint": "A baseline for ONS4 is already recorded on "
                                   f"{first.completed_on.strftime('%-d %b %Y')}"}
    # Another instrument's baseline is its own.
    assert record(hub.referral, hub.connector, "ucla3", answers=UCLA).timepoint is (
        Timepoint.BASELINE)


def test_timepoint_mode_and_date_are_required(db, hub):
    errors = errors_of(lambda: record_measurement(
        hub.referral, "ons4", timepoint=None, mode="by pigeon", completed_on=None,
        answers=ONS4, actor=hub.connector))

    assert set(errors) == {"timepoint", "mode", "completed_on"}


def test_the_date_is_not_in_the_future(db, hub):
    errors = errors_of(lambda: record(hub.referral, hub.connector,
                                      on=local_today() + timedelta(days=1)))

    assert errors == {"completed_on": "The date cannot be in the future"}


def test_the_date_is_not_before_the_referral_was_made(db, hub):
    made = hub.referral.created_at.astimezone(LONDON).date()

    errors = errors_of(lambda: record(hub.referral, hub.connector,
                                      on=made - timedelta(days=1)))

    assert errors == {"completed_on": "The date cannot be before the referral was made "
                                      f"({made.strftime('%-d %b %Y')})"}


def test_a_follow_up_is_not_dated_before_the_baseline(db, hub):
    hub.referral.created_at -= timedelta(days=30)
    record(hub.referral, hub.connector, on=local_today() - timedelta(days=5))

    errors = errors_of(lambda: record(hub.referral, hub.connector,
                                      timepoint=Timepoint.FOLLOW_UP,
                                      on=local_today() - timedelta(days=6)))

    assert "before the baseline" in errors["completed_on"]


# --- change from baseline -------------------------------------------------------------


def test_the_summary_compares_baseline_with_the_latest_later_measurement(db, hub):
    record(hub.referral, hub.connector)
    record(hub.referral, hub.connector, timepoint=Timepoint.FOLLOW_UP, days_later=20,
           answers={"life_satisfaction": 6, "worthwhile": 5, "happy": 2, "anxious": 4})
    record(hub.referral, hub.connector, timepoint=Timepoint.CLOSING, days_later=40,
           answers={"life_satisfaction": 8, "worthwhile": 5, "happy": None, "anxious": 2})

    [ons4] = outcome_summary(hub.referral)

    assert ons4.instrument.code == "ons4"
    assert ons4.baseline_on == local_today()
    assert ons4.latest_on == (datetime.now(LONDON) + timedelta(days=40)).date()
    rows = {row.score_id: row for row in ons4.rows}
    assert (rows["life_satisfaction"].baseline, rows["life_satisfaction"].latest) == (4, 8)
    assert rows["life_satisfaction"].change == 4 and rows["life_satisfaction"].better is True
    assert rows["life_satisfaction"].latest_timepoint is Timepoint.CLOSING
    # Anxiety down from 7 to 2 is better: lower is better.
    assert rows["anxiety"].change == -5 and rows["anxiety"].better is True
    assert rows["worthwhile"].change == 0 and rows["worthwhile"].better is None
    # Happiness was skipped at closing: nothing to compare.
    assert rows["happiness"].latest is None and rows["happiness"].change is None
    assert rows["happiness"].better is None


def test_a_higher_loneliness_score_is_worse(db, hub):
    record(hub.referral, hub.connector, "ucla3", answers={"lack_companionship": 1,
                                                         "left_out": 1, "isolated": 2})
    record(hub.referral, hub.connector, "ucla3", answers=UCLA, timepoint=Timepoint.FOLLOW_UP,
           days_later=10)

    [ucla] = outcome_summary(hub.referral)

    assert (ucla.rows[0].baseline, ucla.rows[0].latest, ucla.rows[0].change) == (4, 8, 4)
    assert ucla.rows[0].better is False


def test_swemwbs_change_uses_the_metric_score_without_float_noise(db, hub, licensed):
    record(hub.referral, hub.connector, "swemwbs", answers=dict.fromkeys(SWEMWBS_ITEMS, 3))
    answers = dict.fromkeys(SWEMWBS_ITEMS, 3) | {"useful": 4}  # raw 22
    record(hub.referral, hub.connector, "swemwbs", answers=answers,
           timepoint=Timepoint.FOLLOW_UP, days_later=30)

    [swemwbs] = outcome_summary(hub.referral)

    rows = {row.score_id: row for row in swemwbs.rows}
    assert rows["raw"].change == 1
    assert rows["metric"].change == 0.73 and rows["metric"].better is True


def test_mycaw_concerns_going_down_are_better(db, hub, licensed):
    record(hub.referral, hub.connector, "mycaw",
           answers={"concern_1": 5, "concern_2": None, "wellbeing": 4})
    record(hub.referral, hub.connector, "mycaw", timepoint=Timepoint.FOLLOW_UP, days_later=30,
           answers={"concern_1": 2, "concern_2": None, "wellbeing": 5})

    [mycaw] = outcome_summary(hub.referral)

    rows = {row.score_id: (row.change, row.better) for row in mycaw.rows}
    assert rows == {"concern_1": (-3, True), "concern_2": (None, None), "wellbeing": (1, False)}


def test_without_a_baseline_there_is_no_summary(db, hub):
    record(hub.referral, hub.connector, timepoint=Timepoint.FOLLOW_UP)

    assert outcome_summary(hub.referral) == []


def test_a_baseline_alone_shows_no_change_yet(db, hub):
    record(hub.referral, hub.connector)

    [ons4] = outcome_summary(hub.referral)

    assert ons4.latest_on is None
    assert all(row.latest is None and row.change is None and row.better is None
               for row in ons4.rows)
