"""The coordinator's rules for the directory: organisations, offers, verification, capacity.

Plain functions with an explicit actor, who must be an active coordinator (the directory
belongs to the whole hub, not to one team). They raise DirectoryInvalid, naming the form
field each problem belongs to, before changing anything; they write an audit event for
every change and flush. The caller commits.

Editing keeps every HSDS id and `extra` an import brought, and every part of an offer the
coordinator's form does not show: other venues, schedules that are not one weekday a
week, other cost options, terms from other taxonomies.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from referrals import audit, geo
from referrals.directory import vocabulary
from referrals.errors import DomainError, NotPermitted
from referrals.extensions import db
from referrals.models import (
    CapacityStatus,
    CostOption,
    DirectoryOrganisation,
    Location,
    Offer,
    OfferAttribute,
    OfferKind,
    OfferStatus,
    Role,
    Schedule,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
    User,
    utcnow,
)
from referrals.postcode import normalise_postcode
from referrals.workdays import uk_date

# An offer needs checking when nobody has confirmed its details for six months.
CHECK_EVERY_DAYS = 183
MAX_SESSIONS = 3
MAX_AGE = 120
MAX_AMOUNT = Decimal(10000)
MAX_TEXT = 10_000
FREE = "Free"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9 +()\-]{6,40}$")


class DirectoryInvalid(DomainError):
    """A change broke a directory rule; `errors` maps a form field name to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(errors.values()))


@dataclass
class OrganisationDetails:
    name: str = ""
    description: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""


@dataclass
class Venue:
    name: str = ""
    address_1: str = ""
    address_2: str = ""
    city: str = ""
    postcode: str = ""
    latitude: float | None = None
    longitude: float | None = None

    @property
    def blank(self) -> bool:
        words = (self.name, self.address_1, self.address_2, self.city, self.postcode)
        return not any(w.strip() for w in words) and self.latitude is self.longitude is None


@dataclass
class Session:
    """One row of the weekly timetable; `row` (1..3) names its form fields."""

    row: int
    day: str | None = None
    opens_at: time | None = None
    closes_at: time | None = None


@dataclass
class OfferDetails:
    name: str = ""
    organisation_id: str | None = None
    kind: OfferKind | None = None
    description: str = ""
    categories: list[str] = field(default_factory=list)
    status: OfferStatus | None = OfferStatus.ACTIVE
    venue: Venue = field(default_factory=Venue)
    accessibility: list[str] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    free: bool | None = None  # None: the coordinator has not said
    amount: Decimal | None = None
    cost_description: str = ""
    minimum_age: int | None = None
    maximum_age: int | None = None
    eligibility_description: str = ""
    languages: list[str] = field(default_factory=list)
    contact_name: str = ""
    contact_phone: str = ""
    email: str = ""
    website: str = ""


def require_coordinator(actor: User | None) -> None:
    if actor is None or not actor.active or actor.role is not Role.COORDINATOR:
        raise NotPermitted("Only a hub coordinator can change the directory.")


def new_id() -> str:
    return str(uuid.uuid4())


# --- organisations ---------------------------------------------------------------


def organisation_problems(details: OrganisationDetails) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not details.name.strip():
        errors["name"] = "Enter the organisation's name"
    _check_lengths(errors, details, name=300, description=MAX_TEXT)
    _check_contact(errors, details.email, details.phone, details.website)
    return errors


def create_organisation(details: OrganisationDetails, *, actor: User) -> DirectoryOrganisation:
    """A new organisation with a new id. Flushes; the caller commits."""
    require_coordinator(actor)
    _raise_if(organisation_problems(details))
    organisation = DirectoryOrganisation(id=new_id())
    _apply_organisation(organisation, details)
    db.session.add(organisation)
    _audit("create", actor, "directory_organisation", organisation.id, name=organisation.name)
    db.session.flush()
    return organisation


