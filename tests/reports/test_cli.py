"""`flask letters --since DATE`: every outstanding letter, rendered in worker processes.

The workers are separate processes with their own engines, so they need committed data:
these tests build their own app on a fresh database file (or PostgreSQL database)
instead of the rolled-back `db` fixture.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from referrals.extensions import db
from referrals.models import LetterTrigger, OutcomeLetter, Referral, ReferralStatus, utcnow
from referrals.workdays import uk_date
from reports import cli, store
from tests.builders import Builders
from tests.conftest import fresh_database, migrated_app

S = ReferralStatus


@pytest.fixture(params=["sqlite", "postgresql"])
def committed_app(request, tmp_path):
    """An app on a fresh database that worker processes can see, migrated."""
    with fresh_database(request, tmp_path, "letters") as url, migrated_app(url) as app:
        yield app


def seed(app) -> dict[str, list[int]]:
    """Three referrals closed with an outcome (no letter: LETTERS_ON_CLOSE is off in
    tests), one closed long ago, one still open, one rejected."""
    with app.app_context():
        make = Builders(db.session)
        practice = make.practice()
        closed = [make.referral(practice, status=status).id
                  for status in (S.COMPLETED, S.DECLINED, S.UNABLE_TO_CONTACT)]
        make.referral(practice, status=S.IN_PROGRESS)
        make.referral(practice, status=S.REJECTED)
        db.session.commit()
        result = {"closed": closed}
        db.session.remove()
        return result


def letters(app) -> list[OutcomeLetter]:
    with app.app_context():
        rows = db.session.scalars(select(OutcomeLetter).order_by(OutcomeLetter.referral_id)).all()
        db.session.expunge_all()
        db.session.remove()
        return rows


def test_every_outstanding_letter_is_produced_once_by_worker_processes(committed_app):
    seeded = seed(committed_app)
    today = uk_date(utcnow())
    runner = committed_app.test_cli_runner()

    result = runner.invoke(args=["letters", "--since", f"{today:%Y-%m-%d}", "--workers", "2"])

    assert result.exit_code == 0, result.output
    assert "3 outstanding letters; rendering with 2 worker processes." in result.output
    assert "Produced 3 letters in" in result.output and "letters/second" in result.output
    stored = letters(committed_app)
    assert [row.referral_id for row in stored] == seeded["closed"]
    assert all(row.number == 1 and row.trigger is LetterTrigger.BATCH for row in stored)
    assert all(row.created_by_label == cli.BATCH_LABEL and row.pages >= 1 for row in stored)

    again = runner.invoke(args=["letters", "--since", f"{today:%Y-%m-%d}"])

    assert again.exit_code == 0, again.output
    assert "No outstanding letters" in again.output
    assert len(letters(committed_app)) == 3


def test_referrals_closed_before_the_date_are_left(committed_app):
    seed(committed_app)
    tomorrow = uk_date(utcnow()) + timedelta(days=1)

    result = committed_app.test_cli_runner().invoke(
        args=["letters", "--since", f"{tomorrow:%Y-%m-%d}"])

    assert result.exit_code == 0, result.output
    assert "No outstanding letters" in result.output
    assert letters(committed_app) == []


def test_a_failed_letter_is_named_and_the_command_fails(committed_app, monkeypatch):
    seeded = seed(committed_app)
    bad = seeded["closed"][1]
    with committed_app.app_context():
        bad_reference = db.session.get(Referral, bad).reference
        db.session.remove()

    def rendered(ids, *, workers, now):
        # What the pool yields when one worker's render raised (see cli._render).
        for referral_id in ids:
            if referral_id == bad:
                yield referral_id, None, "RuntimeError: no fonts"
            else:  # rendered here, in the command's own process
                referral = db.session.get(Referral, referral_id)
                yield referral_id, store.render_letter(referral, now=now), ""

    monkeypatch.setattr(cli, "_rendered", rendered)
    result = committed_app.test_cli_runner().invoke(
        args=["letters", "--since", f"{uk_date(utcnow()):%Y-%m-%d}"])

    assert result.exit_code == 1
    assert "Produced 2 letters" in result.output
    assert f"{bad_reference}: RuntimeError: no fonts" in result.output
    assert bad not in [row.referral_id for row in letters(committed_app)]


@pytest.mark.parametrize("args", [["letters"], ["letters", "--since", "31/03/2026"],
                                  ["letters", "--since", "2026-03-31", "--workers", "0"]])
def test_the_command_refuses_bad_arguments(app, args):
    result = app.test_cli_runner().invoke(args=args)

    assert result.exit_code == 2


def test_seed_demo_writes_the_closed_referrals_letters_before_anyone_signs_in(
        app, db, letters_on_close):
    """Letters are jobs run after a commit; the demo runs its own, so a fresh `make run`
    shows letters at once instead of waiting for the scheduler's sweep."""
    from referrals import workflow
    from referrals.models import Job, JobStatus

    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    # The hand-made referrals (the lowest ids): its history has no letters
    # (referrals.demo_history).
    handmade = select(Referral.id).order_by(Referral.id).limit(41).scalar_subquery()
    closed = db.session.scalars(select(Referral.id).where(
        Referral.status.in_(workflow.CLOSED_WITH_OUTCOME), Referral.id.in_(handmade))).all()
    with_letter = set(db.session.scalars(select(OutcomeLetter.referral_id)))
    assert closed and set(closed) <= with_letter
    assert f"Wrote {len(closed)} outcome letters." in result.output
    assert not db.session.scalars(select(Job).where(Job.status != JobStatus.DONE)).all()
