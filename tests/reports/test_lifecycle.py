"""A letter is a job made as a referral closes with an outcome, in the same transaction,
and rendered only after that transaction commits; a letter that fails is retried, and
never undoes the closing."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from referrals import jobs, signals, workflow
from referrals.caseload import service as casework
from referrals.models import (
    Job,
    JobStatus,
    LetterTrigger,
    OutcomeLetter,
    Referral,
    ReferralStatus,
    utcnow,
)
from referrals.workdays import uk_date
from reports import letters, lifecycle, store

S = ReferralStatus


def letters_of(db, referral) -> list[OutcomeLetter]:
    return db.session.scalars(select(OutcomeLetter).where(
        OutcomeLetter.referral_id == referral.id).order_by(OutcomeLetter.number)).all()


def letter_jobs(db, referral) -> list[Job]:
    return db.session.scalars(select(Job).where(
        Job.key.startswith(f"letter:{referral.id}:")).order_by(Job.id)).all()


@pytest.fixture
def printed(monkeypatch):
    """Counts PDFs printed, still printing them."""
    calls = []
    real = letters.print_letter

    def counting(html):
        calls.append(html)
        return real(html)

    monkeypatch.setattr(letters, "print_letter", counting)
    return calls


@pytest.mark.parametrize(("status", "trigger"), [
    (S.COMPLETED, LetterTrigger.COMPLETED),
    (S.DECLINED, LetterTrigger.DECLINED),
    (S.UNABLE_TO_CONTACT, LetterTrigger.UNABLE_TO_CONTACT),
])
def test_closing_with_an_outcome_makes_the_letter_after_the_closing_commits(
        db, make, letter_world, letters_on_close, printed, status, trigger):
    referral = make.referral(letter_world.practice_a, connector=letter_world.connector,
                             status=status)

    # Inside the closing's transaction: a job, and no PDF rendered while it is open.
    assert printed == [] and letters_of(db, referral) == []
    assert lifecycle.being_prepared(referral)
    db.session.commit()
    assert jobs.run_due() == 1

    [letter] = letters_of(db, referral)
    assert (letter.number, letter.trigger, letter.practice_id) == (1, trigger,
                                                                   referral.practice_id)
    assert letter.created_at >= referral.events[-1].at
    assert len(printed) == 1
    assert not lifecycle.being_prepared(referral)
    [job] = letter_jobs(db, referral)
    assert (job.status, job.attempts) == (JobStatus.DONE, 1)


@pytest.mark.parametrize("status", [S.REJECTED, S.CANCELLED, S.ACCEPTED, S.IN_PROGRESS])
def test_no_letter_for_a_referral_that_did_not_close_with_an_outcome(
        db, make, letter_world, letters_on_close, status):
    referral = make.referral(letter_world.practice_a, status=status)
    db.session.commit()
    jobs.run_due()

    assert letter_jobs(db, referral) == [] and letters_of(db, referral) == []


def test_no_automatic_letter_when_the_setting_is_off(db, make, letter_world):
    referral = make.referral(letter_world.practice_a, status=S.COMPLETED)

    assert letter_jobs(db, referral) == [] and letters_of(db, referral) == []
    assert referral.id in db.session.scalars(store.outstanding(uk_date(utcnow()))).all()


def test_one_closing_makes_one_letter_however_often_it_is_announced(
        db, make, letter_world, letters_on_close):
    referral = make.referral(letter_world.practice_a, status=S.COMPLETED)
    event = referral.events[-1]
    signals.referral_closed.send(referral, event=event, actor=None, actor_label="", now=None)
    db.session.commit()
    jobs.run_due()

    assert len(letter_jobs(db, referral)) == 1
    assert [letter.number for letter in letters_of(db, referral)] == [1]


def test_the_closing_form_fields_reach_the_letter(db, make, letter_world, letters_on_close):
    referral = make.referral(letter_world.practice_a, connector=letter_world.connector,
                             status=S.IN_PROGRESS)

    casework.close_referral(referral, "completed", actor=letter_world.connector,
                            note="Settled into the walking group.",
                            gp_actions="  Please review her repeat prescription.  ",
                            coded_only=True)
    db.session.commit()
    jobs.run_due()

    assert referral.gp_actions == "Please review her repeat prescription."
    assert referral.coded_only is True
    [letter] = letters_of(db, referral)
    assert letter.coded_only is True
    assert letter.has_actions is True  # it needs action at the practice (issue 14)
    assert letter.created_by_id == letter_world.connector.id


def test_a_letter_that_cannot_be_rendered_is_retried_and_the_referral_stays_closed(
        db, make, letter_world, letters_on_close, monkeypatch, caplog):
    referral = make.referral(letter_world.practice_a, connector=letter_world.connector,
                             status=S.IN_PROGRESS)

    def broken(html):
        raise RuntimeError("fonts are missing")

    monkeypatch.setattr(letters, "print_letter", broken)
    casework.close_referral(referral, "completed", actor=letter_world.connector, note="Done.")
    db.session.commit()
    with caplog.at_level(logging.ERROR, logger="referrals.jobs"):
        assert jobs.run_due() == 0
    db.session.expire_all()

    closed = db.session.get(Referral, referral.id)
    assert closed.status is S.COMPLETED
    assert letters_of(db, closed) == []
    assert closed.id in db.session.scalars(store.outstanding(uk_date(utcnow()))).all()
    assert "fonts are missing" in caplog.text
    [job] = letter_jobs(db, closed)
    assert job.status is JobStatus.PENDING and "fonts are missing" in job.last_error
    assert job.run_after > utcnow()  # backs off before the retry
    assert lifecycle.being_prepared(closed)

    # Once the fonts are back, the retry (when due) writes the letter.
    monkeypatch.undo()
    assert jobs.run_due(now=utcnow() + timedelta(minutes=2)) == 1
    assert [letter.number for letter in letters_of(db, closed)] == [1]


def test_a_letter_that_keeps_failing_gives_up_and_says_why(
        db, make, letter_world, letters_on_close, monkeypatch):
    referral = make.referral(letter_world.practice_a, status=S.COMPLETED)
    db.session.commit()
    monkeypatch.setattr(letters, "print_letter",
                        lambda html: (_ for _ in ()).throw(OSError("no Pango")))

    when = utcnow()
    for _ in range(len(jobs.RETRY_AFTER) + 1):
        jobs.run_due(now=when)
        when += timedelta(days=1)
    db.session.expire_all()

    [job] = letter_jobs(db, referral)
    assert (job.status, job.attempts) == (JobStatus.FAILED, len(jobs.RETRY_AFTER) + 1)
    assert job.last_error == "OSError: no Pango"
    assert jobs.run_due(now=when) == 0  # failed jobs stay failed; `flask letters` remains


def test_a_job_claimed_by_a_runner_that_died_is_taken_over_after_its_lease(
        db, make, letter_world, letters_on_close):
    referral = make.referral(letter_world.practice_a, status=S.COMPLETED)
    db.session.commit()
    [job] = letter_jobs(db, referral)
    job.status, job.claimed_at, job.claim_token = JobStatus.RUNNING, utcnow(), "dead"
    db.session.commit()

    assert jobs.run_due() == 0  # still within the dead runner's lease
    assert jobs.run_due(now=utcnow() + jobs.LEASE + timedelta(seconds=1)) == 1
    assert [letter.number for letter in letters_of(db, referral)] == [1]


def test_a_store_failure_is_retried_and_the_closing_kept(
        db, make, letter_world, letters_on_close, monkeypatch):
    referral = make.referral(letter_world.practice_a, status=S.IN_PROGRESS)

    store.produce_letter(referral, trigger=LetterTrigger.ON_DEMAND, actor=None)
    # Version 1 exists, so both tries to store version 1 hit the unique constraint.
    monkeypatch.setattr(store, "_next_number", lambda referral_id: 1)
    workflow.transition(referral, S.COMPLETED, actor=None, actor_label="test")
    db.session.commit()
    assert jobs.run_due() == 0

    assert db.session.get(Referral, referral.id).status is S.COMPLETED
    assert [v.number for v in letters_of(db, referral)] == [1]
    [job] = [j for j in letter_jobs(db, referral) if "close" in j.key]
    assert job.status is JobStatus.PENDING and "IntegrityError" in job.last_error
