"""Open Referral UK 3.0 (HSDS 3.0) to and from Kindly's directory models: pure functions,
no Flask and no session.

Export (`service()`, `service_summary()`, `service_at_location()`, `taxonomy_term()`, ...)
turns models into ORUK dicts; import (`service_record()`) turns one ORUK service dict into
plain field dicts, one per row, that `importing.py` upserts.

Nothing is lost either way:
- Fields Kindly does not model go into the row's `extra` verbatim and come back on export.
- Nested objects Kindly models only in part (addresses, contacts, phones, languages,
  accessibility entries, the kind and capacity attributes) are kept in `extra` as they came,
  unless they are exactly what export would write anyway; export writes the kept object
  with Kindly's current values on top, so every nested object gets its id back.
- A value Kindly re-formats ("10:00:00" as a time, "2.555" as an amount) is kept in
  `extra` as written and given back while Kindly's value still means the same.
- Offer kind and capacity status travel as attributes to terms of Kindly's own taxonomies
  (vocabulary.KIND_TERMS / CAPACITY_TERMS); they are columns, never OfferAttribute rows.
"""
from __future__ import annotations

import copy
import math
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from referrals.directory import vocabulary as v
from referrals.models import (
    CapacityStatus,
    CostOption,
    DirectoryOrganisation,
    Location,
    Offer,
    OfferKind,
    OfferStatus,
    Schedule,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)

VERSION = "3.0"
PROFILE_URL = "https://openreferraluk.org/"
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/openapi.json"

# Names the demo file and every export give Kindly's three taxonomies.
KIND_TAXONOMY_NAME = "Kindly offer kinds"
CAPACITY_TAXONOMY_NAME = "Kindly capacity status"
KINDLY_TAXONOMIES = {
    v.TAXONOMY_ID: (v.TAXONOMY_NAME, v.TAXONOMY_DESCRIPTION),
    v.KIND_TAXONOMY_ID: (KIND_TAXONOMY_NAME, "What kind of offer a service is (Kindly)."),
    v.CAPACITY_TAXONOMY_ID: (CAPACITY_TAXONOMY_NAME,
                             "Whether a service is taking new people (Kindly)."),
}
KIND_BY_TERM_ID = {term.id: OfferKind(code) for code, term in v.KIND_TERMS.items()}
CAPACITY_BY_TERM_ID = {term.id: CapacityStatus(code) for code, term in v.CAPACITY_TERMS.items()}
KINDLY_TERM_IDS = frozenset(KIND_BY_TERM_ID) | frozenset(CAPACITY_BY_TERM_ID)

# Ids for nested objects Kindly has to invent (a phone typed into Kindly, say): uuid5 of the
# parent's id and the object's role, so every export gives the same id.
_GENERATED = uuid.uuid5(v.TAXONOMY_NAMESPACE, "kindly-open-referral-export")


def generated_id(parent_id: str, role: str) -> str:
    return str(uuid.uuid5(_GENERATED, f"{parent_id}:{role}"))


