"""Postcodes to places, and distances between places.

A postcode is found in the local table (loaded by `flask --app wsgi import-postcodes`),
then through an optional HTTP lookup (POSTCODE_LOOKUP_URL, answers cached in the same
table), then as its outward code's centroid. An unknown postcode is None, never an error.
"""
from __future__ import annotations

import json
import logging
import math
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import NamedTuple

from flask import current_app
from sqlalchemy import select

from referrals.extensions import db
from referrals.models import PostcodePlace
from referrals.postcode import normalise_postcode

log = logging.getLogger(__name__)
EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


class Place(NamedTuple):
    postcode: str
    latitude: float
    longitude: float
    # "postcode" (exact), "lookup" (HTTP service) or "outcode" (the district's centre).
    precision: str


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def outward_code(postcode: str) -> str:
    return postcode.split(" ")[0]


def locate(raw: str) -> Place | None:
    """Where this postcode is, as precisely as Kindly can tell; None if not known."""
    postcode = normalise_postcode(raw or "")
    if postcode is None:
        return None
    row = db.session.get(PostcodePlace, postcode)
    if row is not None:
        return Place(postcode, row.latitude, row.longitude, "postcode")
    if found := _lookup(postcode):
        return found
    centroid = db.session.get(PostcodePlace, outward_code(postcode))
    if centroid is not None:
        return Place(postcode, centroid.latitude, centroid.longitude, "outcode")
    return None


def _lookup(postcode: str) -> Place | None:
    template = current_app.config.get("POSTCODE_LOOKUP_URL") or ""
    if not template:
        return None
    url = template.replace("{postcode}", urllib.parse.quote(postcode))
    try:
        with urllib.request.urlopen(url, timeout=current_app.config["POSTCODE_LOOKUP_TIMEOUT"]) as r:
            answer = json.load(r)
        result = answer.get("result") or {}
        latitude, longitude = float(result["latitude"]), float(result["longitude"])
    except Exception as exc:  # a lookup service that is down must not break a search
        log.info("postcode lookup for %s failed: %s", postcode, exc)
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    # Remember it: the next search for this postcode needs no network.
    db.session.merge(PostcodePlace(postcode=postcode, latitude=latitude, longitude=longitude))
    db.session.flush()
    return Place(postcode, latitude, longitude, "lookup")


class PostcodeRowError(ValueError):
    pass


def parse_row(row: dict) -> PostcodePlace:
    """One CSV row (postcode,latitude,longitude, or the ONS directory's pcds,lat,long)."""
    raw = (row.get("postcode") or row.get("pcds") or row.get("pcd") or "").strip()
    code = normalise_postcode(raw)
    if code is None:
        compact = raw.replace(" ", "").upper()
        # An outward code on its own is a district centroid ("KB1").
        if 2 <= len(compact) <= 4 and normalise_postcode(compact + "1AA"):
            code = compact
        else:
            raise PostcodeRowError(f"not a postcode: {raw!r}")
    try:
        latitude = float(row.get("latitude") or row.get("lat") or "")
        longitude = float(row.get("longitude") or row.get("long") or "")
    except ValueError:
        raise PostcodeRowError(f"{code}: latitude and longitude must be numbers") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise PostcodeRowError(f"{code}: coordinates out of range")
    return PostcodePlace(postcode=code, latitude=latitude, longitude=longitude)


def load_postcodes(rows: Iterable[dict], *, batch: int = 5000) -> dict[str, int]:
    """Upsert postcode rows; returns counts of created, updated, unchanged and skipped
    (rows the ONS file marks as having no coordinates). Bad rows raise PostcodeRowError
    with the row number. Flushes; the caller commits."""
    counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    pending: list[PostcodePlace] = []

    def apply(places: list[PostcodePlace]) -> None:
        existing = {
            p.postcode: p
            for p in db.session.scalars(
                select(PostcodePlace).where(PostcodePlace.postcode.in_([x.postcode for x in places]))
            )
        }
        for place in places:
            old = existing.get(place.postcode)
            if old is None:
                db.session.add(place)
                existing[place.postcode] = place
                counts["created"] += 1
            elif (old.latitude, old.longitude) != (place.latitude, place.longitude):
                old.latitude, old.longitude = place.latitude, place.longitude
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        db.session.flush()

    for number, row in enumerate(rows, start=2):  # row 1 is the header
        # The ONS directory gives terminated/unplaced postcodes 99.999999, 0.000000.
        if (row.get("lat") or row.get("latitude") or "").startswith("99.9999"):
            counts["skipped"] += 1
            continue
        try:
            pending.append(parse_row(row))
        except PostcodeRowError as exc:
            raise PostcodeRowError(f"row {number}: {exc}") from None
        if len(pending) >= batch:
            apply(pending)
            pending = []
    if pending:
        apply(pending)
    return counts
