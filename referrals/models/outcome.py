"""Outcome measures recorded for a referral, and the outcome letters sent back to the GP."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column, relationship

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.columns import enum_column_type
from referrals.models.user import User


class Timepoint(StrEnum):
    BASELINE = "baseline"
    FOLLOW_UP = "follow-up"
    CLOSING = "closing"

    @property
    def label(self) -> str:
        return {"baseline": "Baseline", "follow-up": "Follow-up", "closing": "Closing"}[self.value]


class CompletionMode(StrEnum):
    SELF = "self"
    ASSISTED = "assisted"

    @property
    def label(self) -> str:
        return {"self": "Self-completed", "assisted": "Connector-assisted"}[self.value]


class Measurement(Base):
    """One completion of an outcome instrument (referrals/outcomes) for a referral."""

    __tablename__ = "measurement"
    __table_args__ = (Index("ix_measurement_referral", "referral_id", "completed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    # The instrument's code and version as loaded from its definition file.
    instrument: Mapped[str] = mapped_column(String(40))
    instrument_version: Mapped[str] = mapped_column(String(20), default="")
    timepoint: Mapped[Timepoint] = mapped_column(enum_column_type(Timepoint))
    mode: Mapped[CompletionMode] = mapped_column(enum_column_type(CompletionMode))
    completed_on: Mapped[date] = mapped_column(Date)
    # Item id -> the answer's value, or None where the item was explicitly skipped.
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    # Score id -> value (None when a skipped item leaves it unscorable).
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recorded_by: Mapped[User | None] = relationship()


class LetterTrigger(StrEnum):
    COMPLETED = "completed"
    DECLINED = "declined"
    UNABLE_TO_CONTACT = "unable_to_contact"
    ON_DEMAND = "on-demand"
    BATCH = "batch"


class OutcomeLetter(Base):
    """One immutable version of a referral's outcome letter (the PDF and its hash).

    Only the practice's read receipt (`read_at`, `read_by_id`) and who marked its GP
    actions done (`actions_done_at`, `actions_done_by_id`) may change afterwards."""

    __tablename__ = "outcome_letter"
    __table_args__ = (
        UniqueConstraint("referral_id", "number", name="uq_outcome_letter_referral_number"),
        Index("ix_outcome_letter_practice_read", "practice_id", "read_at", "created_at"),
        # The practice's "needs action" count, asked on every page a practice user sees.
        Index("ix_outcome_letter_practice_actions", "practice_id", "has_actions",
              "actions_done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    # Copied from the referral so the practice's inbox needs no join to scope it.
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"))
    number: Mapped[int] = mapped_column(default=1)  # version: 1, 2, 3 … per referral
    trigger: Mapped[LetterTrigger] = mapped_column(enum_column_type(LetterTrigger))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_label: Mapped[str] = mapped_column(String(120), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    pages: Mapped[int] = mapped_column(default=1)
    # True when the person asked that only coded information be shared: no free text.
    coded_only: Mapped[bool] = mapped_column(default=False)
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The letter asks the practice to do something ("Plan and requested actions" was not
    # empty when it was made); it needs action until someone there marks them done.
    has_actions: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    actions_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actions_done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    read_by: Mapped[User | None] = relationship(foreign_keys=[read_by_id])
    actions_done_by: Mapped[User | None] = relationship(foreign_keys=[actions_done_by_id])


_LETTER_MUTABLE = frozenset({"read_at", "read_by_id", "read_by", "actions_done_at",
                             "actions_done_by_id", "actions_done_by"})


@event.listens_for(Session, "before_flush")
def _letters_are_immutable(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if not isinstance(obj, (OutcomeLetter, Measurement)):
            continue
        if obj in session.deleted:
            raise ValueError(f"{type(obj).__name__} rows are never deleted")
        if isinstance(obj, OutcomeLetter):
            from sqlalchemy import inspect

            changed = {a.key for a in inspect(obj).attrs if a.history.has_changes()}
            if changed - _LETTER_MUTABLE:
                raise ValueError(f"outcome letters are immutable (tried {sorted(changed)})")
