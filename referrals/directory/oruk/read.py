"""Import: one ORUK service dict (fully nested or flat) to plain field dicts, one per row,
that `importing.py` upserts. What export would write anyway is not kept in `extra`, so
reading compares with the writers (write.py, contacts.py, locations.py).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from referrals.directory.oruk.contacts import _contacts, organisation_fields
from referrals.directory.oruk.formats import is_free
from referrals.directory.oruk.locations import location_fields
from referrals.directory.oruk.reader import MappingError, _Reader
from referrals.directory.oruk.terms import (
    CAPACITY_BY_TERM_ID,
    KIND_BY_TERM_ID,
    _taxonomies_of,
    generated_id,
    term_fields,
)
from referrals.directory.oruk.write import (
    _COST_HANDLED,
    _SCHEDULE_HANDLED,
    _SERVICE_HANDLED,
    _SITE_HANDLED,
    _UNDER_SITE,
    _generated_language,
    _language_code,
)
from referrals.models import CapacityStatus, OfferKind, OfferStatus


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