def update_organisation(organisation: DirectoryOrganisation, details: OrganisationDetails, *,
                        actor: User) -> None:
    require_coordinator(actor)
    _raise_if(organisation_problems(details))
    before = _snapshot(organisation, ORGANISATION_FIELDS)
    _apply_organisation(organisation, details)
    _audit("update", actor, "directory_organisation", organisation.id, name=organisation.name,
           changed=_changed(before, _snapshot(organisation, ORGANISATION_FIELDS)))
    db.session.flush()


def retire_organisation(organisation: DirectoryOrganisation, *, actor: User,
                        now: datetime | None = None) -> list[Offer]:
    """Retire an organisation and make its active offers inactive (returned). Its history
    and offers are kept. Flushes; the caller commits."""
    require_coordinator(actor)
    if organisation.retired_at is not None:
        raise DirectoryInvalid({"organisation": f"{organisation.name} is already retired."})
    organisation.retired_at = now or utcnow()
    retired = [o for o in organisation.offers if o.status is OfferStatus.ACTIVE]
    for offer in retired:
        offer.status = OfferStatus.INACTIVE
        _audit("retire", actor, "offer", offer.id, name=offer.name,
               because="organisation retired")
    _audit("retire", actor, "directory_organisation", organisation.id, name=organisation.name,
           offers_made_inactive=[o.id for o in retired])
    db.session.flush()
    return retired


ORGANISATION_FIELDS = ("name", "description", "email", "phone", "website")


def _apply_organisation(organisation: DirectoryOrganisation, d: OrganisationDetails) -> None:
    organisation.name = d.name.strip()
    organisation.description = d.description.strip()
    organisation.email = d.email.strip()
    organisation.phone = d.phone.strip()
    organisation.website = website_address(d.website)


# --- offers ----------------------------------------------------------------------


def offer_problems(d: OfferDetails) -> dict[str, str]:
    """Every rule `d` breaks, by form field; empty when it may be saved."""
    errors: dict[str, str] = {}
    if not d.name.strip():
        errors["name"] = "Enter the offer's name"
    organisation = db.session.get(DirectoryOrganisation, d.organisation_id) \
        if d.organisation_id else None
    if organisation is None:
        errors["organisation"] = "Choose the organisation that runs this offer"
    elif organisation.retired_at is not None and d.status is OfferStatus.ACTIVE:
        errors["organisation"] = (f"{organisation.name} is retired: choose another organisation, "
                                  "or make the offer inactive")
    if d.kind is None:
        errors["kind"] = "Choose what kind of offer this is"
    if d.status is None:
        errors["status"] = "Choose whether the offer is active"
    if any(code not in vocabulary.CATEGORY_BY_CODE for code in d.categories):
        errors["categories"] = "Choose categories from the list"
    if any(code not in vocabulary.ACCESSIBILITY_BY_CODE for code in d.accessibility):
        errors["accessibility"] = "Choose accessibility features from the list"
    elif d.accessibility and d.venue.blank:
        errors["accessibility"] = "Enter the venue to record its accessibility features"
    if any(code not in vocabulary.LANGUAGES for code in d.languages):
        errors["languages"] = "Choose languages from the list"
    _check_lengths(errors, d, name=300, description=MAX_TEXT, cost_description=MAX_TEXT,
                   eligibility_description=MAX_TEXT, contact_name=200)
    _check_venue(errors, d.venue)
    _check_sessions(errors, d.sessions)
    _check_cost(errors, d)
    _check_ages(errors, d.minimum_age, d.maximum_age)
    _check_contact(errors, d.email, d.contact_phone, d.website, phone_field="contact_phone")
    return errors


def create_offer(d: OfferDetails, *, actor: User) -> Offer:
    """A new offer (new ids throughout) with its venue, timetable and cost. A venue
    without coordinates is placed from its postcode when Kindly knows it; otherwise it
    is saved without (see `unplaced`). Flushes; the caller commits."""
    require_coordinator(actor)
    _raise_if(offer_problems(d))
    offer = Offer(id=new_id(), attributes=[], sites=[], schedules=[], cost_options=[],
                  languages=[], extra={})
    db.session.add(offer)
    _apply_offer(offer, d)
    _audit("create", actor, "offer", offer.id, name=offer.name)
    db.session.flush()
    return offer


