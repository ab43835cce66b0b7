"""Account emails (invitations, reset links): written to the outbox, then sent.

With SMTP configured, a job (referrals/jobs.py) sends each message after the change that
wrote it has committed, retries if the server fails, and then blanks the body, so the
link in it does not outlive its delivery. Without SMTP (the default for `make run`) the
message stays in the outbox, where an administrator reads it (/admin/outbox): the demo
works end to end. Production refuses to start without SMTP (referrals/config.py).
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from referrals import jobs
from referrals.extensions import db
from referrals.models import OutboxMessage, utcnow
from referrals.notifications import mail

JOB_KIND = "account-email"
LIST_LIMIT = 200


def write(*, to: str, subject: str, body: str, now: datetime | None = None) -> OutboxMessage:
    """Add a message for `to`; with SMTP, queue the job that sends it. Flushes."""
    message = OutboxMessage(to=to, subject=subject[:200], body=body, created_at=now or utcnow())
    db.session.add(message)
    db.session.flush()
    if mail.mail_configured(current_app.config):
        jobs.enqueue(JOB_KIND, f"{JOB_KIND}:{message.id}", {"message_id": message.id}, now=now)
    return message


def development_outbox() -> bool:
    """Is the outbox where account emails end up (no SMTP), so it is worth reading?"""
    return not mail.mail_configured(current_app.config)


def recent(limit: int = LIST_LIMIT) -> list[OutboxMessage]:
    return list(db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))


def register_jobs() -> None:
    jobs.register(JOB_KIND, prepare=_prepare, store=_store)


def _prepare(payload: dict):
    """Read the message; return the send, which runs with no transaction open."""
    message = db.session.get(OutboxMessage, payload["message_id"])
    if message is None or message.sent_at is not None:
        return None
    config = current_app.config
    to, subject, body = message.to, message.subject, message.body

    def send():
        mail.send_email(config, to=to, subject=subject, body=body)
        return True

    return send


def _store(payload: dict, sent) -> None:
    if sent:
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == payload["message_id"])
            .values(sent_at=utcnow(), body="")
            .execution_options(synchronize_session=False))
