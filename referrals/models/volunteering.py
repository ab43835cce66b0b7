"""Issue 15 (matching): how a running volunteer match goes (check-ins), and safeguarding
concerns volunteers and partners raise about a person they support."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.columns import enum_column_type
from referrals.models.community import VolunteerMatch
from referrals.models.organisation import Team
from referrals.models.user import User


class CheckInRating(StrEnum):
    """How the match is going, as the connector heard it."""

    GOING_WELL = "going_well"
    SOME_CONCERNS = "some_concerns"
    NOT_WORKING = "not_working"

    @property
    def label(self) -> str:
        return {"going_well": "Going well", "some_concerns": "Some concerns",
                "not_working": "Not working"}[self.value]


class VolunteerCheckIn(Base):
    """One check-in on a running match: how it is going, and when the next one is due."""

    __tablename__ = "volunteer_check_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("volunteer_match.id"), index=True)
    rating: Mapped[CheckInRating] = mapped_column(enum_column_type(CheckInRating))
    note: Mapped[str] = mapped_column(Text, default="")
    next_check_in_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    match: Mapped[VolunteerMatch] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class SafeguardingConcern(Base):
    """A concern about a person, raised by the volunteer of one of their matches or by a
    partner about one of their organisation's handovers (exactly one of the two)."""

    __tablename__ = "safeguarding_concern"
    __table_args__ = (Index("ix_safeguarding_concern_team_raised", "team_id", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    match_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_match.id"))
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connection.id"))
    # The referral the person is on, when there is one (for the hub to open it).
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"), index=True)
    concern: Mapped[str] = mapped_column(Text)
    immediate_danger: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Whether the hub's address was emailed (no coordinator of the team signed in that day).
    hub_emailed: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    contact_phone: Mapped[str] = mapped_column(String(30), default="")

    team: Mapped[Team] = relationship()
    raised_by: Mapped[User] = relationship()
