"""Email to people outside Kindly's staff (e.g. the offers a connector chose with someone).

One function so every such email leaves the same way: over SMTP when SMTP_HOST is set;
otherwise (development, the demo) it is not sent, but kept where a developer can read it.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping

from referrals.notifications.mail import mail_configured, send_email

log = logging.getLogger(__name__)

SENT = "sent"
NOT_SENT_NO_MAIL = "kept"  # no SMTP: kept in the development log, not sent


def deliver_email(config: Mapping, *, to: str, subject: str, body: str) -> str:
    """Send one plain-text email, or keep it when no mail server is configured; says which
    (SENT or NOT_SENT_NO_MAIL). Raises when a configured server refuses it.

    Merge note (issue 14): the development outbox (the accounts work) is the place to keep
    it; until then it goes to this module's log at INFO, body included."""
    if mail_configured(config):
        send_email(config, to=to, subject=subject, body=body)
        return SENT
    log.info("No SMTP_HOST: email to %s not sent.\nSubject: %s\n\n%s", to, subject, body)
    return NOT_SENT_NO_MAIL
