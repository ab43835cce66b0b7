"""Email to people outside Kindly's staff (e.g. the offers a connector chose with someone).

Every such email leaves through the outbox (referrals/accounts/outbox.py), like account
emails: with SMTP a job sends it after the change that wrote it has committed, retries if
the server fails, and then blanks its text; without SMTP (development, the demo) it waits
in the outbox, where the demo's administrator can read it. Production needs SMTP.
"""
from __future__ import annotations

from collections.abc import Mapping

from referrals.accounts import outbox
from referrals.notifications.mail import mail_configured

SENT = "sent"  # queued for the mail server
NOT_SENT_NO_MAIL = "kept"  # no SMTP: kept in the development outbox, not sent


def deliver_email(config: Mapping, *, to: str, subject: str, body: str) -> str:
    """Queue one plain-text email; says whether a mail server will send it (SENT) or it
    stays in the development outbox (NOT_SENT_NO_MAIL). Flushes; the caller commits."""
    outbox.write(to=to, subject=subject, body=body)
    return SENT if mail_configured(config) else NOT_SENT_NO_MAIL
