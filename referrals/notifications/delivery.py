"""Exactly-once delivery of reminders and escalations, claimed in the database.

Every message has a key unique per job, subject and day. Before sending, a
scheduler claims the key by inserting a DeliveryClaim in its own committed
transaction; a second scheduler's insert fails on the unique index, so it skips.
After a successful send the claim gets `sent_at` in the same transaction as the
in-app notification. A claim left unsent for DELIVERY_RETRY_AFTER_MINUTES (a
crash or failure between claim and send) is taken over by a later run with one
conditional UPDATE, so it is retried, never lost, and never sent twice in the
normal path. (If the process dies after the email left but before the commit, the
email goes again on retry: at least once beats never for an escalation.)

On SQLite every write transaction here starts with a write, so it waits for the
other scheduler's lock (busy_timeout) instead of failing with "database is locked".
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from referrals.extensions import db
from referrals.models import DeliveryClaim, User
from referrals.notifications import mail
from referrals.notifications.service import notify

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One reminder or escalation for one person, before it is claimed."""

    key: str
    user_id: int
    kind: str
    title: str
    body: str
    url: str = ""


def deliver(message: Message, *, now: datetime) -> bool:
    """Claim, then send `message` in-app (and by email when SMTP is configured).

    Returns True if this call delivered it; False if another run has it, already
    sent it, or the send failed (the claim then waits for a later run to retry).
    Commits: the caller must have committed its own work first.
    """
    claim = _claim(message.key, now=now)
    if claim is None:
        return False
    claim_id, token = claim
    try:
        sent = _send(claim_id, token, message, now=now)
    except Exception as exc:  # any failure leaves the claim for a later retry
        db.session.rollback()
        log.exception("Delivery %s failed; a later run will retry it", message.key)
        _record_failure(claim_id, exc)
        return False
    return sent


def _claim(key: str, *, now: datetime) -> tuple[int, str] | None:
    """Claim `key` for this run: a new claim, or a stale unsent one taken over."""
    db.session.commit()  # start from a fresh transaction whose first statement writes
    token = _claimant()
    try:
        claim_id = db.session.execute(
            insert(DeliveryClaim)
            .values(key=key, claimed_at=now, claimed_by=token, attempts=0, last_error="")
            .returning(DeliveryClaim.id)
        ).scalar_one()
        db.session.commit()
        return claim_id, token
    except IntegrityError:
        db.session.rollback()
    # Someone claimed it before. Take it over only if it was never sent and has
    # waited long enough that its claimant must have crashed or failed.
    retry_after = timedelta(minutes=current_app.config["DELIVERY_RETRY_AFTER_MINUTES"])
    claim_id = db.session.execute(
        update(DeliveryClaim)
        .where(DeliveryClaim.key == key, DeliveryClaim.sent_at.is_(None),
               DeliveryClaim.claimed_at < now - retry_after)
        .values(claimed_at=now, claimed_by=token)
        .returning(DeliveryClaim.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    db.session.commit()
    return (claim_id, token) if claim_id is not None else None


def _send(claim_id: int, token: str, message: Message, *, now: datetime) -> bool:
    # First statement: lock the claim row (PostgreSQL) or the database (SQLite) and
    # check it is still ours, so a takeover and this send can never both go out.
    still_ours = db.session.execute(
        update(DeliveryClaim)
        .where(DeliveryClaim.id == claim_id, DeliveryClaim.claimed_by == token,
               DeliveryClaim.sent_at.is_(None))
        .values(attempts=DeliveryClaim.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not still_ours:
        db.session.rollback()
        return False
    user = db.session.get(User, message.user_id)
    if user is not None and user.active:
        notify(user, message.kind, message.title, message.body, message.url, now=now)
        config = current_app.config
        if mail.mail_configured(config) and user.email:
            mail.send_email(config, to=user.email, subject=message.title,
                            body=_email_body(message, config))
    db.session.execute(
        update(DeliveryClaim).where(DeliveryClaim.id == claim_id)
        .values(sent_at=now, last_error="")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return True


def _record_failure(claim_id: int, exc: Exception) -> None:
    db.session.execute(
        update(DeliveryClaim)
        .where(DeliveryClaim.id == claim_id, DeliveryClaim.sent_at.is_(None))
        .values(attempts=DeliveryClaim.attempts + 1, last_error=repr(exc)[:2000])
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _claimant() -> str:
    """Who holds a claim: host, process and a per-claim token (threads share a pid)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _email_body(message: Message, config) -> str:
    body = message.body
    if message.url and config.get("PUBLIC_URL"):
        body += f"\n\nOpen it in {config['SERVICE_NAME']}: {config['PUBLIC_URL'].rstrip('/')}{message.url}"
    return body + f"\n\n-- \n{config['SERVICE_NAME']}: sign in to see the details.\n"