class MappingError(ValueError):
    """A value Kindly cannot take, with where it was ("schedules[0].opens_at")."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


# --- shared helpers ---------------------------------------------------------------


def _put(out: dict, key: str, value) -> None:
    """Set `key` unless the value is empty: ORUK leaves unknown fields out."""
    if value is not None and value != "":
        out[key] = value


def _clock(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def _instant(value: datetime) -> str:
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{value.microsecond:06d}Z" if value.microsecond else "Z")


def _amount(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$")


def parse_time(raw) -> time:
    match = _TIME.match(raw.strip()) if isinstance(raw, str) else None
    if not match:
        raise ValueError(f"{raw!r} is not a time (HH:MM)")
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def parse_date(raw) -> date:
    if not isinstance(raw, str):
        raise ValueError(f"{raw!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(raw.strip()[:10])
    except ValueError:
        raise ValueError(f"{raw!r} is not a date (YYYY-MM-DD)") from None


def parse_instant(raw) -> datetime:
    if not isinstance(raw, str):
        raise ValueError(f"{raw!r} is not a date-time")
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"{raw!r} is not a date-time (e.g. 2025-01-31T09:00:00Z)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_amount(raw) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ValueError(f"{raw!r} is not a number")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not a number") from None
    if not value.is_finite() or abs(value) >= Decimal("1e8"):
        raise ValueError(f"{raw!r} is not an amount")
    return value.quantize(Decimal("0.01"))


# (parse, format) for the values Kindly stores typed and HSDS writes as text.
FORMATS: dict[str, tuple[Callable, Callable]] = {
    "time": (parse_time, _clock),
    "date": (parse_date, date.isoformat),
    "instant": (parse_instant, _instant),
    "amount": (parse_amount, _amount),
}


def _typed_out(out: dict, extra: Mapping, key: str, value, kind: str) -> None:
    """Kindly's value, written as the source wrote it while that still means the same."""
    if value is None:
        return
    parse, fmt = FORMATS[kind]
    raw = extra.get(key)
    if raw is not None:
        try:
            if parse(raw) == value:
                out[key] = raw
                return
        except ValueError:
            pass
    out[key] = fmt(value)


# --- export: models to Open Referral ----------------------------------------------


def _extra_out(extra: Mapping | None, handled: frozenset[str]) -> dict:
    return {k: copy.deepcopy(val) for k, val in (extra or {}).items() if k not in handled}


_ORG_HANDLED = frozenset({"id", "name", "description", "email", "website", "phones"})


def organization(org: DirectoryOrganisation) -> dict:
    extra = org.extra or {}
    out = _extra_out(extra, _ORG_HANDLED)
    out.update(id=org.id, name=org.name, description=org.description or "")
    _put(out, "email", org.email)
    _put(out, "website", org.website)
    phones = _phones_out(extra.get("phones"), org.phone, org.id, "organization_id")
    if phones:
        out["phones"] = phones
    return out


def _phones_out(kept, number: str, parent_id: str, link: str) -> list[dict]:
    phones = copy.deepcopy(kept) if isinstance(kept, list) else []
    if phones and isinstance(phones[0], dict):
        if number:
            phones[0]["number"] = number
        else:
            phones.pop(0)  # a phone without a number is not a phone (HSDS requires it)
    elif number:
        phones.append({"id": generated_id(parent_id, "phone"), link: parent_id, "number": number})
    return phones


def _generated_phones(number: str, parent_id: str, link: str) -> list[dict]:
    return _phones_out(None, number, parent_id, link)


def organization_summary(org: DirectoryOrganisation) -> dict:
    """The organization's one-to-one fields (as a service list nests it)."""
    return {k: val for k, val in organization(org).items() if not isinstance(val, (list, dict))}


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


def _contacts_out(offer: Offer) -> list[dict]:
    kept = (offer.extra or {}).get("contacts")
    contacts = copy.deepcopy(kept) if isinstance(kept, list) else []
    if contacts and isinstance(contacts[0], dict):
        if offer.contact_name:
            contacts[0]["name"] = offer.contact_name
        else:
            contacts[0].pop("name", None)
    elif offer.contact_name:
        contacts.append({"id": generated_id(offer.id, "contact"), "service_id": offer.id,
                         "name": offer.contact_name})
    if not _service_phone_kept(offer) and contacts and isinstance(contacts[0], dict) \
            and isinstance(contacts[0].get("phones"), list) and contacts[0]["phones"]:
        # The phone lives with the contact (as in the demo file): Kindly's number goes there.
        contacts[0]["phones"] = _phones_out(contacts[0]["phones"], offer.contact_phone,
                                            contacts[0].get("id", offer.id), "contact_id")
    return contacts


