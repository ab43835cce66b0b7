"""The community side (issue 15): volunteers, their matches with people, the hours they
give, and the calls the hub's phone line takes."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, String, Text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.columns import enum_column_type
from referrals.models.organisation import Team
from referrals.models.referral import Referral
from referrals.models.user import User


class VolunteerOffer(StrEnum):
    """What a volunteer can give, and what a person (or a caller) asks a volunteer for."""

    BEFRIENDING_CALLS = "befriending_calls"
    LIFTS = "lifts"
    SHOPPING = "shopping"
    WALKING_BUDDY = "walking_buddy"
    GROUP_HELPER = "group_helper"
    SKILLS = "skills"

    @property
    def label(self) -> str:
        return {"befriending_calls": "Befriending phone calls", "lifts": "Lifts",
                "shopping": "Shopping", "walking_buddy": "Walking buddy",
                "group_helper": "Helping at a group", "skills": "Skills"}[self.value]


class VolunteerStatus(StrEnum):
    APPLIED = "applied"  # signed up, waiting for a coordinator's review and checks
    APPROVED = "approved"
    DECLINED = "declined"
    LAPSED = "lapsed"  # a check ran out, or they stepped back: never matched until renewed
    LEFT = "left"

    @property
    def label(self) -> str:
        return {"applied": "Awaiting checks", "approved": "Approved", "declined": "Declined",
                "lapsed": "Lapsed", "left": "Left"}[self.value]


class Volunteer(Base):
    """Someone who answered "how can you help?". They get a VOLUNTEER account (user_id)
    only when a coordinator approves them. No DBS certificate or image is ever stored:
    only that the check was done, when and by whom."""

    __tablename__ = "volunteer"
    __table_args__ = (Index("ix_volunteer_team_status", "team_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(30), default="")
    postcode: Mapped[str] = mapped_column(String(8), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # VolunteerOffer values; `skills` says which skills when SKILLS is among them.
    offers: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[str] = mapped_column(Text, default="")
    # When they are free: "mon-morning", "tue-afternoon", "sat-evening"… plus their words.
    availability: Mapped[list[str]] = mapped_column(JSON, default=list)
    availability_note: Mapped[str] = mapped_column(Text, default="")
    # How far they will go for a lift, a walk or a visit.
    travel_km: Mapped[float | None] = mapped_column(Float)
    consent_to_contact: Mapped[bool] = mapped_column(default=False)
    status: Mapped[VolunteerStatus] = mapped_column(
        enum_column_type(VolunteerStatus), default=VolunteerStatus.APPLIED)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    references_checked_on: Mapped[date | None] = mapped_column(Date)
    references_checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    dbs_checked_on: Mapped[date | None] = mapped_column(Date)
    dbs_checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Issue 15 (volunteers): who checked, when it was someone without an account (a
    # referee-checking colleague, the DBS umbrella body); empty: the *_by user did.
    references_checked_by_name: Mapped[str] = mapped_column(
        String(200), default="", server_default="")
    dbs_checked_by_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # A community champion's patch: postcode districts ("LS6", "LS16"); empty: not one.
    champion_districts: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Retention: records untouched for the configured time are deleted (audited).
    last_active_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    team: Mapped[Team] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    references_checked_by: Mapped[User | None] = relationship(
        foreign_keys=[references_checked_by_id])
    dbs_checked_by: Mapped[User | None] = relationship(foreign_keys=[dbs_checked_by_id])

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def is_champion(self) -> bool:
        return bool(self.champion_districts)


class VolunteerRequest(Base):
    """A person needs a volunteer (a weekly call, a lift…): from a referral's connector, or
    from a call to the hub's phone line (then no referral)."""

    __tablename__ = "volunteer_request"
    __table_args__ = (Index("ix_volunteer_request_team_status", "team_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"), index=True)
    need: Mapped[VolunteerOffer] = mapped_column(enum_column_type(VolunteerOffer))
    # For a request without a referral: who, how to reach them, and where.
    given_name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    postcode: Mapped[str] = mapped_column(String(8), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # When the person would like it ("mon-morning"…), as Volunteer.availability.
    when: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, matched, closed
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    team: Mapped[Team] = relationship()
    referral: Mapped[Referral | None] = relationship()
    created_by: Mapped[User | None] = relationship()


class MatchStatus(StrEnum):
    PROPOSED = "proposed"  # the connector proposed it; the volunteer has not answered
    ACCEPTED = "accepted"  # the volunteer said yes: the match is running
    DECLINED = "declined"  # the volunteer said no
    ENDED = "ended"  # either side ended it; the history stays

    @property
    def label(self) -> str:
        return self.value.capitalize()


class VolunteerMatch(Base):
    """A volunteer matched with a person's request. Never deleted: ending keeps it."""

    __tablename__ = "volunteer_match"
    __table_args__ = (Index("ix_volunteer_match_volunteer_status", "volunteer_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id"))
    request_id: Mapped[int] = mapped_column(ForeignKey("volunteer_request.id"), index=True)
    status: Mapped[MatchStatus] = mapped_column(
        enum_column_type(MatchStatus), default=MatchStatus.PROPOSED)
    # The ranking's score and its explanation when proposed, as for offers.
    score: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text, default="")
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_note: Mapped[str] = mapped_column(Text, default="")
    next_check_in_on: Mapped[date | None] = mapped_column(Date)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    end_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    volunteer: Mapped[Volunteer] = relationship()
    request: Mapped[VolunteerRequest] = relationship()
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])


class VolunteerHours(Base):
    """Hours a volunteer logged (optional: the report counts only what was logged)."""

    __tablename__ = "volunteer_hours"
    __table_args__ = (Index("ix_volunteer_hours_volunteer_on", "volunteer_id", "on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id"))
    match_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_match.id"))
    on: Mapped[date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    volunteer: Mapped[Volunteer] = relationship()


class CallOutcome(StrEnum):
    SELF_REFERRAL = "self_referral"
    VOLUNTEER_REQUEST = "volunteer_request"
    INFORMATION = "information"

    @property
    def label(self) -> str:
        return {"self_referral": "Became a self-referral",
                "volunteer_request": "Became a volunteer request",
                "information": "Information given"}[self.value]


class HubCall(Base):
    """One call to the hub's phone line, logged by a coordinator or connector."""

    __tablename__ = "hub_call"
    __table_args__ = (Index("ix_hub_call_team_received", "team_id", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    caller_name: Mapped[str] = mapped_column(String(200), default="")
    caller_phone: Mapped[str] = mapped_column(String(30), default="")
    # Calling for someone else, and whether that person agreed to it.
    for_someone_else: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    their_agreement: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    person_name: Mapped[str] = mapped_column(String(200), default="")
    need: Mapped[str] = mapped_column(Text, default="")
    urgent: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    outcome: Mapped[CallOutcome] = mapped_column(enum_column_type(CallOutcome))
    information_given: Mapped[str] = mapped_column(Text, default="")
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_request.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team] = relationship()
    taken_by: Mapped[User | None] = relationship()
    referral: Mapped[Referral | None] = relationship()
    request: Mapped[VolunteerRequest | None] = relationship()
