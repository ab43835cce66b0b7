"""Connections: the offers a connector puts a person in touch with, each followed to
attended or not (the offer-level closed loop)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Float, ForeignKey, Index, String, Text, event, false
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.columns import enum_column_type
from referrals.models.directory import Offer
from referrals.models.user import User


class ConnectionKind(StrEnum):
    """PRSB: a signpost gives the person the details; a referral is a warm handover."""

    SIGNPOST = "signpost"
    REFERRAL = "referral"

    @property
    def label(self) -> str:
        return {"signpost": "Signpost (gave them the details)",
                "referral": "Referral (warm handover to the provider)"}[self.value]

    @property
    def short_label(self) -> str:
        return self.value.capitalize()


class ConnectionStatus(StrEnum):
    SUGGESTED = "suggested"
    ACCEPTED = "accepted"
    # Issue 15: the partner organisation has taken the person on (a warm handover).
    # Not "accepted": that already means the person accepted the suggestion.
    TAKEN_ON = "taken_on"
    ATTENDED = "attended"
    DECLINED = "declined"
    DID_NOT_ATTEND = "did_not_attend"
    NO_CAPACITY = "no_capacity"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def has_outcome(self) -> bool:
        return self in OUTCOME_CONNECTION_STATUSES


# A connection with one of these has an outcome to report (a FHIR Procedure, the
# outcome letter). Only "did not attend" can still change: people often go the next
# week (referrals.matching.service.CONNECTION_MOVES).
OUTCOME_CONNECTION_STATUSES = frozenset({
    ConnectionStatus.ATTENDED, ConnectionStatus.DECLINED, ConnectionStatus.DID_NOT_ATTEND,
    ConnectionStatus.NO_CAPACITY, ConnectionStatus.WITHDRAWN,
})


class Connection(Base):
    __tablename__ = "connection"
    __table_args__ = (Index("ix_connection_referral", "referral_id", "created_at"),
                      Index("ix_connection_offer_status", "offer_id", "status"),
                      # FHIR Procedure _lastUpdated searches.
                      Index("ix_connection_updated_at", "updated_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    offer_id: Mapped[str] = mapped_column(ForeignKey("offer.id"))
    kind: Mapped[ConnectionKind] = mapped_column(enum_column_type(ConnectionKind))
    status: Mapped[ConnectionStatus] = mapped_column(
        enum_column_type(ConnectionStatus), default=ConnectionStatus.SUGGESTED)
    # The matcher's score and explanation when it was suggested (None: found by search).
    match_score: Mapped[float | None] = mapped_column(Float)
    match_explanation: Mapped[str] = mapped_column(Text, default="")
    # The date the person first went (attended) or the status was settled.
    started_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Issue 15: a warm handover's consent. The partner organisation sees the person's first
    # name, how they chose to be contacted and the handover note only when the person
    # agreed; without it, only that a handover exists.
    share_with_partner: Mapped[bool] = mapped_column(default=False, server_default=false())
    partner_contact: Mapped[str] = mapped_column(String(300), default="", server_default="")
    handover_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    offer: Mapped[Offer] = relationship()

    # As on Referral: an update based on a stale read fails instead of overwriting.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    created_by: Mapped[User | None] = relationship()
    events: Mapped[list[ConnectionEvent]] = relationship(
        back_populates="connection", order_by="(ConnectionEvent.at, ConnectionEvent.id)")


class ConnectionEvent(Base):
    """Append-only: each status a connection passed through, who said so and when."""

    __tablename__ = "connection_event"
    # Reports: the offers that answered "no capacity" in a period.
    __table_args__ = (Index("ix_connection_event_to_status_at", "to_status", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    on: Mapped[date | None] = mapped_column(Date)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    from_status: Mapped[ConnectionStatus | None] = mapped_column(
        enum_column_type(ConnectionStatus))
    to_status: Mapped[ConnectionStatus] = mapped_column(enum_column_type(ConnectionStatus))
    note: Mapped[str] = mapped_column(String(2000), default="")

    connection: Mapped[Connection] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


@event.listens_for(Session, "before_flush")
def _connection_events_are_append_only(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, ConnectionEvent) and (
            obj in session.deleted or session.is_modified(obj, include_collections=False)
        ):
            raise ValueError("connection events are append-only")
