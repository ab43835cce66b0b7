"""Exactly-once delivery of reminders and escalations, claimed in the database.

Every message has a key unique per job, subject and day. Before sending, a
scheduler claims the key by inserting a DeliveryClaim in its own committed
transaction; a second scheduler's insert fails on the unique index, so it skips.
Sending then takes three short steps, so no transaction (on SQLite: no database
lock) is held while an SMTP server talks:

1. count the attempt on the claim, if it is still ours, and commit;
2. send the email, with no transaction open;
3. set `sent_at` and add the in-app notification in one transaction, again only
   if the claim is still ours.

A claim left unsent for DELIVERY_RETRY_AFTER_MINUTES (a crash or failure between
claim and send) is taken over by a later run with one conditional UPDATE, so it is
retried, never lost, and the in-app notification is never doubled. (If a process
dies after an email left but before step 3, that email goes again on retry: at
least once beats never for an escalation.) A claim or step that meets another
scheduler's lock past SQLite's busy timeout gives up quietly; a later run retries.
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
from sqlalchemy.exc import IntegrityError, OperationalError

from referrals.extensions import db
from referrals.models import DeliveryClaim, User
from referrals.notifications import mail
from referrals.notifications.service import notify

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One reminder or escalation for one person, before it is claimed.

    `body` is for the in-app notification, read behind sign-in by the hub. An email
    leaves Kindly, so it carries only `email_body`: references, counts, dates and
    codes, never words about a person nor their name (referrals.sharing.EMAIL). The
    title is the email's subject and must hold no more than that either.
    """

    key: str
    user_id: int
    kind: str
    title: str
    body: str
    url: str = ""
    email_body: str = ""


def deliver(message: Message, *, now: datetime) -> bool:
    """Claim, then send `message` in-app (and by email when SMTP is configured).

    Returns True if this call delivered it; False if another run has it, already
    sent it, or the send failed (the claim then waits for a later run to retry).
    Commits: the caller must have committed its own work first.
    """
    try:
        claim = _claim(message.key, now=now)
    except OperationalError:  # SQLite: another scheduler kept the lock past busy_timeout
        db.session.rollback()
        log.warning("Delivery %s not claimed: the database was busy; a later run will", message.key)
        return False
    if claim is None:
        return False
    claim_id, token = claim
    try:
        return _send(claim_id, token, message, now=now)
    except Exception as exc:  # any failure leaves the claim for a later retry
        db.session.rollback()
        log.exception("Delivery %s failed; a later run will retry it", message.key)
        _record_failure(claim_id, exc)
        return False


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
    ours = (DeliveryClaim.id == claim_id, DeliveryClaim.claimed_by == token,
            DeliveryClaim.sent_at.is_(None))
    # 1. Count the attempt, and read whom to tell, in one short transaction.
    if db.session.execute(
        update(DeliveryClaim).where(*ours).values(attempts=DeliveryClaim.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount != 1:
        db.session.rollback()
        return False
    user = db.session.get(User, message.user_id)
    active = user is not None and user.active
    address = user.email if active else ""
    db.session.commit()

    # 2. The email, with no transaction open.
    config = current_app.config
    if address and mail.mail_configured(config) and not config.get("NOTIFICATIONS_IN_APP_ONLY"):
        mail.send_email(config, to=address, subject=message.title,
                        body=_email_body(message, config))

    # 3. Sent, and the in-app notification, together; unless the claim was taken
    # over meanwhile (a send slower than the retry window), when the taker notifies.
    if db.session.execute(
        update(DeliveryClaim).where(*ours).values(sent_at=now, last_error="")
        .execution_options(synchronize_session=False)
    ).rowcount != 1:
        db.session.rollback()
        log.warning("Delivery %s was taken over while sending", message.key)
        return False
    if active:
        notify(db.session.get(User, message.user_id), message.kind, message.title,
               message.body, message.url, now=now)
    db.session.commit()
    return True


def _record_failure(claim_id: int, exc: Exception) -> None:
    # The attempt was counted in step 1; keep why it failed for whoever looks.
    try:
        db.session.execute(
            update(DeliveryClaim)
            .where(DeliveryClaim.id == claim_id, DeliveryClaim.sent_at.is_(None))
            .values(last_error=repr(exc)[:2000])
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except OperationalError:
        db.session.rollback()


def _claimant() -> str:
    """Who holds a claim: host, process and a per-claim token (threads share a pid)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _email_body(message: Message, config) -> str:
    # Never the in-app body: only what was written for email.
    body = message.email_body or f"You have a new notification in {config['SERVICE_NAME']}."
    if message.url and config.get("PUBLIC_URL"):
        body += f"\n\nOpen it in {config['SERVICE_NAME']}: {config['PUBLIC_URL'].rstrip('/')}{message.url}"
    return body + f"\n\n-- \n{config['SERVICE_NAME']}: sign in to see the details.\n"