def update_offer(offer: Offer, d: OfferDetails, *, actor: User) -> None:
    """Change an offer as its form says, keeping ids, `extra` and what the form does not
    show. Flushes; the caller commits."""
    require_coordinator(actor)
    _raise_if(offer_problems(d))
    before = _offer_snapshot(offer)
    _apply_offer(offer, d)
    _audit("update", actor, "offer", offer.id, name=offer.name,
           changed=_changed(before, _offer_snapshot(offer)))
    db.session.flush()


def retire_offer(offer: Offer, *, actor: User) -> None:
    """Make an offer inactive: it leaves the public directory and matching."""
    require_coordinator(actor)
    if offer.status is OfferStatus.INACTIVE:
        raise DirectoryInvalid({"status": f"{offer.name} is already inactive."})
    previous = offer.status
    offer.status = OfferStatus.INACTIVE
    _audit("retire", actor, "offer", offer.id, name=offer.name, previous=previous.value)
    db.session.flush()


def mark_verified(offer: Offer, *, actor: User, now: datetime | None = None) -> date:
    """Record that `actor` checked the offer's details today (UK date)."""
    require_coordinator(actor)
    today = uk_date(now or utcnow())
    offer.last_verified_on = today
    offer.verified_by = actor
    offer.verified_by_email = actor.email
    _audit("verify", actor, "offer", offer.id, name=offer.name, on=today.isoformat())
    db.session.flush()
    return today


def set_capacity(offer: Offer, capacity: CapacityStatus | None, *, actor: User,
                 now: datetime | None = None) -> CapacityStatus:
    """Set whether an offer can take new people ("full" is a real answer) and when that
    was said; returns the capacity before. Saying the same again confirms it as of now."""
    require_coordinator(actor)
    if capacity is None:
        raise DirectoryInvalid({"capacity": "Choose open, waiting list or full"})
    previous = offer.capacity_status
    offer.capacity_status = capacity
    offer.capacity_updated_at = now or utcnow()
    _audit("capacity", actor, "offer", offer.id, name=offer.name, before=previous.value,
           after=capacity.value)
    db.session.flush()
    return previous


def unplaced(offer: Offer) -> bool:
    """Has the offer's venue a postcode Kindly could not put on the map?"""
    site = venue_site(offer)
    return site is not None and bool(site.location.postal_code) and (
        site.location.latitude is None or site.location.longitude is None)


def venue_site(offer: Offer) -> ServiceAtLocation | None:
    """The offer's first physical venue: the one its form edits."""
    return next((s for s in offer.sites if s.location.location_type != "virtual"), None)


def weekly_sessions(offer: Offer) -> list[Schedule]:
    """The schedules the form edits: one weekday every week, up to MAX_SESSIONS."""
    return [s for s in offer.schedules if _is_weekly_session(s)][:MAX_SESSIONS]


def other_schedules(offer: Offer) -> list[Schedule]:
    editable = {s.id for s in weekly_sessions(offer)}
    return [s for s in offer.schedules if s.id not in editable]


def charge(offer: Offer) -> CostOption | None:
    """The cost option the form edits (the first), unless the offer is free."""
    if offer.is_free or not offer.cost_options:
        return None
    return offer.cost_options[0]


def _is_weekly_session(s: Schedule) -> bool:
    return (s.freq == "WEEKLY" and s.interval in (None, 1) and not s.bymonthday
            and s.byday.strip() in vocabulary.WEEKDAY_NAMES)


def _apply_offer(offer: Offer, d: OfferDetails) -> None:
    offer.name = d.name.strip()
    offer.organisation = db.session.get(DirectoryOrganisation, d.organisation_id)
    offer.kind = d.kind
    offer.status = d.status
    offer.description = d.description.strip()
    offer.minimum_age, offer.maximum_age = d.minimum_age, d.maximum_age
    offer.eligibility_description = d.eligibility_description.strip()
    offer.languages = [code for code in vocabulary.LANGUAGES if code in d.languages]
    offer.contact_name = d.contact_name.strip()
    offer.contact_phone = d.contact_phone.strip()
    offer.email = d.email.strip()
    offer.url = website_address(d.website)
    _apply_categories(offer, d.categories)
    _apply_venue(offer, d.venue, d.accessibility)
    _apply_sessions(offer, d.sessions)
    _apply_cost(offer, d)


