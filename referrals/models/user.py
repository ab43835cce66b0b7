"""Staff accounts and sign-in attempts."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.columns import enum_column_type
from referrals.models.organisation import Practice, Team


class Role(StrEnum):
    REFERRER = "referrer"
    CONNECTOR = "connector"
    MANAGER = "manager"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def belongs_to_practice(self) -> bool:
        return self in (Role.REFERRER, Role.MANAGER)

    @property
    def belongs_to_team(self) -> bool:
        return self in (Role.CONNECTOR, Role.COORDINATOR)

    @property
    def holds_caseload(self) -> bool:
        """Connectors hold referrals (and have a capacity); coordinators assign them."""
        return self is Role.CONNECTOR


ROLE_LABELS = {
    Role.REFERRER: "Referrer",
    Role.CONNECTOR: "Connector",
    Role.MANAGER: "Practice manager",
    Role.COORDINATOR: "Hub coordinator",
    Role.ADMIN: "Administrator",
}


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column_type(Role))
    password_hash: Mapped[str] = mapped_column(String(255))
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practice.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # How many people a connector can hold on their caseload at once.
    capacity: Mapped[int | None]
    phone: Mapped[str] = mapped_column(String(30), default="")
    # A connector away on these dates (inclusive) gets no new referrals.
    away_from: Mapped[date | None] = mapped_column(Date)
    away_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    practice: Mapped[Practice | None] = relationship()
    team: Mapped[Team | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def is_away_on(self, day: date) -> bool:
        if self.away_from is None:
            return False
        return self.away_from <= day <= (self.away_until or self.away_from)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class LoginAttempt(Base):
    """One sign-in attempt, kept by email so unknown addresses lock the same way."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_email_at", "email", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    succeeded: Mapped[bool]
    ip: Mapped[str] = mapped_column(String(45), default="")
