"""Community champions (issue 15, point 3): what a champion suggests for the directory in
their patch, kept apart from the directory until a coordinator approves it."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.columns import enum_column_type
from referrals.models.community import Volunteer
from referrals.models.directory import HSDS_ID, Offer
from referrals.models.organisation import Team
from referrals.models.user import User


class SuggestionKind(StrEnum):
    NEW_GROUP = "new_group"
    CORRECTION = "correction"

    @property
    def label(self) -> str:
        return {"new_group": "A new group", "correction": "A correction"}[self.value]


class SuggestionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"pending": "Waiting for review", "approved": "Approved",
                "rejected": "Not approved"}[self.value]


class ChampionSuggestion(Base):
    """A champion's suggestion: a new group, or a correction to one listing. Nothing of it
    is public until a coordinator approves it (then the directory's own services make the
    change, with their own audit)."""

    __tablename__ = "champion_suggestion"
    __table_args__ = (Index("ix_champion_suggestion_team_status", "team_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    # Cleared when retention deletes the champion's record; the suggestion's words stay.
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer.id"), index=True)
    kind: Mapped[SuggestionKind] = mapped_column(enum_column_type(SuggestionKind))
    # A correction's listing.
    offer_id: Mapped[str | None] = mapped_column(ForeignKey("offer.id"))
    # A new group: its name, what it does, where and when, and how to reach it.
    name: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(300), default="")
    postcode: Mapped[str] = mapped_column(String(8), default="")
    when: Mapped[str] = mapped_column(String(500), default="")
    free: Mapped[bool | None] = mapped_column()
    cost: Mapped[str] = mapped_column(String(500), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    # A correction: what is wrong, in the champion's words (and, above, the description
    # and contact details it should have instead, when they gave them).
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SuggestionStatus] = mapped_column(
        enum_column_type(SuggestionStatus), default=SuggestionStatus.PENDING)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str] = mapped_column(Text, default="")
    # The offer an approved new group became.
    created_offer_id: Mapped[str | None] = mapped_column(HSDS_ID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    team: Mapped[Team] = relationship()
    volunteer: Mapped[Volunteer | None] = relationship()
    offer: Mapped[Offer | None] = relationship()
    reviewed_by: Mapped[User | None] = relationship()
