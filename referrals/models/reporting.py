"""What the reports need beyond the casework: deprivation by postcode, needs no offer
could meet, and the monthly reports stored for each practice."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.columns import enum_column_type
from referrals.models.organisation import Practice
from referrals.models.user import User


class PostcodeDeprivation(Base):
    """One postcode's Index of Multiple Deprivation decile (1 = the most deprived tenth),
    through its LSOA; loaded by `flask --app wsgi import-imd CSV`. A postcode not here
    has no decile: reports say "not available" rather than guess."""

    __tablename__ = "postcode_deprivation"

    # Normalised as referrals.postcode.normalise_postcode writes it ("KB1 1AB").
    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)
    lsoa_code: Mapped[str] = mapped_column(String(12), default="", server_default="")
    imd_decile: Mapped[int] = mapped_column(SmallInteger)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UnmetReason(StrEnum):
    """Why no offer suited the person: a short code, never free text, so the counts can
    go to funders and community champions."""

    NONE_NEARBY = "none-nearby"
    FULL = "full"
    WRONG_TIME = "wrong-time"
    COST = "cost"
    ACCESS = "access"
    LANGUAGE = "language"

    @property
    def label(self) -> str:
        return {
            "none-nearby": "None nearby", "full": "Full", "wrong-time": "Wrong time",
            "cost": "Cost", "access": "Access", "language": "Language",
        }[self.value]


class UnmetNeed(Base):
    """A connector's "no suitable offer found" for one of a person's needs."""

    __tablename__ = "unmet_need"
    __table_args__ = (
        Index("ix_unmet_need_recorded", "recorded_at"),
        Index("ix_unmet_need_referral", "referral_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    # An offer category code (referrals.directory.vocabulary.CATEGORIES).
    category: Mapped[str] = mapped_column(String(40))
    reason: Mapped[UnmetReason] = mapped_column(enum_column_type(UnmetReason))
    # The person's postcode district when it was recorded ("KB4"): the neighbourhood the
    # need is counted in, even if they later move.
    postcode_district: Mapped[str] = mapped_column(String(4), default="", server_default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when an offer was found after all; the need then no longer counts as open.
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recorded_by: Mapped[User | None] = relationship()


class StoredReport(Base):
    """A report PDF kept for a practice (the monthly one the scheduler makes)."""

    __tablename__ = "stored_report"
    __table_args__ = (UniqueConstraint("practice_id", "kind", "period_start",
                                       name="uq_stored_report_practice_kind_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"))
    kind: Mapped[str] = mapped_column(String(20), default="monthly")
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # inclusive
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    pages: Mapped[int] = mapped_column(default=1)
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary))

    practice: Mapped[Practice] = relationship()
