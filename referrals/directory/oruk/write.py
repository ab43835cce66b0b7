"""Export: Kindly's directory models to ORUK dicts. A service with its schedules, cost
options, languages, attributes and sites (service_at_locations); the page envelope.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping

from referrals.directory import vocabulary as v
from referrals.directory.oruk.contacts import (
    _contacts_out,
    _service_phones_out,
    organization,
    organization_summary,
)
from referrals.directory.oruk.formats import _extra_out, _put, _typed_out, says_free
from referrals.directory.oruk.locations import location
from referrals.directory.oruk.terms import (
    CAPACITY_BY_TERM_ID,
    KIND_BY_TERM_ID,
    generated_id,
    taxonomy_term,
    vocabulary_term,
)
from referrals.models import (
    CapacityStatus,
    CostOption,
    Offer,
    OfferKind,
    OfferStatus,
    Schedule,
    ServiceAtLocation,
    TaxonomyTerm,
)

VERSION = "3.0"
PROFILE_URL = "https://openreferraluk.org/"
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/openapi.json"


_SERVICE_HANDLED = frozenset({
    "id", "organization_id", "organization", "name", "description", "url", "email", "status",
    "fees", "fees_description", "eligibility_description", "minimum_age", "maximum_age",
    "assured_date", "assurer_email", "last_modified", "service_at_locations", "schedules",
    "cost_options", "languages", "contacts", "phones", "attributes",
})


def _service_fields(offer: Offer) -> dict:
    extra = offer.extra or {}
    out = _extra_out(extra, _SERVICE_HANDLED)
    out["id"] = offer.id
    _put(out, "organization_id", offer.organisation_id)
    out["name"] = offer.name
    _put(out, "description", offer.description)
    _put(out, "url", offer.url)
    _put(out, "email", offer.email)
    out["status"] = OfferStatus(offer.status).value
    _put(out, "fees", offer.fees_description)
    if "fees_description" in extra:
        # None: the source called it fees_description, so mirror Kindly's value there.
        kept = extra["fees_description"]
        _put(out, "fees_description", offer.fees_description if kept is None else kept)
    _put(out, "eligibility_description", offer.eligibility_description)
    _put(out, "minimum_age", offer.minimum_age)
    _put(out, "maximum_age", offer.maximum_age)
    _typed_out(out, extra, "assured_date", offer.last_verified_on, "date")
    assurer = offer.verified_by_email or (offer.verified_by.email if offer.verified_by else "")
    _put(out, "assurer_email", assurer)
    _typed_out(out, extra, "last_modified", offer.updated_at, "instant")
    return out


def service_summary(offer: Offer) -> dict:
    """A service as `/services` lists it: one-to-one fields and its organization."""
    out = {k: val for k, val in _service_fields(offer).items()
           if not isinstance(val, (list, dict))}
    if offer.organisation is not None:
        out["organization"] = organization_summary(offer.organisation)
    return out


def service(offer: Offer, kindly_terms: Mapping[str, TaxonomyTerm] | None = None,
            *, with_sites: bool = True) -> dict:
    """A fully nested service. `kindly_terms`: the stored kind and capacity terms by id
    (their vocabulary definitions stand in for any not stored)."""
    out = _service_fields(offer)
    if offer.organisation is not None:
        out["organization"] = organization(offer.organisation)
    if with_sites:
        out["service_at_locations"] = [service_at_location(site) for site in offer.sites]
    out["schedules"] = [schedule(s) for s in offer.schedules if not _under_site(s)]
    costs = [cost_option(c) for c in offer.cost_options]
    if not costs and offer.is_free and not says_free(offer.fees_description):
        costs = [{"id": generated_id(offer.id, "cost:free"), "service_id": offer.id,
                  "option": "Free", "amount": 0}]
    out["cost_options"] = costs
    out["languages"] = _languages_out(offer)
    contacts = _contacts_out(offer)
    out["contacts"] = contacts
    phones = _service_phones_out(offer, contacts)
    if phones:
        out["phones"] = phones
    out["attributes"] = _attributes_out(offer, kindly_terms or {})
    return out


def _under_site(s: Schedule) -> bool:
    return bool(s.service_at_location_id) and (s.extra or {}).get(_UNDER_SITE) is True


# A schedule read from service_at_locations[].schedules goes back there.
_UNDER_SITE = "_under_service_at_location"
_SCHEDULE_HANDLED = frozenset({
    "id", "service_id", "service_at_location_id", "freq", "interval", "byday", "bymonthday",
    "opens_at", "closes_at", "valid_from", "valid_to", "dtstart", "description", _UNDER_SITE,
})


def schedule(s: Schedule) -> dict:
    extra = s.extra or {}
    out = _extra_out(extra, _SCHEDULE_HANDLED)
    out["id"] = s.id
    out["service_id"] = s.offer_id
    _put(out, "service_at_location_id", s.service_at_location_id)
    for key in ("freq", "byday", "bymonthday", "description"):
        _put(out, key, getattr(s, key))
    _put(out, "interval", s.interval)
    for key in ("opens_at", "closes_at"):
        _typed_out(out, extra, key, getattr(s, key), "time")
    for key in ("valid_from", "valid_to", "dtstart"):
        _typed_out(out, extra, key, getattr(s, key), "date")
    return out


_COST_HANDLED = frozenset({"id", "service_id", "option", "amount", "currency",
                           "amount_description"})


def cost_option(c: CostOption) -> dict:
    extra = c.extra or {}
    out = _extra_out(extra, _COST_HANDLED)
    out["id"] = c.id
    out["service_id"] = c.offer_id
    _put(out, "option", c.option)
    _typed_out(out, extra, "amount", c.amount, "amount")
    _put(out, "currency", c.currency)
    _put(out, "amount_description", c.amount_description)
    return out


def _languages_out(offer: Offer) -> list[dict]:
    codes = list(offer.languages or [])
    out = []
    for entry in (offer.extra or {}).get("languages") or []:
        code = _language_code(entry)
        if code is None:
            out.append(copy.deepcopy(entry))  # a language Kindly cannot name: kept as is
        elif code in codes:
            out.append(copy.deepcopy(entry))
            codes.remove(code)
    out.extend(_generated_language(offer.id, code) for code in codes)
    return out


def _generated_language(offer_id: str, code: str) -> dict:
    entry = {"id": generated_id(offer_id, f"language:{code}"), "service_id": offer_id,
             "code": code}
    _put(entry, "name", v.LANGUAGES.get(code))
    return entry


def _language_code(entry) -> str | None:
    if not isinstance(entry, dict):
        return None
    code = entry.get("code")
    if isinstance(code, str) and code.strip():
        return code.strip().lower()
    name = entry.get("name")
    if isinstance(name, str):
        return v.LANGUAGE_BY_NAME.get(name.strip().casefold())
    return None


def _attribute_out(attr_id: str, offer_id: str, term: dict, value: str = "",
                   kept: Mapping | None = None) -> dict:
    out = {"id": attr_id}
    if kept is None:
        out.update(link_id=offer_id, link_type="service", link_entity="service")
    else:
        out.update({k: copy.deepcopy(val) for k, val in kept.items()
                    if k not in ("taxonomy_term_id", "taxonomy_term", "value")})
    out["taxonomy_term_id"] = term["id"]
    out["taxonomy_term"] = term
    _put(out, "value", value)
    return out


def _attributes_out(offer: Offer, kindly_terms: Mapping[str, TaxonomyTerm]) -> list[dict]:
    kept: dict = (offer.extra or {}).get("attributes") or {}
    out = []
    for role, chosen, terms in (("kind", v.KIND_TERMS[OfferKind(offer.kind).value], KIND_BY_TERM_ID),
                                ("capacity",
                                 v.CAPACITY_TERMS[CapacityStatus(offer.capacity_status).value],
                                 CAPACITY_BY_TERM_ID)):
        attr_id, residual = generated_id(offer.id, f"attribute:{role}"), None
        for kept_id, kept_attr in kept.items():
            if kept_attr.get("taxonomy_term_id") in terms:
                attr_id, residual = kept_id, kept_attr
                break
        stored = kindly_terms.get(chosen.id)
        term = taxonomy_term(stored) if stored is not None else vocabulary_term(chosen)
        out.append(_attribute_out(attr_id, offer.id, term, "", residual))
    for attribute in offer.attributes:
        out.append(_attribute_out(attribute.id, offer.id, taxonomy_term(attribute.term),
                                  attribute.value, kept.get(attribute.id)))
    return out


_SITE_HANDLED = frozenset({"id", "service_id", "location_id", "description", "location",
                           "schedules"})


def service_at_location(site: ServiceAtLocation, *, nested: bool = True) -> dict:
    out = _extra_out(site.extra, _SITE_HANDLED)
    out.update(id=site.id, service_id=site.offer_id, location_id=site.location_id)
    _put(out, "description", site.description)
    if not nested:
        return out
    under = [schedule(s) for s in site.offer.schedules
             if _under_site(s) and s.service_at_location_id == site.id]
    if under:
        out["schedules"] = under
    out["location"] = location(site.location)
    return out


def service_at_location_summary(site: ServiceAtLocation) -> dict:
    """One row of `/service_at_locations`: one-to-one fields of it, its location and service."""
    out = {k: val for k, val in service_at_location(site, nested=False).items()
           if not isinstance(val, (list, dict))}
    out["location"] = {k: val for k, val in location(site.location).items()
                       if not isinstance(val, (list, dict))}
    out["service"] = service_summary(site.offer)
    return out


def service_at_location_full(site: ServiceAtLocation,
                             kindly_terms: Mapping[str, TaxonomyTerm] | None = None) -> dict:
    out = service_at_location(site)
    out["service"] = service(site.offer, kindly_terms, with_sites=False)
    return out


def page(contents: list, *, total: int, page_number: int, per_page: int) -> dict:
    """The ORUK page envelope."""
    total_pages = -(-total // per_page) if per_page else 1
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page_number,
        "size": len(contents),
        "first_page": page_number == 1,
        "last_page": page_number >= total_pages,
        "empty": not contents,
        "contents": contents,
    }
