"""Email over SMTP, when SMTP_HOST is configured; otherwise Kindly notifies in-app only."""
from __future__ import annotations

import smtplib
from collections.abc import Mapping
from email.message import EmailMessage


def mail_configured(config: Mapping) -> bool:
    return bool(config.get("SMTP_HOST"))


def send_email(config: Mapping, *, to: str, subject: str, body: str) -> None:
    """Send one plain-text email through the configured SMTP server (raises on failure)."""
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]),
                      timeout=config.get("SMTP_TIMEOUT", 20)) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(message)