def _apply_categories(offer: Offer, codes: list[str]) -> None:
    wanted = {vocabulary.term_id(code) for code in codes}
    for attribute in list(offer.attributes):
        # Terms of other taxonomies (an import's) are not the form's to drop.
        if attribute.taxonomy_term_id in vocabulary.CATEGORY_BY_ID \
                and attribute.taxonomy_term_id not in wanted:
            offer.attributes.remove(attribute)
    have = {a.taxonomy_term_id for a in offer.attributes}
    for term in _category_terms([c.code for c in vocabulary.CATEGORIES if c.id in wanted]):
        if term.id not in have:
            offer.attributes.append(OfferAttribute(id=new_id(), taxonomy_term_id=term.id,
                                                   term=term))


def _category_terms(codes: list[str]) -> list[TaxonomyTerm]:
    """The taxonomy terms for these category codes, added on first use."""
    if not codes:
        return []
    ids = [vocabulary.term_id(code) for code in codes]
    found = {t.id: t for t in db.session.scalars(
        select(TaxonomyTerm).where(TaxonomyTerm.id.in_(ids)))}
    if len(found) < len(ids) and db.session.get(Taxonomy, vocabulary.TAXONOMY_ID) is None:
        db.session.add(Taxonomy(id=vocabulary.TAXONOMY_ID, name=vocabulary.TAXONOMY_NAME,
                                description=vocabulary.TAXONOMY_DESCRIPTION))
    terms = []
    for code, term_id in zip(codes, ids):
        if term_id not in found:
            category = vocabulary.CATEGORY_BY_CODE[code]
            found[term_id] = TaxonomyTerm(id=term_id, taxonomy_id=vocabulary.TAXONOMY_ID,
                                          code=code, name=category.name,
                                          description=category.description)
            db.session.add(found[term_id])
        terms.append(found[term_id])
    return terms


def _apply_venue(offer: Offer, venue: Venue, accessibility: list[str]) -> None:
    site = venue_site(offer)
    if venue.blank:
        if site is not None:
            # Only the link goes: the location may be another offer's venue too.
            offer.sites.remove(site)
            for schedule in offer.schedules:
                if schedule.service_at_location_id == site.id:
                    schedule.service_at_location_id = None
        return
    if site is None:
        location = Location(id=new_id(), location_type="physical", extra={}, accessibility=[])
        site = ServiceAtLocation(id=new_id(), location=location, extra={})
        offer.sites.insert(0, site)
    location = site.location
    # A shared venue changes for every offer held there, as it should: it is one place.
    location.organisation_id = location.organisation_id or offer.organisation.id
    location.address_id = location.address_id or new_id()
    location.name = venue.name.strip()
    location.address_1 = venue.address_1.strip()
    location.address_2 = venue.address_2.strip()
    location.city = venue.city.strip()
    location.postal_code = normalise_postcode(venue.postcode) or ""
    location.accessibility = [f.code for f in vocabulary.ACCESSIBILITY if f.code in accessibility]
    if venue.latitude is not None and venue.longitude is not None:
        location.latitude, location.longitude = venue.latitude, venue.longitude
    else:
        place = geo.locate(location.postal_code) if location.postal_code else None
        location.latitude = place.latitude if place else None
        location.longitude = place.longitude if place else None


def _apply_sessions(offer: Offer, sessions: list[Session]) -> None:
    editable = weekly_sessions(offer)
    for index, session in enumerate(sessions):
        if index < len(editable):
            schedule = editable[index]
        else:
            schedule = Schedule(id=new_id(), freq="WEEKLY", extra={})
            offer.schedules.append(schedule)
        rule = (session.day, session.opens_at, session.closes_at)
        if (schedule.byday, schedule.opens_at, schedule.closes_at) != rule:
            # An imported description of the old times would now mislead.
            schedule.description = ""
        schedule.byday, schedule.opens_at, schedule.closes_at = rule
    for schedule in editable[len(sessions):]:
        offer.schedules.remove(schedule)


