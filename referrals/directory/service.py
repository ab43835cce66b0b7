"""The coordinator's rules for the directory: organisations, offers, verification, capacity.

Plain functions with an explicit actor, who must be an active coordinator (the directory
belongs to the whole hub, not to one team). They raise DirectoryInvalid, naming the form
field each problem belongs to, before changing anything; they write an audit event for
every change and flush. The caller commits.

Editing keeps every HSDS id and `extra` an import brought, and every part of an offer the
coordinator's form does not show: other venues, schedules that are not one weekday a
week, other cost options, terms from other taxonomies.

The details a form hands these functions, and the rules they must meet, are in
`details.py`; the coordinator's lists of offers and organisations in `listing.py`.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from referrals import access, audit, geo
from referrals.access import Action
from referrals.directory import vocabulary
from referrals.directory.details import (
    MAX_SESSIONS,
    DirectoryInvalid,
    OfferDetails,
    OrganisationDetails,
    Session,
    Venue,
    offer_problems,
    organisation_problems,
    website_address,
)
from referrals.extensions import db
from referrals.models import (
    CapacityStatus,
    CostOption,
    DirectoryOrganisation,
    Location,
    Offer,
    OfferAttribute,
    OfferStatus,
    Schedule,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
    User,
    utcnow,
)
from referrals.postcode import normalise_postcode
from referrals.workdays import uk_date

FREE = "Free"


def new_id() -> str:
    return str(uuid.uuid4())


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise DirectoryInvalid(errors)


# --- organisations ---------------------------------------------------------------


def create_organisation(details: OrganisationDetails, *, actor: User) -> DirectoryOrganisation:
    """A new organisation with a new id. Flushes; the caller commits."""
    access.require(actor, Action.EDIT_DIRECTORY)
    _raise_if(organisation_problems(details))
    organisation = DirectoryOrganisation(id=new_id())
    _apply_organisation(organisation, details)
    db.session.add(organisation)
    _audit("create", actor, "directory_organisation", organisation.id, name=organisation.name)
    db.session.flush()
    return organisation


def update_organisation(organisation: DirectoryOrganisation, details: OrganisationDetails, *,
                        actor: User) -> None:
    access.require(actor, Action.EDIT_DIRECTORY)
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
    access.require(actor, Action.EDIT_DIRECTORY)
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


def create_offer(d: OfferDetails, *, actor: User) -> Offer:
    """A new offer (new ids throughout) with its venue, timetable and cost. A venue
    without coordinates is placed from its postcode when Kindly knows it; otherwise it
    is saved without (see `unplaced`). Flushes; the caller commits."""
    access.require(actor, Action.EDIT_DIRECTORY)
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
    show. A partner may too, for their own organisation's offer (referrals.partners keeps
    them to its place, times and contact). Flushes; the caller commits."""
    access.require(actor, Action.KEEP_LISTING, offer)
    _raise_if(offer_problems(d))
    before = _offer_snapshot(offer)
    _apply_offer(offer, d)
    _audit("update", actor, "offer", offer.id, name=offer.name,
           changed=_changed(before, _offer_snapshot(offer)))
    db.session.flush()


def retire_offer(offer: Offer, *, actor: User) -> None:
    """Make an offer inactive: it leaves the public directory and matching."""
    access.require(actor, Action.EDIT_DIRECTORY)
    if offer.status is OfferStatus.INACTIVE:
        raise DirectoryInvalid({"status": f"{offer.name} is already inactive."})
    previous = offer.status
    offer.status = OfferStatus.INACTIVE
    _audit("retire", actor, "offer", offer.id, name=offer.name, previous=previous.value)
    db.session.flush()


def mark_verified(offer: Offer, *, actor: User, now: datetime | None = None) -> date:
    """Record that `actor` checked the offer's details today (UK date): a coordinator, or
    a partner of the offer's organisation."""
    access.require(actor, Action.KEEP_LISTING, offer)
    today = uk_date(now or utcnow())
    offer.last_verified_on = today
    offer.verified_by = actor
    offer.verified_by_email = actor.email
    _audit("verify", actor, "offer", offer.id, name=offer.name, on=today.isoformat())
    db.session.flush()
    return today


def set_capacity(offer: Offer, capacity: CapacityStatus | None, *, actor: User,
                 now: datetime | None = None, returns_on: date | None = None) -> CapacityStatus:
    """Set whether an offer can take new people ("full" is a real answer) and when that
    was said; returns the capacity before. Saying the same again confirms it as of now.
    Full may say the day capacity returns (`returns_on`; without one, a day said before
    stands); any other answer clears it."""
    access.require(actor, Action.KEEP_LISTING, offer)
    if capacity is None:
        raise DirectoryInvalid({"capacity": "Choose open, waiting list or full"})
    previous = offer.capacity_status
    offer.capacity_status = capacity
    offer.capacity_updated_at = now or utcnow()
    if capacity is not CapacityStatus.FULL:
        offer.capacity_returns_on = None
    elif returns_on is not None:
        offer.capacity_returns_on = returns_on
    _audit("capacity", actor, "offer", offer.id, name=offer.name, before=previous.value,
           after=capacity.value,
           returns_on=offer.capacity_returns_on.isoformat() if offer.capacity_returns_on
           else None)
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
    # Set even when only a venue, a session or a category changes (they are other rows),
    # so the matcher's cached facts for this offer are renewed at once.
    offer.updated_at = utcnow()
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
