"""Exactly-once delivery: two schedulers on one real database, a crash between claim and
send, and email received by a real SMTP server on loopback (aiosmtpd).

These tests need committed data that two engines can see, so each builds its own apps
on its own database (a temp SQLite file, or a fresh database in the PostgreSQL test
cluster) instead of using the rolled-back `db` fixture.
"""
from __future__ import annotations

import email
import socket
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import flask_migrate
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from referrals import create_app, scheduler
from referrals.extensions import db
from referrals.models import (
    ContactChannel,
    DeliveryClaim,
    FollowUp,
    Notification,
    ReferralStatus,
    Role,
    User,
)
from referrals.notifications import mail
from tests.builders import Builders

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


# --- an SMTP server on loopback ------------------------------------------------------


class Inbox:
    def __init__(self):
        self.messages: list[email.message.Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


# --- a shared, committed database per test ---------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_database(request, tmp_path):
    """A fresh, migrated database that several apps (engines) can share."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    base = request.getfixturevalue("postgres_url")
    name = f"kindly_delivery_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def make_scheduler_app(shared_database, smtp_server):
    """Build an app (its own engine) on the shared database, with SMTP on loopback."""
    _, port = smtp_server
    apps = []

    def build(**config):
        app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": shared_database,
                          "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
                          "SMTP_STARTTLS": False, "MAIL_FROM": "Kindly <kindly@test.example>",
                          **config})
        if not apps:
            with app.app_context():
                flask_migrate.upgrade()
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def seed(app) -> dict:
    """A team with two coordinators, three connectors with due and overdue work."""
    with app.app_context():
        make = Builders(db.session)
        practice = make.practice()
        team = practice.team
        coordinators = [make.user(Role.COORDINATOR, team=team) for _ in range(2)]
        connectors = [make.user(Role.CONNECTOR, team=team, capacity=30) for _ in range(3)]
        for connector in connectors:
            for k in range(3):
                referral = make.referral(practice, connector=connector,
                                         status=ReferralStatus.ACCEPTED)
                referral.team_id = team.id
                referral.first_contact_due = TODAY - timedelta(days=1 + k)
                referral.first_contact_at = None
                db.session.add(FollowUp(referral_id=referral.id, due_on=TODAY - timedelta(days=k * 3),
                                        method=ContactChannel.PHONE))
        db.session.commit()
        return {"coordinators": [c.id for c in coordinators],
                "connectors": [c.id for c in connectors]}


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


def delivered(app):
    with app.app_context():
        rows = db.session.execute(
            select(Notification.user_id, Notification.title, func.count())
            .group_by(Notification.user_id, Notification.title)
        ).all()
        emails = {user_id: email for user_id, email in db.session.execute(
            select(User.id, User.email))}
        db.session.remove()
    return rows, emails


def test_two_schedulers_on_one_database_deliver_everything_exactly_once(
        make_scheduler_app, smtp_server):
    inbox, _ = smtp_server
    first, second = make_scheduler_app(), make_scheduler_app()
    people = seed(first)
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
    assert len(rows) == 3 + 2 * (9 + 6)
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
    assert f"{reference}: phone follow-up (Check in)" in message.get_payload(decode=True).decode()


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
