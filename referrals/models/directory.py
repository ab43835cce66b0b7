"""The community directory in Open Referral UK 3.0 (HSDS 3.0) shape.

Ids are HSDS's own string ids (UUIDs), so an import upserts by id and an export
gives the same ids back. Fields Kindly neither shows nor queries are kept in each
row's `extra` (HSDS field name -> value), so a round trip loses nothing.
"""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Numeric, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referrals.models.base import Base, UTCDateTime, utcnow
from referrals.models.columns import enum_column_type
from referrals.models.user import User

HSDS_ID = String(64)


class OfferKind(StrEnum):
    GROUP = "group"
    SERVICE = "service"
    VOLUNTEERING = "volunteering"

    @property
    def label(self) -> str:
        return {"group": "Group or activity", "service": "Service",
                "volunteering": "Volunteering opportunity"}[self.value]


class OfferStatus(StrEnum):
    """HSDS service statuses; Kindly's screens use active and inactive."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    DEFUNCT = "defunct"
    TEMPORARILY_CLOSED = "temporarily closed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class CapacityStatus(StrEnum):
    OPEN = "open"
    WAITING_LIST = "waiting-list"
    FULL = "full"

    @property
    def label(self) -> str:
        return {"open": "Open to new people", "waiting-list": "Waiting list",
                "full": "Full"}[self.value]


class DirectoryOrganisation(Base):
    __tablename__ = "directory_organisation"

    id: Mapped[str] = mapped_column(HSDS_ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    # Retired organisations keep their history; their offers are inactive.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extra: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    offers: Mapped[list[Offer]] = relationship(back_populates="organisation",
                                               order_by="Offer.name")


class Offer(Base):
    """An HSDS service: a group or activity, a service, or a volunteering opportunity."""

    __tablename__ = "offer"
    __table_args__ = (
        Index("ix_offer_status_kind", "status", "kind"),
        Index("ix_offer_verified", "status", "last_verified_on"),
    )

    id: Mapped[str] = mapped_column(HSDS_ID, primary_key=True)
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("directory_organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[OfferKind] = mapped_column(enum_column_type(OfferKind), default=OfferKind.GROUP)
    status: Mapped[OfferStatus] = mapped_column(enum_column_type(OfferStatus),
                                                default=OfferStatus.ACTIVE)
    capacity_status: Mapped[CapacityStatus] = mapped_column(
        enum_column_type(CapacityStatus), default=CapacityStatus.OPEN)
    capacity_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Issue 15: a partner's "no capacity until <date>". Full until then; from that day the
    # matcher counts it open again (referrals.matching.facts).
    capacity_returns_on: Mapped[date | None] = mapped_column(Date)
    url: Mapped[str] = mapped_column(String(500), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    # Cost: free when every cost option is nothing (kept in step by the service);
    # `fees_description` is the words a person reads.
    is_free: Mapped[bool] = mapped_column(default=False)
    fees_description: Mapped[str] = mapped_column(Text, default="")
    eligibility_description: Mapped[str] = mapped_column(Text, default="")
    minimum_age: Mapped[int | None]
    maximum_age: Mapped[int | None]
    # ISO 639 codes (referrals.directory.vocabulary.LANGUAGES); empty means English.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # HSDS assured_date / assurer_email: the last check that the details are right.
    last_verified_on: Mapped[date | None] = mapped_column(Date)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    verified_by_email: Mapped[str] = mapped_column(String(254), default="")
    extra: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[DirectoryOrganisation | None] = relationship(back_populates="offers")
    verified_by: Mapped[User | None] = relationship()
    sites: Mapped[list[ServiceAtLocation]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="ServiceAtLocation.id")
    schedules: Mapped[list[Schedule]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="Schedule.id")
    cost_options: Mapped[list[CostOption]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="CostOption.id")
    attributes: Mapped[list[OfferAttribute]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="OfferAttribute.id")

    @property
    def locations(self) -> list[Location]:
        return [site.location for site in self.sites]

    @property
    def category_codes(self) -> list[str]:
        return [a.term.code for a in self.attributes if a.term.code]

    @property
    def accessibility(self) -> list[str]:
        """Features every physical venue of this offer has (virtual venues need none)."""
        venues = [loc for loc in self.locations if loc.location_type != "virtual"]
        if not venues:
            return []
        common = set(venues[0].accessibility or [])
        for venue in venues[1:]:
            common &= set(venue.accessibility or [])
        return [code for code in venues[0].accessibility or [] if code in common]

    def __repr__(self) -> str:
        return f"<Offer {self.name!r}>"


class Location(Base):
    """An HSDS location with its (single) address and accessibility features."""

    __tablename__ = "directory_location"
    __table_args__ = (Index("ix_directory_location_lat_lon", "latitude", "longitude"),)

    id: Mapped[str] = mapped_column(HSDS_ID, primary_key=True)
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("directory_organisation.id"))
    location_type: Mapped[str] = mapped_column(String(10), default="physical")
    name: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    address_id: Mapped[str | None] = mapped_column(HSDS_ID)
    address_1: Mapped[str] = mapped_column(String(300), default="")
    address_2: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    state_province: Mapped[str] = mapped_column(String(120), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="", index=True)
    country: Mapped[str] = mapped_column(String(2), default="GB")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # Codes from vocabulary.ACCESSIBILITY (HSDS accessibility `details`).
    accessibility: Mapped[list[str]] = mapped_column(JSON, default=list)
    extra: Mapped[dict] = mapped_column(JSON, default=dict)

    @property
    def address_line(self) -> str:
        parts = [self.address_1, self.address_2, self.city, self.postal_code]
        return ", ".join(p for p in parts if p)


class ServiceAtLocation(Base):
    __tablename__ = "service_at_location"

    id: Mapped[str] = mapped_column(HSDS_ID, primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offer.id"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("directory_location.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict] = mapped_column(JSON, default=dict)

    offer: Mapped[Offer] = relationship(back_populates="sites")
    location: Mapped[Location] = relationship(lazy="joined")


class Schedule(Base):
    """When an offer runs, as an RFC 5545 recurrence (HSDS schedule)."""

    __tablename__ = "schedule"

    id: Mapped[str] = mapped_column(HSDS_ID, primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offer.id"), index=True)
    service_at_location_id: Mapped[str | None] = mapped_column(HSDS_ID)
    freq: Mapped[str] = mapped_column(String(10), default="WEEKLY")
    interval: Mapped[int | None]
    # "TU", "MO,WE", or with an ordinal for monthly ones: "1TH".
    byday: Mapped[str] = mapped_column(String(40), default="")
    bymonthday: Mapped[str] = mapped_column(String(40), default="")
    opens_at: Mapped[time | None] = mapped_column(Time)
    closes_at: Mapped[time | None] = mapped_column(Time)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    dtstart: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict] = mapped_column(JSON, default=dict)

    offer: Mapped[Offer] = relationship(back_populates="schedules")

    @property
    def weekdays(self) -> list[str]:
        """Weekday codes this schedule runs on, ordinals dropped ("1TH" -> "TH")."""
        return [part.strip()[-2:] for part in self.byday.split(",") if part.strip()]


class CostOption(Base):
    __tablename__ = "cost_option"

    id: Mapped[str] = mapped_column(HSDS_ID, primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offer.id"), index=True)
    option: Mapped[str] = mapped_column(String(300), default="")
    amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    amount_description: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict] = mapped_column(JSON, default=dict)

    offer: Mapped[Offer] = relationship(back_populates="cost_options")


class Taxonomy(Base):
    __tablename__ = "taxonomy"

    id: Mapped[str] = mapped_column(HSDS_ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    uri: Mapped[str] = mapped_column(String(500), default="")
    version: Mapped[str] = mapped_column(String(40), default="")


class TaxonomyTerm(Base):
    __tablename__ = "taxonomy_term"

    id: Mapped[str] = mapped_column(HSDS_ID, primary_key=True)
    taxonomy_id: Mapped[str | None] = mapped_column(ForeignKey("taxonomy.id"), index=True)
    # Kindly's own short code (vocabulary); empty for terms of imported taxonomies.
    code: Mapped[str] = mapped_column(String(80), default="", index=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[str | None] = mapped_column(HSDS_ID)
    term_uri: Mapped[str] = mapped_column(String(500), default="")
    extra: Mapped[dict] = mapped_column(JSON, default=dict)

    taxonomy: Mapped[Taxonomy | None] = relationship(lazy="joined")


class OfferAttribute(Base):
    """An HSDS attribute linking an offer to a taxonomy term (its categories)."""

    __tablename__ = "offer_attribute"
    __table_args__ = (Index("ix_offer_attribute_term", "taxonomy_term_id", "offer_id"),)

    id: Mapped[str] = mapped_column(HSDS_ID, primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offer.id"), index=True)
    taxonomy_term_id: Mapped[str] = mapped_column(ForeignKey("taxonomy_term.id"))
    value: Mapped[str] = mapped_column(String(300), default="")

    offer: Mapped[Offer] = relationship(back_populates="attributes")
    term: Mapped[TaxonomyTerm] = relationship(lazy="joined")


class PostcodePlace(Base):
    """A postcode (or an outward code's centroid) and where it is."""

    __tablename__ = "postcode_place"

    # Normalised "KB1 1AB", or an outward code alone ("KB1") for a centroid.
    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)


class OfferSearchText(Base):
    """The words of one offer that the full-text index reads: its name, and the rest
    (description, organisation, categories). Kept current by referrals.directory.indexing
    on every flush; the index itself is database-specific (migration 3f1a2b7c9d10):
    an FTS5 table with triggers on SQLite; on PostgreSQL a generated tsvector column
    `document` with a GIN index, not mapped here (the database computes it)."""

    __tablename__ = "offer_search_text"

    # An integer key: SQLite's FTS5 external content addresses rows by it.
    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: the row goes in the same flush as the offer, after it.
    offer_id: Mapped[str] = mapped_column(HSDS_ID, unique=True)
    name: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")


class SearchWord(Base):
    """Every word the directory's offers have used, to correct a mistyped search word
    against."""

    __tablename__ = "search_word"

    word: Mapped[str] = mapped_column(String(40), primary_key=True)
