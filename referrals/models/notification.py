"""In-app notifications, and the claims that make each reminder go out exactly once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referrals.models.base import Base, UTCDateTime, utcnow


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(300), default="")
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryClaim(Base):
    """One reminder or escalation, claimed before it is sent.

    `key` is unique per job, subject and day (e.g. "digest:user-7:2026-11-23"), so a
    second scheduler's claim fails on the unique index. `sent_at` stays empty until
    delivery succeeds; a claim left unsent (a crash between claim and send) is
    retried by the next run.
    """

    __tablename__ = "delivery_claim"
    __table_args__ = (Index("ix_delivery_claim_unsent", "sent_at", "claimed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str] = mapped_column(String(120), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
