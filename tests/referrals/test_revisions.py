"""Versions of a referral: each change moves it on once and is logged; a change made from
an older version is refused with what changed since; additions never conflict."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from referrals import revisions, workflow
from referrals.caseload import service as casework
from referrals.errors import StaleConnection, StaleReferral
from referrals.hub import service as hub_service
from referrals.intake import service as intake
from referrals.models import (
    ContactChannel,
    ContactOutcome,
    Referral,
    ReferralChange,
    ReferralStatus,
    Role,
    utcnow,
)

S = ReferralStatus


def changes(db, referral) -> list[tuple[int, str]]:
    return [(c.version, c.summary) for c in db.session.scalars(
        select(ReferralChange).where(ReferralChange.referral_id == referral.id)
        .order_by(ReferralChange.version))]


@pytest.fixture
def team(make):
    practice = make.practice()
    return practice, make.user(Role.CONNECTOR, team=practice.team), \
        make.user(Role.COORDINATOR, team=practice.team)


def test_a_new_referral_is_version_1_and_its_creation_is_logged(db, make, team):
    practice, _, _ = team
    referral = make.referral(practice)

    assert referral.version == 1
    assert changes(db, referral) == [(1, "Referral received")]


def test_each_change_moves_the_version_on_once_and_says_what_changed(db, make, team):
    practice, connector, _ = team
    referral = make.referral(practice)

    casework.accept_referral(referral, actor=connector, expected_version=1)
    casework.record_contact(referral, actor=connector, at=utcnow(),
                            method=ContactChannel.PHONE, outcome=ContactOutcome.NO_ANSWER)

    assert referral.version == 4
    assert changes(db, referral) == [
        (1, "Referral received"),
        (2, f"Assigned to {connector.name}"),
        (3, "Status: received → accepted"),
        (4, "Contact recorded (phone, no answer)"),
    ]
    [*_, last] = db.session.scalars(select(ReferralChange).where(
        ReferralChange.referral_id == referral.id).order_by(ReferralChange.version))
    assert last.actor_id == connector.id and last.actor_name == connector.name


def test_a_change_from_an_older_version_is_refused_with_what_changed_since(db, make, team):
    practice, connector, coordinator = team
    referral = make.referral(practice)
    hub_service.assign(referral, connector, actor=coordinator, reason="Balancing",
                       expected_version=1)

    with pytest.raises(StaleReferral) as refused:
        casework.reject_referral(referral, actor=coordinator, reason="Not for us",
                                 expected_version=1)

    assert refused.value.expected == 1
    assert [c.summary for c in refused.value.changes] == [f"Assigned to {connector.name}"]
    assert referral.status is S.RECEIVED


@pytest.mark.parametrize("change", ["accept", "reject", "close", "assign", "cancel"])
def test_every_change_of_state_or_holder_checks_the_version_it_started_from(
        db, make, team, change):
    practice, connector, coordinator = team
    status = S.IN_PROGRESS if change == "close" else S.RECEIVED
    referral = make.referral(practice, connector=connector if change == "close" else None,
                             status=status)
    stale = referral.version - 1
    calls = {
        "accept": lambda: casework.accept_referral(referral, actor=connector,
                                                   expected_version=stale),
        "reject": lambda: casework.reject_referral(referral, actor=coordinator, reason="No",
                                                   expected_version=stale),
        "close": lambda: casework.close_referral(referral, "completed", actor=connector,
                                                 note="Done", expected_version=stale),
        "assign": lambda: hub_service.assign(referral, connector, actor=coordinator,
                                             reason="Cover", expected_version=stale),
        "cancel": lambda: intake.cancel_referral(referral, actor=referral.referrer,
                                                 reason="Moved", expected_version=stale),
    }
    before = (referral.status, referral.connector_id, referral.version)

    with pytest.raises(StaleReferral):
        calls[change]()

    assert (referral.status, referral.connector_id, referral.version) == before


def test_additions_name_no_version_and_never_conflict(db, make, team):
    practice, connector, coordinator = team
    referral = make.referral(practice, connector=connector, status=S.IN_PROGRESS)
    version = referral.version

    for actor in (connector, coordinator):
        casework.record_contact(referral, actor=actor, at=utcnow(),
                                method=ContactChannel.PHONE, outcome=ContactOutcome.SPOKE)

    assert referral.version == version + 2 and len(referral.contacts) == 2


def test_a_connection_moved_from_an_older_version_is_refused(db, make, team):
    from referrals.matching import service as matching
    from referrals.models import ConnectionKind, ConnectionStatus
    from tests.referrals.matching.test_connections import Offers

    practice, connector, _ = team
    referral = make.referral(practice, connector=connector, status=S.IN_PROGRESS)
    today = utcnow().date()
    connection = matching.record_connection(referral, Offers(db.session)(),
                                            kind=ConnectionKind.REFERRAL, actor=connector,
                                            today=today)
    matching.update_connection(connection, status=ConnectionStatus.ACCEPTED, on=today,
                               actor=connector, today=today, expected_version=1)

    with pytest.raises(StaleConnection, match="it is now accepted"):
        matching.update_connection(connection, status=ConnectionStatus.DECLINED, on=today,
                                   actor=connector, today=today, expected_version=1)
    assert connection.status is ConnectionStatus.ACCEPTED


def test_the_update_itself_refuses_a_write_based_on_a_stale_read(db, make, team):
    """Layer 3: even a writer that skipped lock() cannot overwrite a newer version."""
    practice, _, _ = team
    referral = make.referral(practice)
    db.session.commit()
    # Someone else moved it on, behind this session's back.
    db.session.execute(Referral.__table__.update().where(Referral.id == referral.id)
                       .values(version=referral.version + 1))
    referral.urgency = referral.urgency  # no change: nothing to write yet
    referral.what_matters = "Overwritten?"

    with pytest.raises(StaleDataError):
        db.session.flush()
    db.session.rollback()


def test_change_log_rows_are_append_only(db, make, team):
    practice, _, _ = team
    referral = make.referral(practice)
    [change] = db.session.scalars(select(ReferralChange).where(
        ReferralChange.referral_id == referral.id))
    change.summary = "Something else"

    with pytest.raises(ValueError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_lock_is_taken_once_per_transaction_and_keeps_unsaved_changes(db, make, team):
    practice, _, _ = team
    referral = make.referral(practice)
    db.session.commit()
    revisions.lock(referral)
    referral.what_matters = "Allotments"
    revisions.lock(referral)  # again: must not re-read and lose the change

    assert referral.what_matters == "Allotments"
    workflow.transition(referral, S.REJECTED, actor=None, reason="Test")
    assert referral.what_matters == "Allotments"
