"""A letter is written as a referral closes with an outcome, in the same transaction;
failing to write it never undoes the closing."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from referrals import workflow
from referrals.caseload import service as casework
from referrals.models import LetterTrigger, OutcomeLetter, Referral, ReferralStatus, utcnow
from referrals.workdays import uk_date
from reports import letters, store

S = ReferralStatus


def letters_of(db, referral) -> list[OutcomeLetter]:
    return db.session.scalars(select(OutcomeLetter).where(
        OutcomeLetter.referral_id == referral.id).order_by(OutcomeLetter.number)).all()


@pytest.mark.parametrize(("status", "trigger"), [
    (S.COMPLETED, LetterTrigger.COMPLETED),
    (S.DECLINED, LetterTrigger.DECLINED),
    (S.UNABLE_TO_CONTACT, LetterTrigger.UNABLE_TO_CONTACT),
])
def test_closing_with_an_outcome_writes_the_first_letter(
        db, make, letter_world, letters_on_close, status, trigger):
    referral = make.referral(letter_world.practice_a, connector=letter_world.connector,
                             status=status)

    [letter] = letters_of(db, referral)
    assert letter.number == 1
    assert letter.trigger is trigger
    assert letter.practice_id == referral.practice_id
    assert letter.created_at == referral.events[-1].at


@pytest.mark.parametrize("status", [S.REJECTED, S.CANCELLED, S.ACCEPTED, S.IN_PROGRESS])
def test_no_letter_for_a_referral_that_did_not_close_with_an_outcome(
        db, make, letter_world, letters_on_close, status):
    referral = make.referral(letter_world.practice_a, status=status)

    assert letters_of(db, referral) == []


def test_no_automatic_letter_when_the_setting_is_off(db, make, letter_world):
    referral = make.referral(letter_world.practice_a, status=S.COMPLETED)

    assert letters_of(db, referral) == []
    assert referral.id in db.session.scalars(store.outstanding(uk_date(utcnow()))).all()


def test_the_closing_form_fields_reach_the_letter_written_as_it_closes(
        db, make, letter_world, letters_on_close):
    referral = make.referral(letter_world.practice_a, connector=letter_world.connector,
                             status=S.IN_PROGRESS)

    casework.close_referral(referral, "completed", actor=letter_world.connector,
                            note="Settled into the walking group.",
                            gp_actions="  Please review her repeat prescription.  ",
                            coded_only=True)

    assert referral.gp_actions == "Please review her repeat prescription."
    assert referral.coded_only is True
    [letter] = letters_of(db, referral)
    assert letter.coded_only is True
    assert letter.created_by_id == letter_world.connector.id


def test_a_letter_that_cannot_be_rendered_leaves_the_referral_closed_and_outstanding(
        db, make, letter_world, letters_on_close, monkeypatch, caplog):
    referral = make.referral(letter_world.practice_a, connector=letter_world.connector,
                             status=S.IN_PROGRESS)

    def broken(referral, *, now):
        raise RuntimeError("fonts are missing")

    monkeypatch.setattr(letters, "outcome_letter_pdf", broken)
    with caplog.at_level(logging.ERROR, logger="reports.lifecycle"):
        casework.close_referral(referral, "completed", actor=letter_world.connector,
                                note="Done.")
    db.session.commit()
    db.session.expire_all()

    closed = db.session.get(Referral, referral.id)
    assert closed.status is S.COMPLETED
    assert closed.events[-1].to_status is S.COMPLETED
    assert letters_of(db, closed) == []
    assert closed.id in db.session.scalars(store.outstanding(uk_date(utcnow()))).all()
    assert referral.reference in caplog.text and "fonts are missing" in caplog.text


def test_a_store_failure_is_rolled_back_to_the_savepoint_and_the_closing_kept(
        db, make, letter_world, letters_on_close, monkeypatch):
    referral = make.referral(letter_world.practice_a, status=S.IN_PROGRESS)

    store.produce_letter(referral, trigger=LetterTrigger.ON_DEMAND, actor=None)
    # Version 1 exists, so both tries to store version 1 hit the unique constraint.
    monkeypatch.setattr(store, "_next_number", lambda referral_id: 1)
    workflow.transition(referral, S.COMPLETED, actor=None, actor_label="test")
    db.session.commit()

    assert db.session.get(Referral, referral.id).status is S.COMPLETED
    assert [v.number for v in letters_of(db, referral)] == [1]
