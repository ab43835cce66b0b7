"""The referral state machine, checked against the diagram in DESIGN.md.

The expected moves are written out here from the diagram, not read from
workflow.TRANSITIONS, so a wrong table in the code cannot pass its own test:

    received ──> accepted ──> in_progress ──> completed
       │            │             │
       │            ├────────────>├──> declined           (the person said no)
       │            │             └──> unable_to_contact  (after N attempts)
       ├──> rejected   (not suitable for the service; reason required)
       └──> cancelled  (withdrawn by the referrer)

The arrow from `accepted` joins in_progress's branch, so an accepted referral may also
end declined or unable_to_contact without being started.
"""
from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from referrals import workflow
from referrals.errors import IllegalTransition, ReasonRequired
from referrals.models import ReferralEvent, ReferralStatus, Role

STATUSES = [
    "received", "accepted", "in_progress", "completed",
    "declined", "unable_to_contact", "rejected", "cancelled",
]
ALLOWED = {
    ("received", "accepted"),
    ("received", "rejected"),
    ("received", "cancelled"),
    ("accepted", "in_progress"),
    ("accepted", "declined"),
    ("accepted", "unable_to_contact"),
    ("in_progress", "completed"),
    ("in_progress", "declined"),
    ("in_progress", "unable_to_contact"),
}
ALL_PAIRS = list(itertools.product(STATUSES, STATUSES))
FORBIDDEN = [pair for pair in ALL_PAIRS if pair not in ALLOWED]
NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


def pair_id(pair):
    return f"{pair[0]}->{pair[1]}"


def events_for(db, referral) -> list[ReferralEvent]:
    return list(
        db.session.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.id)
        )
    )


def event_count(db, referral) -> int:
    return db.session.scalar(
        select(func.count()).select_from(ReferralEvent).where(
            ReferralEvent.referral_id == referral.id
        )
    )


@pytest.fixture
def connector(make):
    return make.user(Role.CONNECTOR)


def test_the_diagram_names_every_status_and_nothing_else():
    assert {s.value for s in ReferralStatus} == set(STATUSES)
    assert len(ALL_PAIRS) == 64 and len(FORBIDDEN) == 55


@pytest.mark.parametrize("pair", sorted(ALLOWED), ids=pair_id)
def test_every_move_in_the_diagram_is_allowed_and_writes_one_event(db, make, connector, pair):
    start, end = map(ReferralStatus, pair)
    referral = make.referral(status=start)
    before = event_count(db, referral)
    assert workflow.can_move(referral, end)

    event = workflow.transition(referral, end, actor=connector, reason="Talked it through",
                                now=NOW)

    assert referral.status is end
    assert referral.updated_at == NOW
    assert event_count(db, referral) == before + 1
    assert events_for(db, referral)[-1] is event
    assert (event.from_status, event.to_status) == (start, end)


@pytest.mark.parametrize("pair", FORBIDDEN, ids=pair_id)
def test_every_move_not_in_the_diagram_is_refused_leaving_the_referral_alone(db, make,
                                                                              connector, pair):
    start, end = map(ReferralStatus, pair)
    referral = make.referral(status=start)
    before = event_count(db, referral)
    assert not workflow.can_move(referral, end)

    with pytest.raises(IllegalTransition) as caught:
        workflow.transition(referral, end, actor=connector, reason="Trying anyway", now=NOW)

    assert (caught.value.from_status, caught.value.to_status) == (start, end)
    assert referral.status is start
    assert event_count(db, referral) == before
    db.session.expire(referral)
    assert referral.status is start


@pytest.mark.parametrize("start", STATUSES)
def test_allowed_moves_lists_exactly_the_diagrams_arrows(start):
    expected = {ReferralStatus(to) for frm, to in ALLOWED if frm == start}
    assert set(workflow.allowed_moves(ReferralStatus(start))) == expected


def test_an_illegal_move_says_what_was_attempted_in_words(make, connector):
    referral = make.referral(status=ReferralStatus.COMPLETED)
    with pytest.raises(IllegalTransition, match="^A referral that is completed cannot become "
                                                "accepted.$"):
        workflow.transition(referral, ReferralStatus.ACCEPTED, actor=connector)


def test_an_illegal_move_is_refused_before_the_reason_is_even_looked_at(make, connector):
    referral = make.referral(status=ReferralStatus.COMPLETED)
    with pytest.raises(IllegalTransition):
        workflow.transition(referral, ReferralStatus.CANCELLED, actor=connector, reason="")