def _service_phone_kept(offer: Offer) -> bool:
    kept = (offer.extra or {}).get("phones")
    return isinstance(kept, list) and bool(kept)


def _service_phones_out(offer: Offer, contacts: list[dict]) -> list[dict]:
    if _service_phone_kept(offer):
        return _phones_out(offer.extra["phones"], offer.contact_phone, offer.id, "service_id")
    on_contact = bool(contacts) and isinstance(contacts[0], dict) and bool(
        contacts[0].get("phones"))
    if on_contact or not offer.contact_phone:
        return []
    return _generated_phones(offer.contact_phone, offer.id, "service_id")


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


def vocabulary_term(term: v.Term) -> dict:
    taxonomy_id = v.KIND_TAXONOMY_ID if term.taxonomy == v.KIND_TAXONOMY else v.CAPACITY_TAXONOMY_ID
    return {"id": term.id, "name": term.name, "description": term.name,
            "taxonomy_id": taxonomy_id, "taxonomy": KINDLY_TAXONOMIES[taxonomy_id][0]}


def category_term(category: v.Category) -> dict:
    return {"id": category.id, "name": category.name, "description": category.description,
            "taxonomy_id": v.TAXONOMY_ID, "taxonomy": v.TAXONOMY_NAME}


def kindly_vocabulary_terms() -> list[dict]:
    """Every term of Kindly's own taxonomies, as ORUK taxonomy terms."""
    return ([category_term(c) for c in v.CATEGORIES]
            + [vocabulary_term(t) for t in v.KIND_TERMS.values()]
            + [vocabulary_term(t) for t in v.CAPACITY_TERMS.values()])


_TERM_HANDLED = frozenset({"id", "name", "description", "parent_id", "taxonomy_id", "term_uri"})


def taxonomy_term(term: TaxonomyTerm) -> dict:
    out = _extra_out(term.extra, _TERM_HANDLED)
    out.update(id=term.id, name=term.name, description=term.description or "")
    _put(out, "parent_id", term.parent_id)
    _put(out, "taxonomy_id", term.taxonomy_id)
    _put(out, "term_uri", term.term_uri)
    return out


def taxonomy(tax: Taxonomy) -> dict:
    out = {"id": tax.id, "name": tax.name, "description": tax.description or ""}
    _put(out, "uri", tax.uri)
    _put(out, "version", tax.version)
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


_LOCATION_HANDLED = frozenset({
    "id", "location_type", "organization_id", "name", "description", "latitude", "longitude",
    "addresses", "accessibility",
})
_ADDRESS_FIELDS = ("address_1", "address_2", "city", "state_province", "postal_code", "country")
_ADDRESS_REQUIRED = ("address_1", "city", "state_province", "postal_code", "country")


def location(loc: Location) -> dict:
    extra = loc.extra or {}
    out = _extra_out(extra, _LOCATION_HANDLED)
    out["id"] = loc.id
    out["location_type"] = loc.location_type or "physical"
    _put(out, "organization_id", loc.organisation_id)
    _put(out, "name", loc.name)
    _put(out, "description", loc.description)
    _put(out, "latitude", loc.latitude)
    _put(out, "longitude", loc.longitude)
    addresses = _addresses_out(loc, extra.get("addresses"))
    if addresses:
        out["addresses"] = addresses
    accessibility = _accessibility_out(loc)
    if accessibility or "accessibility" in extra:
        out["accessibility"] = accessibility
    return out


def _addresses_out(loc: Location, kept) -> list[dict]:
    addresses = copy.deepcopy(kept) if isinstance(kept, list) else []
    if addresses and isinstance(addresses[0], dict):
        first = addresses[0]
        for key in _ADDRESS_FIELDS:
            value = getattr(loc, key)
            if value or key in first:
                first[key] = value
        if loc.address_id:
            first["id"] = loc.address_id
        for address in addresses:
            if isinstance(address, dict):
                # HSDS requires these; a source that left them out gets them empty.
                for key in _ADDRESS_REQUIRED:
                    address.setdefault(key, "")
                address.setdefault("address_type", "physical")
        return addresses
    return [_generated_address(loc)] if any(getattr(loc, k) for k in _ADDRESS_FIELDS[:-1]) else []


