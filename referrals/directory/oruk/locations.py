"""Locations, both ways: Kindly keeps a location's first address and its accessibility
features (vocabulary.ACCESSIBILITY_BY_CODE) as columns; the source's own address and
accessibility objects are kept in `extra` unless export would write them anyway.
"""
from __future__ import annotations

import copy

from referrals.directory import vocabulary as v
from referrals.directory.oruk.formats import _extra_out, _put
from referrals.directory.oruk.reader import MappingError, _Reader
from referrals.directory.oruk.terms import generated_id
from referrals.models import Location

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


# --- import ------------------------------------------------------------------------


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