def _apply_cost(offer: Offer, d: OfferDetails) -> None:
    first = offer.cost_options[0] if offer.cost_options else None
    if first is None:
        first = CostOption(id=new_id(), extra={})
        offer.cost_options.append(first)
    description = d.cost_description.strip()
    if d.free:
        # Free means every option costs nothing: one option says so.
        for other in offer.cost_options[1:]:
            offer.cost_options.remove(other)
        first.option, first.amount, first.amount_description = FREE, Decimal(0), ""
        offer.fees_description = ""
    else:
        first.option = description[:300]
        first.amount, first.amount_description = d.amount, description
        offer.fees_description = description
    first.currency = "GBP"
    offer.is_free = bool(d.free)


# --- checks ----------------------------------------------------------------------


def _check_lengths(errors: dict[str, str], details, **limits: int) -> None:
    for name, limit in limits.items():
        if name not in errors and len(getattr(details, name) or "") > limit:
            errors[name] = f"Use {limit:,} characters or fewer"


def _check_contact(errors: dict[str, str], email: str, phone: str, website: str, *,
                   phone_field: str = "phone") -> None:
    email, phone, website = email.strip(), phone.strip(), website.strip()
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        errors["email"] = "Enter an email address like name@example.org"
    if phone and not _PHONE.match(phone):
        errors[phone_field] = "Enter a phone number, like 01632 960 001"
    if website:
        address = website_address(website)
        parts = urlsplit(address)
        if len(address) > 500 or "." not in parts.netloc or " " in address:
            errors["website"] = "Enter a web address like www.example.org"


def website_address(raw: str) -> str:
    """The address as typed, with https:// when no scheme was given."""
    text = (raw or "").strip()
    if text and not re.match(r"^https?://", text, re.IGNORECASE):
        text = "https://" + text
    return text


def _check_venue(errors: dict[str, str], venue: Venue) -> None:
    if venue.blank:
        return
    limits = {"venue_name": venue.name, "address_1": venue.address_1,
              "address_2": venue.address_2}
    for name, value in limits.items():
        if len(value.strip()) > 300:
            errors[name] = "Use 300 characters or fewer"
    if len(venue.city.strip()) > 120:
        errors["city"] = "Use 120 characters or fewer"
    if not venue.postcode.strip():
        errors["postcode"] = "Enter the venue's postcode"
    elif normalise_postcode(venue.postcode) is None:
        errors["postcode"] = "Enter a real postcode, like KB1 1AB"
    if (venue.latitude is None) != (venue.longitude is None):
        missing = "latitude" if venue.latitude is None else "longitude"
        errors[missing] = "Enter both latitude and longitude, or leave both blank"
    if venue.latitude is not None and not -90 <= venue.latitude <= 90:
        errors["latitude"] = "Latitude must be between -90 and 90"
    if venue.longitude is not None and not -180 <= venue.longitude <= 180:
        errors["longitude"] = "Longitude must be between -180 and 180"


def _check_sessions(errors: dict[str, str], sessions: list[Session]) -> None:
    if len(sessions) > MAX_SESSIONS:
        errors["session_1_day"] = f"Enter up to {MAX_SESSIONS} weekly sessions"
    for s in sessions:
        key, name = f"session_{s.row}", f"session {s.row}"
        if s.day not in vocabulary.WEEKDAY_NAMES:
            errors[f"{key}_day"] = f"Choose the day for {name}"
        if s.opens_at is None:
            errors[f"{key}_opens"] = f"Enter the time {name} starts, for example 10:00"
        if s.closes_at is None:
            errors[f"{key}_closes"] = f"Enter the time {name} finishes, for example 12:00"
        elif s.opens_at is not None and s.closes_at <= s.opens_at:
            errors[f"{key}_closes"] = f"The time {name} finishes must be after it starts"


