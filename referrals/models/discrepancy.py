"""A difference between a person's stored details and those another practice sent.

A referral from a GP practice that matches a person of another practice on NHS number
alone does not change that person: the details as sent and as stored are kept here for
a coordinator to compare and resolve (referrals/intake/discrepancy.py).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.columns import enum_column_type
from referrals.models.organisation import Practice
from referrals.models.patient import Patient
from referrals.models.referral import Referral
from referrals.models.user import User


class Resolution(StrEnum):
    KEPT = "kept"  # the stored details stand
    ACCEPTED = "accepted"  # the person now has the details (and practice) as sent

    @property
    def label(self) -> str:
        return {"kept": "Kept the stored details",
                "accepted": "Accepted the details sent"}[self.value]


class PatientDiscrepancy(Base):
    __tablename__ = "patient_discrepancy"
    __table_args__ = (
        # The coordinator's list: open ones first, oldest first.
        Index("ix_patient_discrepancy_open", "resolved_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    # The practice that sent the referral, and the person's practice when it came.
    source_practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"))
    stored_practice_id: Mapped[int | None] = mapped_column(ForeignKey("practice.id"))
    # Field -> value (dates as ISO text), for the fields that differ.
    sent: Mapped[dict] = mapped_column(JSON, default=dict)
    stored: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolution: Mapped[Resolution | None] = mapped_column(enum_column_type(Resolution))

    patient: Mapped[Patient] = relationship()
    referral: Mapped[Referral] = relationship()
    source_practice: Mapped[Practice] = relationship(foreign_keys=[source_practice_id])
    stored_practice: Mapped[Practice | None] = relationship(foreign_keys=[stored_practice_id])
    resolved_by: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
