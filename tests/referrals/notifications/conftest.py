"""Fixtures for delivery across schedulers: a real SMTP server on loopback, and a
committed database (a temp SQLite file, or a fresh PostgreSQL database) that several
apps or processes share, with `seed()` to fill it with due and overdue work.

These tests need committed data that more than one engine can see, so they build
their own apps on their own database instead of using the rolled-back `db` fixture.
"""
from __future__ import annotations

import asyncio
import email
import socket
import threading
from datetime import date, timedelta

import flask_migrate
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from referrals import create_app
from referrals.extensions import db
from referrals.models import ContactChannel, FollowUp, Notification, ReferralStatus, Role, User
from tests.builders import Builders
from tests.conftest import fresh_database

MAIL_FROM = "Kindly <kindly@test.example>"


# --- an SMTP server on loopback ------------------------------------------------------


class Inbox:
    """What the SMTP server received. Set `delay` (seconds) to make it a slow server."""

    def __init__(self):
        self.messages: list[email.message.Message] = []
        self.delay = 0.0
        # Called (in the server's thread) while the client waits for the reply to DATA.
        self.on_message = None
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.on_message is not None:
            await asyncio.to_thread(self.on_message)
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
    """A fresh database that several apps (engines, processes) can share."""
    with fresh_database(request, tmp_path, "delivery") as url:
        yield url


@pytest.fixture
def make_scheduler_app(shared_database, smtp_server):
    """Build an app (its own engine) on the shared database, with SMTP on loopback.

    The first app built migrates the database.
    """
    _, port = smtp_server
    apps = []

    def build(**config):
        app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": shared_database,
                          "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
                          "SMTP_STARTTLS": False, "MAIL_FROM": MAIL_FROM, **config})
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


# --- data and what was delivered ---------------------------------------------------------


def seed(app, *, today: date) -> dict:
    """A team with two coordinators and three connectors, each with three accepted
    referrals whose first contact is 1-3 days late on `today`, and one follow-up each
    due `today`, 3 and 6 days before (the team's grace is 2 days).

    Delivers, on `today`: 3 digests, and to each coordinator 9 first-contact and
    6 follow-up escalations.
    """
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
                referral.first_contact_due = today - timedelta(days=1 + k)
                referral.first_contact_at = None
                db.session.add(FollowUp(referral_id=referral.id,
                                        due_on=today - timedelta(days=k * 3),
                                        method=ContactChannel.PHONE))
        db.session.commit()
        result = {"coordinators": [c.id for c in coordinators],
                  "connectors": [c.id for c in connectors]}
        db.session.remove()
        return result


SEEDED_DELIVERIES = 3 + 2 * (9 + 6)


def delivered(app):
    """(user_id, title, count) of every in-app notification, and each user's email."""
    with app.app_context():
        rows = db.session.execute(
            select(Notification.user_id, Notification.title, func.count())
            .group_by(Notification.user_id, Notification.title)
        ).all()
        emails = {user_id: email for user_id, email in db.session.execute(
            select(User.id, User.email))}
        db.session.remove()
    return rows, emails
