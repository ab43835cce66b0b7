"""Connector teams (hubs) and the GP practices they serve."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.models.base import Base


class Team(Base):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # Working days from referral to the first contact with the person.
    first_contact_days: Mapped[int] = mapped_column(default=5)
    # Failed contact attempts before the workspace offers "unable to contact".
    max_contact_attempts: Mapped[int] = mapped_column(default=3, server_default="3")
    # Days a follow-up may be overdue before it is escalated to the coordinator.
    follow_up_grace_days: Mapped[int] = mapped_column(default=2, server_default="2")

    practices: Mapped[list[Practice]] = relationship(back_populates="team")

    def __repr__(self) -> str:
        return f"<Team {self.name}>"


class Practice(Base):
    __tablename__ = "practice"

    id: Mapped[int] = mapped_column(primary_key=True)
    ods_code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400), default="")
    postcode: Mapped[str] = mapped_column(String(8), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    pcn_name: Mapped[str] = mapped_column(String(200), default="")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))

    team: Mapped[Team | None] = relationship(back_populates="practices")

    def __repr__(self) -> str:
        return f"<Practice {self.ods_code}>"
