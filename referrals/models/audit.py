"""Audit events: every read or change of a person's record."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from referrals.models.base import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        # "Who looked at this person?" and "what did this user do?"
        Index("ix_audit_event_patient_at", "patient_id", "at"),
        Index("ix_audit_event_actor_at", "actor_id", "at"),
        Index("ix_audit_event_at", "at"),
        # The self-referral rate limit: one client's recent referrals (only rows that
        # carry a client are indexed).
        Index("ix_audit_event_origin_at", "origin", "at",
              sqlite_where=text("origin IS NOT NULL"),
              postgresql_where=text("origin IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_label: Mapped[str] = mapped_column(String(120), default="")
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(45), default="")
    # A keyed hash of the client address of a public self-referral (directory/ratelimit.py).
    origin: Mapped[str | None] = mapped_column(String(80))