def _generated_address(loc: Location) -> dict:
    # HSDS requires these address fields, so they are written even when empty.
    address = {"id": loc.address_id or generated_id(loc.id, "address"), "location_id": loc.id,
               "address_1": loc.address_1}
    _put(address, "address_2", loc.address_2)
    address.update(city=loc.city, state_province=loc.state_province,
                   postal_code=loc.postal_code, country=loc.country or "GB",
                   address_type="physical")
    return address


def _accessibility_out(loc: Location) -> list[dict]:
    codes = list(loc.accessibility or [])
    out = []
    for entry in (loc.extra or {}).get("accessibility") or []:
        code = entry.get("details") if isinstance(entry, dict) else None
        if code not in v.ACCESSIBILITY_BY_CODE:
            out.append(copy.deepcopy(entry))  # not one of Kindly's features: kept as is
        elif code in codes:
            out.append(copy.deepcopy(entry))
            codes.remove(code)
    out.extend(_generated_accessibility(loc.id, code) for code in codes)
    return out


def _generated_accessibility(location_id: str, code: str) -> dict:
    feature = v.ACCESSIBILITY_BY_CODE.get(code)
    return {"id": generated_id(location_id, f"accessibility:{code}"), "location_id": location_id,
            "description": feature.label if feature else code, "details": code}


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


# --- import: Open Referral to plain field dicts ---------------------------------------


@dataclass
class ServiceRecord:
    """One ORUK service as rows to upsert: each a dict of column values (with `id`)."""

    offer: dict
    organisation: dict | None = None
    locations: list[dict] = field(default_factory=list)
    sites: list[dict] = field(default_factory=list)
    schedules: list[dict] = field(default_factory=list)
    cost_options: list[dict] = field(default_factory=list)
    attributes: list[dict] = field(default_factory=list)
    # Terms whose full object came with the service, and the taxonomies they name:
    # `complete` ones came as a taxonomy_detail, the others only by id (create if missing).
    terms: list[dict] = field(default_factory=list)
    taxonomies: list[dict] = field(default_factory=list)
    # Term ids the service links to without their object (must already be stored).
    term_refs: list[str] = field(default_factory=list)


