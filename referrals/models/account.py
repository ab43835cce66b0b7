"""Account links (invitations and password resets), reset requests, and the mail outbox."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.columns import enum_column_type
from referrals.models.user import User


class TokenPurpose(StrEnum):
    INVITE = "invite"  # a new account's first password
    RESET = "reset"  # a forgotten or forced-reset password


class AccountToken(Base):
    """One emailed link to set a password (referrals/accounts/tokens.py).

    Only a SHA-256 of the link's secret is kept, so a copy of the table sets nobody's
    password. Good once, until `expires_at`; a newer link for the same user deletes this.
    """

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column_type(TokenPurpose))
    # The secret is random and long, so a slow hash would add nothing.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who sent it; None when the person asked for it themselves (forgot password).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class PasswordResetRequest(Base):
    """One "forgot password" request, kept by the email typed (known or not) so the
    throttle counts unknown addresses exactly like real ones."""

    __tablename__ = "password_reset_request"
    __table_args__ = (
        Index("ix_password_reset_request_email_at", "email", "at"),
        Index("ix_password_reset_request_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """An account email (invitation, reset link) as Kindly wrote it.

    Without SMTP it stays here for an administrator to read (/admin/outbox), so the demo
    works end to end. With SMTP a job sends it, then blanks the body: the link in it
    must not outlive its delivery in the database.
    """

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