def _check_cost(errors: dict[str, str], d: OfferDetails) -> None:
    if d.free is None:
        errors["cost"] = "Say whether the offer is free"
    elif not d.free:
        if d.amount is None and not d.cost_description.strip():
            errors["amount"] = "Enter the amount, or describe the cost"
        elif d.amount is not None and not Decimal(0) < d.amount < MAX_AMOUNT:
            errors["amount"] = (f"Enter an amount more than £0 and less than £{MAX_AMOUNT:,}, "
                                "or choose free")


def _check_ages(errors: dict[str, str], low: int | None, high: int | None) -> None:
    for name, age in (("minimum_age", low), ("maximum_age", high)):
        if age is not None and not 0 <= age <= MAX_AGE:
            errors[name] = f"Enter an age from 0 to {MAX_AGE}"
    if "minimum_age" not in errors and "maximum_age" not in errors \
            and low is not None and high is not None and high < low:
        errors["maximum_age"] = "The maximum age must be the same as or more than the minimum"


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise DirectoryInvalid(errors)


# --- audit -----------------------------------------------------------------------


def _audit(action: str, actor: User, entity_type: str, entity_id: str, **detail) -> None:
    # Directory ids are HSDS strings; the audit table's entity_id is for integer ids.
    audit.record(action, actor=actor, entity_type=entity_type,
                 detail={"id": entity_id, **detail})


def _snapshot(obj, names) -> dict:
    return {name: getattr(obj, name) for name in names}


OFFER_FIELDS = ("name", "organisation_id", "kind", "status", "description", "minimum_age",
                "maximum_age", "eligibility_description", "languages", "contact_name",
                "contact_phone", "email", "url", "is_free", "fees_description")


def _offer_snapshot(offer: Offer) -> dict:
    site = venue_site(offer)
    return {
        **_snapshot(offer, OFFER_FIELDS),
        "categories": sorted(offer.category_codes),
        "venue": (site.location.address_line, site.location.accessibility) if site else None,
        "sessions": [(s.byday, s.opens_at, s.closes_at) for s in weekly_sessions(offer)],
        "cost": [(c.option, c.amount) for c in offer.cost_options],
    }


def _changed(before: dict, after: dict) -> list[str]:
    return [name for name in after if before.get(name) != after[name]]


# --- lists -----------------------------------------------------------------------


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


def needs_checking(*, today: date) -> list[Offer]:
    """Active offers not verified for six months, never-verified first, then oldest."""
    return list(db.session.scalars(
        select(Offer).where(needs_checking_clause(today))
        # False sorts first, so never-verified (NULL) offers lead on every database.
        .order_by(Offer.last_verified_on.is_not(None), Offer.last_verified_on, Offer.name)
        .options(selectinload(Offer.organisation))
    ))


def needs_checking_count(*, today: date) -> int:
    return db.session.scalar(select(func.count(Offer.id)).where(needs_checking_clause(today)))


def organisations_with_counts() -> list[tuple[DirectoryOrganisation, int]]:
    """Every organisation with its number of active offers; retired ones last."""
    query: Select = (
        select(DirectoryOrganisation, func.count(Offer.id))
        .outerjoin(Offer, and_(Offer.organisation_id == DirectoryOrganisation.id,
                               Offer.status == OfferStatus.ACTIVE))
        .group_by(DirectoryOrganisation.id)
        .order_by(DirectoryOrganisation.retired_at.is_not(None), DirectoryOrganisation.name)
    )
    return [(organisation, count) for organisation, count in db.session.execute(query)]


def organisation_choices(current: str | None = None) -> list[DirectoryOrganisation]:
    """Organisations an offer may belong to: those not retired, and its current one."""
    return list(db.session.scalars(
        select(DirectoryOrganisation)
        .where(or_(DirectoryOrganisation.retired_at.is_(None),
                   DirectoryOrganisation.id == (current or "")))
        .order_by(DirectoryOrganisation.name)
    ))
