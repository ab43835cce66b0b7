"""The coordinator's lists of the directory, each a page at a time: offers filtered, the
offers that need checking, and organisations with their counts of active offers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from referrals.directory import vocabulary
from referrals.extensions import db
from referrals.models import (
    CapacityStatus,
    DirectoryOrganisation,
    Offer,
    OfferAttribute,
    OfferKind,
    OfferStatus,
)

# An offer needs checking when nobody has confirmed its details for six months.
CHECK_EVERY_DAYS = 183


@dataclass
class OfferFilter:
    text: str = ""
    status: OfferStatus | None = None
    kind: OfferKind | None = None
    category: str | None = None
    capacity: CapacityStatus | None = None
    needs_checking: bool = False
    page: int = 1
    per_page: int = 50


@dataclass
class OfferPage:
    rows: list[Offer]
    total: int
    page: int
    pages: int


def check_cutoff(today: date) -> date:
    """Offers last verified on or before this day need checking."""
    return today - timedelta(days=CHECK_EVERY_DAYS)


def needs_checking_clause(today: date):
    return and_(Offer.status == OfferStatus.ACTIVE,
                or_(Offer.last_verified_on.is_(None),
                    Offer.last_verified_on <= check_cutoff(today)))


def is_due_check(offer: Offer, today: date) -> bool:
    return offer.status is OfferStatus.ACTIVE and (
        offer.last_verified_on is None or offer.last_verified_on <= check_cutoff(today))


def find_offers(f: OfferFilter, *, today: date) -> OfferPage:
    """Offers matching the filters, by name, a page at a time."""
    query = select(Offer).outerjoin(Offer.organisation)
    if text := f.text.strip():
        query = query.where(or_(Offer.name.icontains(text, autoescape=True),
                                DirectoryOrganisation.name.icontains(text, autoescape=True)))
    if f.status is not None:
        query = query.where(Offer.status == f.status)
    if f.kind is not None:
        query = query.where(Offer.kind == f.kind)
    if f.capacity is not None:
        query = query.where(Offer.capacity_status == f.capacity)
    if f.category:
        query = query.where(Offer.id.in_(select(OfferAttribute.offer_id).where(
            OfferAttribute.taxonomy_term_id == vocabulary.term_id(f.category))))
    if f.needs_checking:
        query = query.where(needs_checking_clause(today))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // f.per_page))
    page = min(max(1, f.page), pages)
    rows = db.session.scalars(
        query.order_by(Offer.name, Offer.id).options(selectinload(Offer.organisation))
        .offset((page - 1) * f.per_page).limit(f.per_page)
    ).all()
    return OfferPage(rows=list(rows), total=total, page=page, pages=pages)


def _page_of(query: Select, total: int, page: int, per_page: int) -> tuple[list, int, int]:
    """Rows of one page (clamped to the last), the page number and how many pages."""
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    return list(db.session.execute(query.offset((page - 1) * per_page).limit(per_page))), \
        page, pages


def needs_checking(*, today: date, page: int = 1, per_page: int = 50) -> OfferPage:
    """Active offers not verified for six months, never-verified first, then oldest; a
    page at a time."""
    total = needs_checking_count(today=today)
    rows, page, pages = _page_of(
        select(Offer).where(needs_checking_clause(today))
        # False sorts first, so never-verified (NULL) offers lead on every database.
        .order_by(Offer.last_verified_on.is_not(None), Offer.last_verified_on, Offer.name,
                  Offer.id)
        .options(selectinload(Offer.organisation)), total, page, per_page)
    return OfferPage(rows=[offer for (offer,) in rows], total=total, page=page, pages=pages)


def needs_checking_count(*, today: date) -> int:
    return db.session.scalar(select(func.count(Offer.id)).where(needs_checking_clause(today)))


@dataclass
class OrganisationPage:
    rows: list[tuple[DirectoryOrganisation, int]]
    total: int
    page: int
    pages: int


def organisations_with_counts(*, page: int = 1, per_page: int = 50) -> OrganisationPage:
    """Organisations with their numbers of active offers, retired ones last; a page at a
    time."""
    total = db.session.scalar(select(func.count(DirectoryOrganisation.id)))
    query: Select = (
        select(DirectoryOrganisation, func.count(Offer.id))
        .outerjoin(Offer, and_(Offer.organisation_id == DirectoryOrganisation.id,
                               Offer.status == OfferStatus.ACTIVE))
        .group_by(DirectoryOrganisation.id)
        .order_by(DirectoryOrganisation.retired_at.is_not(None), DirectoryOrganisation.name,
                  DirectoryOrganisation.id)
    )
    rows, page, pages = _page_of(query, total, page, per_page)
    return OrganisationPage(rows=[(organisation, count) for organisation, count in rows],
                            total=total, page=page, pages=pages)


def organisation_choices(current: str | None = None) -> list[DirectoryOrganisation]:
    """Organisations an offer may belong to: those not retired, and its current one."""
    return list(db.session.scalars(
        select(DirectoryOrganisation)
        .where(or_(DirectoryOrganisation.retired_at.is_(None),
                   DirectoryOrganisation.id == (current or "")))
        .order_by(DirectoryOrganisation.name)
    ))
