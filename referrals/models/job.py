"""Jobs: slow or fallible work (rendering a PDF, say) that runs after the change that
caused it has committed, claimed in the database so any one process may run it."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.columns import enum_column_type


class JobStatus(StrEnum):
    PENDING = "pending"  # waiting for its time (a retry waits out its back-off)
    RUNNING = "running"  # claimed; a claim older than the lease is taken over
    DONE = "done"
    FAILED = "failed"  # gave up after the last attempt; the error says why


class Job(Base):
    __tablename__ = "job"
    # The runners' one query: what is due, oldest first.
    __table_args__ = (Index("ix_job_due", "status", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    # What the job is for, unique: the same cause never makes two jobs (two letters).
    key: Mapped[str] = mapped_column(String(160), unique=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(enum_column_type(JobStatus),
                                              default=JobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claim_token: Mapped[str] = mapped_column(String(32), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<Job {self.key} {self.status}>"
