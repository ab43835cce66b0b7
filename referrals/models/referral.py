"""The referral aggregate: the referral, its coded reasons and its event history."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint, event, text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, Session, mapped_column, query_expression, relationship

from referrals.models.api_client import ApiClient
from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.casework import Contact, FollowUp
from referrals.models.columns import enum_column_type
from referrals.models.connection import Connection
from referrals.models.organisation import Practice, Team
from referrals.models.outcome import Measurement, OutcomeLetter
from referrals.models.patient import Patient
from referrals.models.user import User

if TYPE_CHECKING:
    from referrals.models.addition import ReferralAddition


class ReferralStatus(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    DECLINED = "declined"
    UNABLE_TO_CONTACT = "unable_to_contact"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset(
    {ReferralStatus.RECEIVED, ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS}
)
_OPEN_SQL = ", ".join(f"'{s.value}'" for s in sorted(OPEN_STATUSES))


class Urgency(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class ConsentGivenBy(StrEnum):
    PERSON = "person"
    REPRESENTATIVE = "representative"

    @property
    def label(self) -> str:
        return {
            "person": "The person themselves",
            "representative": "Someone acting for them (for example a lasting power of attorney)",
        }[self.value]


class ConsentMethod(StrEnum):
    VERBAL_IN_PERSON = "verbal-in-person"
    VERBAL_PHONE = "verbal-phone"
    VIDEO = "video"
    WRITTEN = "written"

    @property
    def label(self) -> str:
        return {
            "verbal-in-person": "Verbally, in person",
            "verbal-phone": "Verbally, by phone",
            "video": "By video call",
            "written": "In writing or online",
        }[self.value]


class Referral(Base):
    __tablename__ = "referral"
    __table_args__ = (
        # Practice list pages: newest first, optionally by status (keyset paging).
        Index("ix_referral_practice_created", "practice_id", "created_at", "id"),
        Index("ix_referral_practice_status_created", "practice_id", "status", "created_at", "id"),
        Index("ix_referral_team_status_created", "team_id", "status", "created_at", "id"),
        # Reports: a hub's referrals received in a period, whatever their status.
        Index("ix_referral_team_created", "team_id", "created_at"),
        # Routing: a connector's open caseload, and their referrals made recently (and the
        # newest), without reading their whole history.
        Index("ix_referral_connector_status", "connector_id", "status"),
        Index("ix_referral_connector_created", "connector_id", "created_at"),
        # The scheduler's overdue first contacts: only referrals still waiting for one.
        Index("ix_referral_first_contact_due", "first_contact_due",
              sqlite_where=text("first_contact_at IS NULL"),
              postgresql_where=text("first_contact_at IS NULL")),
        # FHIR _lastUpdated searches, within the client's practices.
        Index("ix_referral_practice_updated", "practice_id", "updated_at"),
        # One open referral per person, enforced by the database as well as the service.
        Index(
            "uq_referral_one_open_per_patient",
            "patient_id",
            unique=True,
            sqlite_where=text(f"status IN ({_OPEN_SQL})"),
            postgresql_where=text(f"status IN ({_OPEN_SQL})"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # KND-<year>-<six digits>; set from the id in the same flush that creates the row.
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"))
    referrer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    connector_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    what_matters: Mapped[str] = mapped_column(Text, default="")
    risks: Mapped[list[str]] = mapped_column(JSON, default=list)
    no_known_risks: Mapped[bool] = mapped_column(default=False)
    urgency: Mapped[Urgency] = mapped_column(enum_column_type(Urgency), default=Urgency.ROUTINE)

    consent_given_by: Mapped[ConsentGivenBy] = mapped_column(enum_column_type(ConsentGivenBy))
    consent_method: Mapped[ConsentMethod] = mapped_column(enum_column_type(ConsentMethod))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)

    status: Mapped[ReferralStatus] = mapped_column(
        enum_column_type(ReferralStatus), default=ReferralStatus.RECEIVED
    )
    # Where it came from: the practice form, a GP system over FHIR, or the person.
    source: Mapped[str] = mapped_column(String(20), default="form")
    # A referral sent by a GP system names its clinician, who has no Kindly account.
    referrer_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    referrer_identifier: Mapped[str] = mapped_column(String(120), default="", server_default="")
    api_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_client.id"))
    # First contact: due by the end of this working day; stopped by the first contact made.
    first_contact_due: Mapped[date | None] = mapped_column(Date)
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What suits the person, recorded by the connector for matching: "TU-morning" slots,
    # free only, how far they will travel, venue access needs and language (ISO 639).
    availability: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    prefers_free: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    max_distance_km: Mapped[float | None]
    access_needs: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")
    # For the outcome letter: what the connector asks of the GP ("" = no actions), and
    # the person's wish that only coded information go back to the practice.
    gp_actions: Mapped[str] = mapped_column(Text, default="", server_default="")
    coded_only: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # Moved on by every change (referrals/revisions.py, which also logs it as a
    # ReferralChange); the FHIR meta.versionId and ETag of the ServiceRequest and Task.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    patient: Mapped[Patient] = relationship()
    practice: Mapped[Practice] = relationship()
    referrer: Mapped[User | None] = relationship(foreign_keys=[referrer_id])
    connector: Mapped[User | None] = relationship(foreign_keys=[connector_id])
    team: Mapped[Team | None] = relationship()
    api_client: Mapped[ApiClient | None] = relationship()
    reasons: Mapped[list[ReferralReason]] = relationship(
        back_populates="referral", cascade="all, delete-orphan", order_by="ReferralReason.id"
    )
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="(ReferralEvent.at, ReferralEvent.id)"
    )
    contacts: Mapped[list[Contact]] = relationship(order_by="(Contact.at, Contact.id)")
    # Not a column: whether a patient discrepancy waits for a coordinator, when the query
    # that loaded the referral asked (intake.discrepancy.any_open); else None (unknown).
    has_open_discrepancy: Mapped[bool | None] = query_expression()
    follow_ups: Mapped[list[FollowUp]] = relationship(order_by="(FollowUp.due_on, FollowUp.id)")
    measurements: Mapped[list[Measurement]] = relationship(
        order_by="(Measurement.completed_on, Measurement.id)")
    letters: Mapped[list[OutcomeLetter]] = relationship(order_by="OutcomeLetter.number")
    connections: Mapped[list[Connection]] = relationship(
        order_by="(Connection.created_at, Connection.id)")
    # What practices added instead of referring again (models/addition.py).
    additions: Mapped[list[ReferralAddition]] = relationship(
        back_populates="referral", order_by="(ReferralAddition.created_at, ReferralAddition.id)")

    # Every UPDATE of the row says `WHERE version = <the version this session read>`: a
    # write based on what someone else has since changed fails (StaleDataError) instead
    # of overwriting it. The application sets the new number (revisions.touch), so one
    # change is one version, however many flushes it takes.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    @property
    def is_self_referral(self) -> bool:
        return self.source == "self"

    @property
    def risks_stated(self) -> bool:
        """Has anyone said what the risks to visitors are, or that there are none?

        Not yet for a self-referral or a GP system's referral without Kindly's risk
        extensions, until a connector records them (caseload.service.record_risks).
        """
        return bool(self.risks) or self.no_known_risks

    def __repr__(self) -> str:
        return f"<Referral {self.reference} {self.status}>"


class ReferralReason(Base):
    """One coded reason for a referral; `detail` holds the words for "other"."""

    __tablename__ = "referral_reason"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    detail: Mapped[str] = mapped_column(String(500), default="")

    referral: Mapped[Referral] = relationship(back_populates="reasons")


class ReferralChange(Base):
    """One version of a referral: who moved it on, when, and what changed, in a phrase
    with no free text (it explains a conflict: "Someone else changed this referral")."""

    __tablename__ = "referral_change"
    # Two writers can never both make version N: the loser's whole change rolls back.
    __table_args__ = (UniqueConstraint("referral_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    version: Mapped[int]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_label: Mapped[str] = mapped_column(String(120), default="")
    summary: Mapped[str] = mapped_column(String(200))

    actor: Mapped[User | None] = relationship()

    @property
    def actor_name(self) -> str:
        return self.actor.name if self.actor else self.actor_label or "Kindly"


class ReferralEvent(Base):
    """An append-only record of one status change (or the referral's creation)."""

    __tablename__ = "referral_event"
    __table_args__ = (Index("ix_referral_event_referral_at", "referral_id", "at"),
                      # Reports: the referrals closed in a period, found by their event.
                      Index("ix_referral_event_to_status_at", "to_status", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Who acted when it was not a signed-in user (an API client, the scheduler).
    actor_label: Mapped[str] = mapped_column(String(120), default="")
    from_status: Mapped[ReferralStatus | None] = mapped_column(enum_column_type(ReferralStatus))
    to_status: Mapped[ReferralStatus] = mapped_column(enum_column_type(ReferralStatus))
    reason: Mapped[str] = mapped_column(Text, default="")
    # "status" for a move in the state machine; "assignment" when the connector changes
    # (from_status == to_status then).
    kind: Mapped[str] = mapped_column(String(20), default="status", server_default="status")

    referral: Mapped[Referral] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    @property
    def actor_name(self) -> str:
        return self.actor.name if self.actor else self.actor_label or "Kindly"


@event.listens_for(Session, "before_flush")
def _events_are_append_only(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (ReferralEvent, ReferralChange)) and (
            obj in session.deleted or session.is_modified(obj, include_collections=False)
        ):
            raise ValueError("referral events and changes are append-only")
