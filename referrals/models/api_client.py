"""API clients: GP systems and gateways that use the FHIR API for their practices."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.organisation import Practice

api_client_practice = Table(
    "api_client_practice",
    Base.metadata,
    Column("api_client_id", ForeignKey("api_client.id"), primary_key=True),
    Column("practice_id", ForeignKey("practice.id"), primary_key=True),
)


class ApiClient(Base):
    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # SHA-256 of the bearer token: the token is random and long, so a slow hash adds nothing.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    practices: Mapped[list[Practice]] = relationship(secondary=api_client_practice,
                                                     order_by=Practice.ods_code)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def label(self) -> str:
        return f"api-client:{self.name}"

    def __repr__(self) -> str:
        return f"<ApiClient {self.name}>"
