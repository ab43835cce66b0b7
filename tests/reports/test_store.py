"""Stored outcome letters: numbered versions, each kept exactly as it was made."""
from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from referrals import workflow
from referrals.models import (
    AuditEvent,
    LetterTrigger,
    OutcomeLetter,
    ReferralStatus,
    utcnow,
)
from referrals.workdays import uk_date
from reports import store

S = ReferralStatus


@pytest.fixture
def closed(make, letter_world):
    return make.referral(letter_world.practice_a, connector=letter_world.connector,
                         status=S.COMPLETED)


def test_a_letter_is_stored_with_its_hash_size_pages_and_maker(db, closed, letter_world):
    closed.coded_only = True

    letter = store.produce_letter(closed, trigger=LetterTrigger.ON_DEMAND,
                                  actor=letter_world.connector)

    assert letter.number == 1
    assert letter.pdf.startswith(b"%PDF-")
    assert letter.sha256 == hashlib.sha256(letter.pdf).hexdigest()
    assert letter.size == len(letter.pdf)
    assert letter.pages == 1
    assert letter.practice_id == letter_world.practice_a.id
    assert letter.coded_only is True
    assert letter.trigger is LetterTrigger.ON_DEMAND
    assert letter.created_by_id == letter_world.connector.id
    assert letter.created_by_label == letter_world.connector.name
    assert letter.read_at is None


def test_making_a_letter_is_audited(db, closed, letter_world):
    letter = store.produce_letter(closed, trigger=LetterTrigger.ON_DEMAND,
                                  actor=letter_world.connector)

    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "outcome-letter", AuditEvent.action == "create")).one()
    assert event.entity_id == letter.id
    assert event.patient_id == closed.patient_id
    assert event.actor_id == letter_world.connector.id
    assert event.detail["number"] == 1


def test_each_new_letter_is_the_next_version_and_earlier_ones_never_change(
        db, closed, letter_world):
    first = store.produce_letter(closed, trigger=LetterTrigger.COMPLETED,
                                 actor=letter_world.connector)
    first_hash, first_id = first.sha256, first.id
    closed.gp_actions = "Please review the medication."  # the next version differs
    second = store.produce_letter(closed, trigger=LetterTrigger.ON_DEMAND,
                                  actor=letter_world.coordinator)
    third = store.produce_letter(closed, trigger=LetterTrigger.ON_DEMAND,
                                 actor=letter_world.coordinator)
    db.session.commit()
    db.session.expire_all()

    assert [v.number for v in closed.letters] == [1, 2, 3]
    assert db.session.get(OutcomeLetter, first_id).sha256 == first_hash
    assert second.sha256 != first_hash
    assert store.latest_letter(closed).id == third.id
    assert store.letter_version(closed, 1).id == first_id
    assert store.letter_version(closed, 4) is None


def test_a_stored_letter_cannot_be_altered_or_deleted(db, closed, letter_world):
    letter = store.produce_letter(closed, trigger=LetterTrigger.COMPLETED,
                                  actor=letter_world.connector)
    db.session.commit()

    letter.pdf = b"%PDF-forged"
    with pytest.raises(ValueError, match="immutable"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(letter)
    with pytest.raises(ValueError, match="never deleted"):
        db.session.flush()
    db.session.rollback()


def test_the_read_receipt_is_the_one_change_a_letter_accepts(db, closed, letter_world):
    letter = store.produce_letter(closed, trigger=LetterTrigger.COMPLETED,
                                  actor=letter_world.connector)
    letter.read_at = utcnow()
    letter.read_by_id = letter_world.referrer_a.id

    db.session.flush()


def test_a_writer_that_loses_the_race_for_a_number_takes_the_next(
        db, closed, letter_world, monkeypatch):
    store.produce_letter(closed, trigger=LetterTrigger.COMPLETED, actor=letter_world.connector)
    real = store._next_number
    answers = iter([1])  # as if it had read the maximum before the other writer committed
    monkeypatch.setattr(store, "_next_number",
                        lambda referral_id: next(answers, None) or real(referral_id))

    letter = store.produce_letter(closed, trigger=LetterTrigger.ON_DEMAND,
                                  actor=letter_world.connector)
    db.session.commit()

    assert letter.number == 2
    assert [v.number for v in closed.letters] == [1, 2]


def test_a_letter_rendered_elsewhere_is_stored_as_given(db, closed, letter_world):
    pdf = store.render_letter(closed, now=utcnow())

    letter = store.store_letter(closed, pdf, trigger=LetterTrigger.BATCH, actor=None,
                                actor_label="flask letters")

    assert letter.pdf == pdf
    assert letter.created_by_id is None
    assert letter.created_by_label == "flask letters"


def _close_at(make, practice, status, at: datetime):
    referral = make.referral(practice, status=S.IN_PROGRESS)
    workflow.transition(referral, status, actor=None, actor_label="test", reason="test", now=at)
    return referral


def test_outstanding_lists_referrals_closed_since_the_date_without_a_letter(
        db, make, letter_world):
    practice = letter_world.practice_a
    day = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    completed = _close_at(make, practice, S.COMPLETED, day)
    declined = _close_at(make, practice, S.DECLINED, day + timedelta(days=1))
    unreached = _close_at(make, practice, S.UNABLE_TO_CONTACT, day)
    earlier = _close_at(make, practice, S.COMPLETED, day - timedelta(days=1))
    lettered = _close_at(make, practice, S.COMPLETED, day)
    store.produce_letter(lettered, trigger=LetterTrigger.COMPLETED, actor=None)
    make.referral(practice, status=S.REJECTED)
    make.referral(practice, status=S.CANCELLED)
    make.referral(practice, status=S.IN_PROGRESS)

    ids = db.session.scalars(store.outstanding(date(2026, 3, 10))).all()

    assert ids == sorted([completed.id, declined.id, unreached.id])
    assert earlier.id not in ids and lettered.id not in ids
    later = db.session.scalars(store.outstanding(date(2026, 3, 11))).all()
    assert later == [declined.id]


def test_outstanding_counts_the_day_in_the_uk(db, make, letter_world):
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time).
    referral = _close_at(make, letter_world.practice_a, S.COMPLETED,
                         datetime(2026, 6, 30, 23, 30, tzinfo=UTC))

    closing = next(e for e in referral.events if e.to_status is S.COMPLETED)
    assert uk_date(closing.at) == date(2026, 7, 1)
    assert db.session.scalars(store.outstanding(date(2026, 7, 1))).all() == [referral.id]