def test_the_event_records_who_when_from_to_and_why(db, make, connector):
    referral = make.referral(status=ReferralStatus.ACCEPTED)

    event = workflow.transition(referral, ReferralStatus.IN_PROGRESS, actor=connector,
                                reason="First call made", now=NOW)
    event_id = event.id
    db.session.expire_all()
    stored = db.session.get(ReferralEvent, event_id)

    assert stored.referral_id == referral.id
    assert stored.actor_id == connector.id
    assert stored.actor_name == connector.name
    assert stored.at == NOW
    assert stored.from_status is ReferralStatus.ACCEPTED
    assert stored.to_status is ReferralStatus.IN_PROGRESS
    assert stored.reason == "First call made"


def test_a_move_made_by_a_system_records_its_label_as_the_actor(db, make):
    referral = make.referral()
    event = workflow.transition(referral, ReferralStatus.ACCEPTED, actor=None,
                                actor_label="Riverside GP system", now=NOW)
    assert event.actor_id is None
    assert event.actor_name == "Riverside GP system"


def test_the_status_and_its_event_are_flushed_together_in_the_callers_transaction(db, make,
                                                                                  connector):
    referral = make.referral()
    savepoint = db.session.begin_nested()
    workflow.transition(referral, ReferralStatus.ACCEPTED, actor=connector, now=NOW)

    # Flushed: the database (inside this transaction) already has both.
    with db.session.no_autoflush:
        status = db.session.execute(
            text("SELECT status FROM referral WHERE id = :id"), {"id": referral.id}
        ).scalar_one()
        stored = db.session.execute(
            text("SELECT to_status FROM referral_event WHERE referral_id = :id ORDER BY id"),
            {"id": referral.id},
        ).scalars().all()
    assert status == "accepted"
    assert stored == ["received", "accepted"]

    # Not committed: undoing the caller's transaction undoes both.
    savepoint.rollback()
    assert referral.status is ReferralStatus.RECEIVED
    assert [e.to_status for e in events_for(db, referral)] == [ReferralStatus.RECEIVED]


@pytest.mark.parametrize("to", ["rejected", "cancelled"])
@pytest.mark.parametrize("reason", ["", "   ", "\t\n", None], ids=repr)
def test_rejecting_or_cancelling_needs_a_reason_that_is_not_blank(db, make, connector, to,
                                                                  reason):
    referral = make.referral()
    before = event_count(db, referral)

    with pytest.raises(ReasonRequired) as caught:
        workflow.transition(referral, ReferralStatus(to), actor=connector, reason=reason)

    assert str(caught.value) == f"Give a reason to mark the referral as {to}."
    assert referral.status is ReferralStatus.RECEIVED
    assert event_count(db, referral) == before


@pytest.mark.parametrize("to", ["rejected", "cancelled"])
def test_the_reason_for_rejecting_or_cancelling_is_kept_without_surrounding_space(make,
                                                                                 connector, to):
    referral = make.referral()
    event = workflow.transition(referral, ReferralStatus(to), actor=connector,
                                reason="  Moved out of the area \n")
    assert event.reason == "Moved out of the area"
    assert referral.status is ReferralStatus(to)


@pytest.mark.parametrize("pair", [p for p in sorted(ALLOWED) if p[1] not in
                                  ("rejected", "cancelled")], ids=pair_id)
def test_other_moves_need_no_reason(make, connector, pair):
    start, end = map(ReferralStatus, pair)
    referral = make.referral(status=start)
    event = workflow.transition(referral, end, actor=connector)
    assert event.reason == ""
    assert referral.status is end


def test_a_referral_event_cannot_be_changed_once_written(db, make, connector):
    referral = make.referral()
    event = workflow.transition(referral, ReferralStatus.ACCEPTED, actor=connector,
                                reason="Looks right")
    event.reason = "Rewritten history"
    with pytest.raises(ValueError, match="append-only"):
        db.session.flush()
    with db.session.no_autoflush:
        stored = db.session.execute(
            text("SELECT reason FROM referral_event WHERE id = :id"), {"id": event.id}
        ).scalar_one()
    assert stored == "Looks right"


def test_a_referral_event_loaded_from_the_database_cannot_be_changed(db, make):
    referral = make.referral(status=ReferralStatus.ACCEPTED)
    db.session.expire_all()
    event = events_for(db, referral)[0]
    event.to_status = ReferralStatus.COMPLETED
    with pytest.raises(ValueError, match="append-only"):
        db.session.flush()


def test_a_referral_event_cannot_be_deleted(db, make):
    referral = make.referral(status=ReferralStatus.ACCEPTED)
    event = events_for(db, referral)[0]
    db.session.delete(event)
    with pytest.raises(ValueError, match="append-only"):
        db.session.flush()
    with db.session.no_autoflush:
        still_there = db.session.execute(
            text("SELECT count(*) FROM referral_event WHERE id = :id"), {"id": event.id}
        ).scalar_one()
    assert still_there == 1
