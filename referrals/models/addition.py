"""Information a practice adds to a person's open referral instead of referring again."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.columns import enum_column_type
from referrals.models.organisation import Practice
from referrals.models.referral import Referral, Urgency
from referrals.models.user import User


class ReferralAddition(Base):
    """What a GP sent when the referral form was refused as a duplicate: an event on the
    open referral's timeline for its connector. The practice that sent it may be another
    one than the referral's own (from_practice_id), which then never sees the referral."""

    __tablename__ = "referral_addition"
    __table_args__ = (Index("ix_referral_addition_referral_at", "referral_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    from_practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    author_label: Mapped[str] = mapped_column(String(120), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    # Reason codes (referrals.reasons) the sender ticked; may repeat the referral's own.
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The urgency the sender gave, when they gave one.
    urgency: Mapped[Urgency | None] = mapped_column(enum_column_type(Urgency))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="additions")
    from_practice: Mapped[Practice] = relationship()
    author: Mapped[User | None] = relationship()

    @property
    def at(self) -> datetime:
        """When it was sent (the timeline sorts every entry by `at`)."""
        return self.created_at

    @property
    def author_name(self) -> str:
        return self.author.name if self.author else self.author_label or "The practice"