class _Reader:
    """Reads typed values out of one ORUK object, naming where a bad one was."""

    def __init__(self, data, where: str):
        if not isinstance(data, dict):
            raise MappingError(where, "expected an object")
        self.data, self.where = data, where

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.data.get(key)
        if value is None:
            if required:
                raise MappingError(self.at(key), "is required")
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise MappingError(self.at(key), f"expected text, got {value!r}")
        value = str(value)
        if required and not value.strip():
            raise MappingError(self.at(key), "is required")
        return value

    def id(self, key: str = "id", *, required: bool = True) -> str | None:
        value = self.text(key, required=required).strip()
        return value or None

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise MappingError(self.at(key), f"{value!r} is not a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise MappingError(self.at(key), f"{value!r} is not a number") from None
        if not math.isfinite(number):
            raise MappingError(self.at(key), f"{value!r} is not a number")
        return number

    def whole(self, key: str, *, low: int = 0, high: int = 150) -> int | None:
        number = self.number(key)
        if number is None:
            return None
        if number != int(number) or not low <= number <= high:
            raise MappingError(self.at(key), f"{self.data[key]!r} is not a whole number "
                                             f"from {low} to {high}")
        return int(number)

    def typed(self, key: str, kind: str, extra: dict):
        """Parse a time/date/instant/amount; keep the raw text in `extra` when Kindly
        would write it differently."""
        raw = self.data.get(key)
        if raw is None or raw == "":
            return None
        parse, fmt = FORMATS[kind]
        try:
            value = parse(raw)
        except ValueError as exc:
            raise MappingError(self.at(key), str(exc)) from None
        if fmt(value) != raw:
            extra[key] = raw
        return value

    def items(self, key: str) -> list[tuple[_Reader, dict]]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise MappingError(self.at(key), "expected a list")
        return [(_Reader(item, f"{self.at(key)}[{n}]"), item) for n, item in enumerate(value)]

    def rest(self, handled: frozenset[str]) -> dict:
        return {k: copy.deepcopy(val) for k, val in self.data.items() if k not in handled}


def says_free(text: str) -> bool:
    words = (text or "").strip().casefold()
    return words.startswith("free") or words in {"no charge", "none", "£0", "0", "nothing"}


def is_free(cost_options: list[dict], fees_description: str) -> bool:
    """Kindly's rule: free when the service has cost options and every one costs nothing
    (amount 0, or no amount and an option that says "Free"); with no cost options, when
    the fees text says so ("Free", "No charge"). Anything unclear is not free, so "free
    only" never shows something that charges."""
    if cost_options:
        return all(o.get("amount") == 0 or (
            o.get("amount") is None and (says_free(o.get("option", ""))
                                         or says_free(o.get("amount_description", ""))))
            for o in cost_options)
    return says_free(fees_description)


def service_record(data) -> ServiceRecord:
    """Map one ORUK service (fully nested or flat) to rows; MappingError if Kindly cannot
    take a value. Unmodelled fields land in each row's `extra`."""
    r = _Reader(data, "")
    offer_id = r.id()
    extra = r.rest(_SERVICE_HANDLED)
    offer = {"id": offer_id, "name": r.text("name", required=True),
             "description": r.text("description"), "url": r.text("url"),
             "email": r.text("email")}
    status = r.text("status") or OfferStatus.ACTIVE.value
    if status not in {s.value for s in OfferStatus}:
        raise MappingError("status", f"{status!r} is not one of "
                                     f"{', '.join(s.value for s in OfferStatus)}")
    offer["status"] = OfferStatus(status)
    offer["fees_description"] = r.text("fees") if "fees" in r.data else r.text("fees_description")
    if "fees_description" in r.data:
        both = "fees" in r.data and r.data["fees_description"] != r.data["fees"]
        extra["fees_description"] = copy.deepcopy(r.data["fees_description"]) if both else None
    offer["eligibility_description"] = r.text("eligibility_description")
    offer["minimum_age"] = r.whole("minimum_age")
    offer["maximum_age"] = r.whole("maximum_age")
    offer["last_verified_on"] = r.typed("assured_date", "date", extra)
    offer["verified_by_email"] = r.text("assurer_email").strip()
    offer["updated_at"] = r.typed("last_modified", "instant", extra)

    record = ServiceRecord(offer=offer)
    organisation_id = r.id("organization_id", required=False)
    if r.data.get("organization") is not None:
        record.organisation = organisation_fields(r.data["organization"], "organization")
        if organisation_id and organisation_id != record.organisation["id"]:
            raise MappingError("organization.id", "differs from organization_id")
        organisation_id = record.organisation["id"]
    offer["organisation_id"] = organisation_id

    sites_by_id = _sites(r, offer_id, record)
    _schedules(r, offer_id, record, sites_by_id)
    _costs(r, offer_id, record)
    offer["is_free"] = is_free(
        [{"amount": c["amount"], "option": c["option"],
          "amount_description": c["amount_description"]} for c in record.cost_options],
        offer["fees_description"])
    offer["languages"] = _languages(r, offer_id, extra)
    _contacts(r, offer, extra)
    offer["kind"], offer["capacity_status"] = _attributes(r, offer_id, record, extra)
    offer["extra"] = extra
    return record


def organisation_fields(data, where: str) -> dict:
    r = _Reader(data, where)
    extra = r.rest(_ORG_HANDLED)
    org = {"id": r.id(), "name": r.text("name", required=True),
           "description": r.text("description"), "email": r.text("email"),
           "website": r.text("website")}
    phones = r.items("phones")
    org["phone"] = phones[0][0].text("number") if phones else ""
    if phones and [p for _, p in phones] != _generated_phones(org["phone"], org["id"],
                                                               "organization_id"):
        extra["phones"] = [copy.deepcopy(p) for _, p in phones]
    org["extra"] = extra
    return org


def location_fields(data, where: str) -> dict:
    r = _Reader(data, where)
    extra = r.rest(_LOCATION_HANDLED)
    location_type = r.text("location_type") or "physical"
    if location_type not in ("physical", "postal", "virtual"):
        raise MappingError(r.at("location_type"), f"{location_type!r} is not physical, "
                                                  "postal or virtual")
    loc = {"id": r.id(), "location_type": location_type, "name": r.text("name"),
           "description": r.text("description"),
           "organisation_id": r.id("organization_id", required=False),
           "latitude": r.number("latitude"), "longitude": r.number("longitude")}
    if loc["latitude"] is not None and not -90 <= loc["latitude"] <= 90:
        raise MappingError(r.at("latitude"), "must be from -90 to 90")
    if loc["longitude"] is not None and not -180 <= loc["longitude"] <= 180:
        raise MappingError(r.at("longitude"), "must be from -180 to 180")
    addresses = r.items("addresses")
    first = addresses[0][0] if addresses else None
    loc["address_id"] = first.id(required=False) if first else None
    for key in _ADDRESS_FIELDS:
        loc[key] = first.text(key) if first else ""
    if loc["country"] == "" and first is None:
        loc["country"] = "GB"
    if addresses:
        probe = Location(id=loc["id"], **{k: loc[k] for k in (*_ADDRESS_FIELDS, "address_id")})
        if [a for _, a in addresses] != [_generated_address(probe)]:
            extra["addresses"] = [copy.deepcopy(a) for _, a in addresses]
    codes, kept = [], []
    for entry_reader, entry in r.items("accessibility"):
        code = entry_reader.text("details").strip()
        if code in v.ACCESSIBILITY_BY_CODE and code not in codes:
            codes.append(code)
            if entry != _generated_accessibility(loc["id"], code):
                kept.append(copy.deepcopy(entry))
        else:
            kept.append(copy.deepcopy(entry))
    if kept or ("accessibility" in r.data and not codes):
        extra["accessibility"] = kept
    loc["accessibility"] = codes
    loc["extra"] = extra
    return loc


def _sites(r: _Reader, offer_id: str, record: ServiceRecord) -> dict[str, _Reader]:
    sites = {}
    for site_reader, _ in r.items("service_at_locations"):
        site_id = site_reader.id()
        location_id = site_reader.id("location_id", required=False)
        if site_reader.data.get("location") is not None:
            loc = location_fields(site_reader.data["location"], site_reader.at("location"))
            if location_id and location_id != loc["id"]:
                raise MappingError(site_reader.at("location.id"), "differs from location_id")
            location_id = loc["id"]
            record.locations.append(loc)
        if not location_id:
            raise MappingError(site_reader.at("location_id"), "is required")
        record.sites.append({"id": site_id, "offer_id": offer_id, "location_id": location_id,
                             "description": site_reader.text("description"),
                             "extra": site_reader.rest(_SITE_HANDLED)})
        sites[site_id] = site_reader
    return sites


def _schedules(r: _Reader, offer_id: str, record: ServiceRecord,
               sites: dict[str, _Reader]) -> None:
    readers = [(s, None) for s, _ in r.items("schedules")]
    for site_id, site_reader in sites.items():
        readers += [(s, site_id) for s, _ in site_reader.items("schedules")]
    for s, under_site in readers:
        extra = s.rest(_SCHEDULE_HANDLED)
        row = {"id": s.id(), "offer_id": offer_id,
               "service_at_location_id": s.id("service_at_location_id", required=False)
               or under_site,
               "freq": s.text("freq").strip().upper(), "interval": s.whole("interval", high=999),
               "byday": s.text("byday").strip().upper(), "bymonthday": s.text("bymonthday"),
               "description": s.text("description")}
        if s.data.get("freq") is not None and row["freq"] != s.data["freq"]:
            extra["freq"] = s.data["freq"]
        if s.data.get("byday") is not None and row["byday"] != s.data["byday"]:
            extra["byday"] = s.data["byday"]
        for key in ("opens_at", "closes_at"):
            row[key] = s.typed(key, "time", extra)
        for key in ("valid_from", "valid_to", "dtstart"):
            row[key] = s.typed(key, "date", extra)
        if under_site:
            extra[_UNDER_SITE] = True
        row["extra"] = extra
        record.schedules.append(row)


def _costs(r: _Reader, offer_id: str, record: ServiceRecord) -> None:
    for c, _ in r.items("cost_options"):
        extra = c.rest(_COST_HANDLED)
        record.cost_options.append({
            "id": c.id(), "offer_id": offer_id, "option": c.text("option"),
            "amount": c.typed("amount", "amount", extra), "currency": c.text("currency"),
            "amount_description": c.text("amount_description"), "extra": extra})


def _languages(r: _Reader, offer_id: str, extra: dict) -> list[str]:
    codes, kept = [], []
    for lang_reader, entry in r.items("languages"):
        code = _language_code(entry)
        if code and code not in codes:
            if len(code) > 8:
                raise MappingError(lang_reader.at("code"), f"{code!r} is not a language code")
            codes.append(code)
            if entry != _generated_language(offer_id, code):
                kept.append(copy.deepcopy(entry))
        else:
            kept.append(copy.deepcopy(entry))
    if kept:
        extra["languages"] = kept
    return codes


def _contacts(r: _Reader, offer: dict, extra: dict) -> None:
    contacts = r.items("contacts")
    phones = r.items("phones")
    offer["contact_name"] = contacts[0][0].text("name") if contacts else ""
    if phones:
        offer["contact_phone"] = phones[0][0].text("number")
    elif contacts:
        contact_phones = contacts[0][0].items("phones")
        offer["contact_phone"] = contact_phones[0][0].text("number") if contact_phones else ""
    else:
        offer["contact_phone"] = ""
    oid = offer["id"]
    generated_contacts = ([{"id": generated_id(oid, "contact"), "service_id": oid,
                            "name": offer["contact_name"]}] if offer["contact_name"] else [])
    if contacts and [c for _, c in contacts] != generated_contacts:
        extra["contacts"] = [copy.deepcopy(c) for _, c in contacts]
    if phones and [p for _, p in phones] != _generated_phones(offer["contact_phone"], oid,
                                                               "service_id"):
        extra["phones"] = [copy.deepcopy(p) for _, p in phones]


def _attributes(r: _Reader, offer_id: str, record: ServiceRecord,
                extra: dict) -> tuple[OfferKind | None, CapacityStatus | None]:
    kind = capacity = None
    kept: dict[str, dict] = {}
    default_links = {"link_id": offer_id, "link_type": "service", "link_entity": "service"}
    for a, attr in r.items("attributes"):
        attr_id = a.id()
        term_id = a.id("taxonomy_term_id", required=False)
        if a.data.get("taxonomy_term") is not None:
            term = term_fields(a.data["taxonomy_term"], a.at("taxonomy_term"))
            if term_id and term_id != term["id"]:
                raise MappingError(a.at("taxonomy_term.id"), "differs from taxonomy_term_id")
            term_id = term["id"]
            if all(t["id"] != term_id for t in record.terms):
                record.terms.append(term)
                record.taxonomies.extend(_taxonomies_of(a.data["taxonomy_term"], term))
        elif term_id:
            record.term_refs.append(term_id)
        else:
            raise MappingError(a.at("taxonomy_term_id"), "is required")
        links = {k: copy.deepcopy(val) for k, val in attr.items()
                 if k not in ("id", "taxonomy_term_id", "taxonomy_term", "value")}
        if term_id in KIND_BY_TERM_ID or term_id in CAPACITY_BY_TERM_ID:
            if term_id in KIND_BY_TERM_ID and kind is None:
                kind = KIND_BY_TERM_ID[term_id]
                role = "kind"
            elif term_id in CAPACITY_BY_TERM_ID and capacity is None:
                capacity = CAPACITY_BY_TERM_ID[term_id]
                role = "capacity"
            else:
                raise MappingError(a.at("taxonomy_term_id"),
                                   "a service has one offer kind and one capacity status")
            if attr_id != generated_id(offer_id, f"attribute:{role}") or links != default_links:
                kept[attr_id] = {"taxonomy_term_id": term_id, **links}
            continue
        record.attributes.append({"id": attr_id, "offer_id": offer_id,
                                  "taxonomy_term_id": term_id, "value": a.text("value")})
        if links != default_links:
            kept[attr_id] = links
    if kept:
        extra["attributes"] = kept
    return kind, capacity


def term_fields(data, where: str) -> dict:
    r = _Reader(data, where)
    term = {"id": r.id(), "name": r.text("name", required=True),
            "description": r.text("description"), "parent_id": r.id("parent_id", required=False),
            "taxonomy_id": r.id("taxonomy_id", required=False), "term_uri": r.text("term_uri"),
            "extra": r.rest(_TERM_HANDLED)}
    detail = r.data.get("taxonomy_detail")
    if term["taxonomy_id"] is None and isinstance(detail, dict) and detail.get("id"):
        term["taxonomy_id"] = str(detail["id"])
    category = v.CATEGORY_BY_ID.get(term["id"])
    # Only Kindly's categories carry a `code` column: the matcher reads it as a category.
    term["code"] = category.code if category else ""
    return term


def _taxonomies_of(data: dict, term: dict) -> list[dict]:
    detail = data.get("taxonomy_detail")
    if isinstance(detail, dict):
        r = _Reader(detail, "taxonomy_term.taxonomy_detail")
        return [{"id": r.id(), "name": r.text("name", required=True),
                 "description": r.text("description"), "uri": r.text("uri"),
                 "version": r.text("version"), "complete": True}]
    if term["taxonomy_id"]:
        name, description = KINDLY_TAXONOMIES.get(term["taxonomy_id"], ("", ""))
        named = data.get("taxonomy") if isinstance(data.get("taxonomy"), str) else ""
        return [{"id": term["taxonomy_id"], "name": name or named or term["taxonomy_id"],
                 "description": description, "uri": "", "version": "", "complete": False}]
    return []


def taxonomy_fields(data, where: str) -> dict:
    r = _Reader(data, where)
    return {"id": r.id(), "name": r.text("name", required=True),
            "description": r.text("description"), "uri": r.text("uri"),
            "version": r.text("version"), "complete": True}


def services_in(document) -> list:
    """The services in an ORUK document: a page envelope, one service, or a list."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        return document["contents"]
    if isinstance(document, dict) and "id" in document and "name" in document:
        return [document]
    raise MappingError("", "not an Open Referral page (with contents), service or list of "
                           "services")


def describe(data) -> str:
    """How a report names one service: its id and name, as far as they can be read."""
    if not isinstance(data, dict):
        return "an item that is not an object"
    ident, name = data.get("id"), data.get("name")
    if ident and name:
        return f"service {ident} ({name!r})"
    return f"service {ident}" if ident else (f"service {name!r}" if name else "a service")

