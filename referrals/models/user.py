"""Staff accounts, their sign-in attempts and remember-me tokens."""
from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.columns import enum_column_type
from referrals.models.organisation import Practice, Team

if TYPE_CHECKING:
    from referrals.models.directory import DirectoryOrganisation


class Role(StrEnum):
    REFERRER = "referrer"
    CONNECTOR = "connector"
    MANAGER = "manager"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    # Issue 15: the community side. A partner answers for one directory organisation's
    # handovers and listings; a volunteer (or community champion) sees their own matches.
    PARTNER = "partner"
    VOLUNTEER = "volunteer"

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
    def belongs_to_organisation(self) -> bool:
        """A partner user acts for one directory organisation (User.organisation_id)."""
        return self is Role.PARTNER

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
    Role.PARTNER: "Partner organisation",
    Role.VOLUNTEER: "Volunteer",
}


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column_type(Role))
    password_hash: Mapped[str] = mapped_column(String(255))
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practice.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    # A partner's organisation in the directory (HSDS string id).
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("directory_organisation.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # How many people a connector can hold on their caseload at once.
    capacity: Mapped[int | None]
    phone: Mapped[str] = mapped_column(String(30), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A manager's own choice to be emailed their practice's monthly report.
    report_emails: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # Given by an administrator: row-level report exports with names and NHS numbers.
    identifiable_exports: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # Part of every session cookie and remember-me token of this user: a new value ends
    # them all (sign-out, a password change, deactivation). Empty matches nothing.
    session_token: Mapped[str] = mapped_column(
        String(64), default=new_session_token, server_default="")

    practice: Mapped[Practice | None] = relationship()
    team: Mapped[Team | None] = relationship()
    organisation: Mapped[DirectoryOrganisation | None] = relationship()
    # A connector away on any of these periods gets no new referrals on those days.
    away_periods: Mapped[list[AwayPeriod]] = relationship(
        back_populates="user", order_by="AwayPeriod.starts_on",
        foreign_keys="AwayPeriod.user_id", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the session: the id and the current session token,
        so the user loader (referrals/auth/sessions.py) can refuse a session that ended."""
        return f"{self.id}:{self.session_token}"

    def is_away_on(self, day: date) -> bool:
        """Away that day. Pages over many connectors load `away_periods` in one query
        (routing.team_workload), so this reads no more rows."""
        return any(p.starts_on <= day <= p.ends_on for p in self.away_periods)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class AwayPeriod(Base):
    """Days (inclusive) a connector is away, booked ahead or now: routing skips them."""

    __tablename__ = "away_period"
    __table_args__ = (
        # Routing and the hub ask "who in these connectors is away on day D".
        Index("ix_away_period_user_ends", "user_id", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="away_periods", foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def overlaps(self, starts_on: date, ends_on: date) -> bool:
        return self.starts_on <= ends_on and starts_on <= self.ends_on


class LoginAttempt(Base):
    """One sign-in attempt, kept by email so unknown addresses lock the same way."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        # Throttling (referrals/auth/throttle.py): one account from one address, and one
        # address across every account; each a range scan over recent rows.
        Index("ix_login_attempt_email_ip", "email", "ip", "succeeded", "at"),
        Index("ix_login_attempt_ip", "ip", "succeeded", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    succeeded: Mapped[bool]
    ip: Mapped[str] = mapped_column(String(45), default="")


class RememberToken(Base):
    """One "keep me signed in" cookie, good for one use (referrals/auth/remember.py).

    The cookie holds `<selector>:<secret>`; only a SHA-256 of the secret is kept. The
    token dies with the user's session token, so ending their sessions ends it too.
    """

    __tablename__ = "remember_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    selector: Mapped[str] = mapped_column(String(32), unique=True)
    # The secret is random and long, so a slow hash would add nothing.
    secret_hash: Mapped[str] = mapped_column(String(64))
    session_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Fixed when the user ticked the box; a rotated token keeps it.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
