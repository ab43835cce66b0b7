"""Exactly-once delivery: two schedulers on one real database, a crash between claim and
send, and email received by a real SMTP server on loopback (aiosmtpd).

These tests need committed data that two engines can see, so each builds its own apps
on its own database (fixtures in conftest.py) instead of using the rolled-back `db`
fixture.
"""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, func, select, update
from sqlalchemy.exc import OperationalError

from referrals import scheduler
from referrals.extensions import db
from referrals.models import (
    ContactChannel,
    DeliveryClaim,
    FollowUp,
    Notification,
    ReferralStatus,
    Role,
)
from referrals.notifications import mail
from tests.builders import Builders
from tests.referrals.notifications.conftest import SEEDED_DELIVERIES, delivered, seed

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def run_concurrently(apps, job, now):
    """Run `job(now=now)` in every app at once, each in its own thread and session."""
    barrier = threading.Barrier(len(apps))

    def run(app):
        with app.app_context():
            barrier.wait()
            try:
                return job(now=now)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(len(apps)) as pool:
        return [future.result() for future in [pool.submit(run, app) for app in apps]]


def test_two_schedulers_on_one_database_deliver_everything_exactly_once(
        make_scheduler_app, smtp_server):
    inbox, _ = smtp_server
    first, second = make_scheduler_app(), make_scheduler_app()
    people = seed(first, today=TODAY)
    # A scheduler crashed an hour ago holding one digest's claim: both will try to take
    # it over, and only one may.
    crashed = f"digest:{people['connectors'][0]}:2026-11-23"
    with first.app_context():
        db.session.add(DeliveryClaim(key=crashed, claimed_at=NOW - timedelta(hours=1)))
        db.session.commit()

    results = []
    for minutes in (0, 0, 15):  # a repeat at the same instant, then the next run
        results += run_concurrently([first, second], scheduler.run_all,
                                    NOW + timedelta(minutes=minutes))

    rows, emails = delivered(first)
    assert rows and all(count == 1 for _, _, count in rows), rows
    # 3 digests; 2 coordinators x (9 late first contacts + 6 follow-ups past 2 grace days).
    assert len(rows) == SEEDED_DELIVERIES
    assert sum(sum(r.values()) for r in results) == len(rows)
    received = Counter((m["To"], m["Subject"]) for m in inbox.messages)
    assert received == Counter({(emails[user_id], title): 1 for user_id, title, _ in rows})
    with first.app_context():
        claims = db.session.scalars(select(DeliveryClaim)).all()
        assert len(claims) == len(rows)
        assert all(c.sent_at is not None and c.attempts == 1 for c in claims)
        db.session.remove()


def test_a_crash_between_claim_and_send_is_retried_later_and_sent_once(
        make_scheduler_app, smtp_server, monkeypatch):
    inbox, _ = smtp_server
    app = make_scheduler_app()
    with app.app_context():
        make = Builders(db.session)
        practice = make.practice()
        coordinator = make.user(Role.COORDINATOR, team=practice.team)
        referral = make.referral(practice)
        referral.first_contact_due, referral.first_contact_at = TODAY - timedelta(days=1), None
        db.session.commit()
        coordinator_id = coordinator.id

    real_send = mail.send_email
    failures = []

    def send_failing_once(*args, **kwargs):
        if not failures:
            failures.append(1)
            raise ConnectionRefusedError("SMTP server went away")
        return real_send(*args, **kwargs)

    monkeypatch.setattr(mail, "send_email", send_failing_once)
    # The job never raises for one failed delivery; the others still go.
    with app.app_context():
        assert scheduler.escalate_first_contacts(now=NOW) == 0
        claim = db.session.scalars(select(DeliveryClaim)).one()
        assert claim.sent_at is None and claim.attempts == 1
        assert "went away" in claim.last_error
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
        # Too soon to take over: the claimant might still be sending.
        assert scheduler.escalate_first_contacts(now=NOW + timedelta(minutes=1)) == 0
        # Later that day a run takes the stale claim over and delivers it.
        assert scheduler.escalate_first_contacts(now=NOW + timedelta(minutes=15)) == 1
        assert scheduler.escalate_first_contacts(now=NOW + timedelta(minutes=30)) == 0
        db.session.expire_all()
        claim = db.session.scalars(select(DeliveryClaim)).one()
        assert claim.sent_at is not None and claim.attempts == 2 and claim.last_error == ""
        assert db.session.scalars(select(Notification.user_id)).all() == [coordinator_id]
        db.session.remove()
    assert len(inbox.messages) == 1


def test_email_goes_through_a_real_smtp_server(make_scheduler_app, smtp_server):
    inbox, _ = smtp_server
    app = make_scheduler_app()
    with app.app_context():
        make = Builders(db.session)
        connector = make.user(Role.CONNECTOR, email="sam.connector@test.example")
        referral = make.referral(make.practice(team=connector.team), connector=connector,
                                 status=ReferralStatus.IN_PROGRESS)
        db.session.add(FollowUp(referral_id=referral.id, due_on=TODAY,
                                method=ContactChannel.PHONE, purpose="Check in"))
        db.session.commit()
        reference = referral.reference
        assert scheduler.send_digests(now=NOW) == 1
        db.session.remove()

    [message] = inbox.messages
    assert message["To"] == "sam.connector@test.example"
    assert message["From"] == "Kindly <kindly@test.example>"
    assert message["Subject"] == "Your day, 23 Nov 2026: 1 due today, 0 overdue"
    body = message.get_payload(decode=True).decode()
    assert f"{reference}: phone follow-up" in body
    # The follow-up's purpose is the connector's words about the person: in-app only.
    assert "Check in" not in body


def test_without_smtp_notifications_stay_in_app(make_scheduler_app, smtp_server):
    inbox, _ = smtp_server
    app = make_scheduler_app(SMTP_HOST="")
    with app.app_context():
        make = Builders(db.session)
        practice = make.practice()
        make.user(Role.COORDINATOR, team=practice.team)
        referral = make.referral(practice)
        referral.first_contact_due, referral.first_contact_at = TODAY - timedelta(days=1), None
        db.session.commit()
        assert scheduler.escalate_first_contacts(now=NOW) == 1
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1
        db.session.remove()
    assert inbox.messages == []


def test_no_database_lock_is_held_while_the_mail_server_talks(
        make_scheduler_app, smtp_server, shared_database):
    """Another writer (a web request, the other scheduler) is never kept waiting on SMTP:
    while the server holds a message, a second connection writes the same claim row."""
    inbox, _ = smtp_server
    app = make_scheduler_app()
    with app.app_context():
        make = Builders(db.session)
        practice = make.practice()
        make.user(Role.COORDINATOR, team=practice.team)
        referral = make.referral(practice)
        referral.first_contact_due, referral.first_contact_at = TODAY - timedelta(days=1), None
        db.session.commit()

    impatient = create_engine(
        shared_database,
        connect_args={"timeout": 0.5} if shared_database.startswith("sqlite")
        else {"options": "-c lock_timeout=500"})
    outcomes = []

    def write_while_sending():
        try:
            with impatient.begin() as conn:
                conn.execute(update(DeliveryClaim).values(last_error=""))
            outcomes.append("written")
        except OperationalError as exc:
            outcomes.append(f"blocked: {exc.orig}")

    inbox.on_message = write_while_sending
    try:
        with app.app_context():
            assert scheduler.escalate_first_contacts(now=NOW) == 1
            db.session.remove()
    finally:
        impatient.dispose()
    assert outcomes == ["written"]
    assert len(inbox.messages) == 1
