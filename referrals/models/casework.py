"""A connector's casework on a referral: contacts and scheduled follow-ups."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.columns import enum_column_type
from referrals.models.user import User


class ContactChannel(StrEnum):
    """How a connector contacted (or will contact) the person."""

    PHONE = "phone"
    FACE_TO_FACE = "face-to-face"
    VIDEO = "video"
    HOME_VISIT = "home-visit"
    TEXT = "text"
    EMAIL = "email"
    LETTER = "letter"

    @property
    def label(self) -> str:
        return {
            "phone": "Phone", "face-to-face": "Face to face", "video": "Video call",
            "home-visit": "Home visit", "text": "Text message", "email": "Email",
            "letter": "Letter",
        }[self.value]


class ContactOutcome(StrEnum):
    SPOKE = "spoke"
    NO_ANSWER = "no-answer"
    LEFT_MESSAGE = "left-message"
    WRONG_NUMBER = "wrong-number"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return {
            "spoke": "Spoke with them", "no-answer": "No answer",
            "left-message": "Left a message", "wrong-number": "Wrong number",
            "declined": "They declined",
        }[self.value]

    @property
    def reached(self) -> bool:
        """Whether this contact reached the person (it stops the first-contact clock)."""
        return self in (ContactOutcome.SPOKE, ContactOutcome.DECLINED)


class FollowUpStatus(StrEnum):
    SCHEDULED = "scheduled"
    DONE = "done"
    MISSED = "missed"
    RESCHEDULED = "rescheduled"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Contact(Base):
    __tablename__ = "contact"
    __table_args__ = (Index("ix_contact_referral_at", "referral_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    method: Mapped[ContactChannel] = mapped_column(enum_column_type(ContactChannel))
    outcome: Mapped[ContactOutcome] = mapped_column(enum_column_type(ContactOutcome))
    duration_minutes: Mapped[int | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recorded_by: Mapped[User | None] = relationship()


class FollowUp(Base):
    __tablename__ = "follow_up"
    __table_args__ = (
        # Due and overdue work across a caseload, and the scheduler's daily sweep.
        Index("ix_follow_up_status_due", "status", "due_on"),
        Index("ix_follow_up_referral", "referral_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    due_on: Mapped[date] = mapped_column(Date)
    method: Mapped[ContactChannel] = mapped_column(enum_column_type(ContactChannel))
    purpose: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[FollowUpStatus] = mapped_column(
        enum_column_type(FollowUpStatus), default=FollowUpStatus.SCHEDULED)
    # The follow-up this one replaced, when it was rescheduled.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("follow_up.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_note: Mapped[str] = mapped_column(Text, default="")
