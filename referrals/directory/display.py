"""How an offer's times, cost and place read to a person: "Tuesdays, 10:00 to 12:00",
"Free", "£3: two-course lunch". One place, so every page and letter says it alike."""
from __future__ import annotations

from decimal import Decimal

from flask import url_for

from referrals.directory.vocabulary import ACCESSIBILITY_BY_CODE, LANGUAGES, WEEKDAY_NAMES
from referrals.models import Offer, Schedule

ORDINALS = {"1": "first", "2": "second", "3": "third", "4": "fourth", "5": "fifth",
            "-1": "last"}


def _clock(value) -> str:
    return value.strftime("%H:%M") if value else ""


def _hours(schedule: Schedule) -> str:
    opens, closes = _clock(schedule.opens_at), _clock(schedule.closes_at)
    if opens and closes:
        return f"{opens} to {closes}"
    if opens:
        return f"from {opens}"
    return ""


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def schedule_text(schedule: Schedule) -> str:
    """One schedule in words; its own description when the rule says nothing readable."""
    parts = [p.strip().upper() for p in schedule.byday.split(",") if p.strip()]
    days = []
    for part in parts:
        ordinal, code = part[:-2], part[-2:]
        name = WEEKDAY_NAMES.get(code)
        if name is None:
            return schedule.description
        if ordinal and schedule.freq == "MONTHLY":
            days.append(f"{ORDINALS.get(ordinal, ordinal)} {name} of the month")
        else:
            days.append(f"{name}s")
    if not days:
        return schedule.description
    if schedule.freq == "WEEKLY" and (schedule.interval or 1) == 2:
        days = [f"every other {d[:-1]}" for d in days]
    hours = _hours(schedule)
    text = _join(days)
    text = text[0].upper() + text[1:]
    return f"{text}, {hours}" if hours else text


def when_text(offer: Offer) -> str:
    texts = [t for t in (schedule_text(s) for s in offer.schedules) if t]
    return "; ".join(texts) if texts else "Times to suit: ask when you get in touch"


def money(amount: Decimal | float | None) -> str:
    if amount is None:
        return ""
    amount = Decimal(str(amount))
    return f"£{amount:.2f}".replace(".00", "")


def cost_text(offer: Offer) -> str:
    if offer.is_free:
        return "Free"
    priced = [c for c in offer.cost_options if c.amount]
    if priced:
        option = priced[0]
        words = option.amount_description or option.option
        return f"{money(option.amount)}: {words}" if words else money(option.amount)
    return offer.fees_description or "Ask about cost"


def accessibility_labels(codes) -> list[str]:
    return [ACCESSIBILITY_BY_CODE[c].label for c in codes or [] if c in ACCESSIBILITY_BY_CODE]


def language_names(codes) -> list[str]:
    return [LANGUAGES.get(c, c) for c in codes or []]


def ages_text(offer: Offer) -> str:
    low, high = offer.minimum_age, offer.maximum_age
    if low is not None and high is not None:
        return f"Ages {low} to {high}"
    if low is not None:
        return f"Ages {low} and over"
    if high is not None:
        return f"Ages up to {high}"
    return "All ages"


def distance_text(km: float | None) -> str:
    if km is None:
        return ""
    return f"{km:.1f} km away" if km >= 0.1 else "Less than 0.1 km away"


# --- issue 14 (search): the map's places -------------------------------------------------


def map_point(offer: Offer, venue, *, link: bool) -> dict | None:
    """One place for the map (data attributes, read by static/kindly-map.js); None for a
    venue that is online, by phone or not placed."""
    if venue is None or venue.location_type == "virtual" or venue.latitude is None \
            or venue.longitude is None:
        return None
    return {"lat": round(venue.latitude, 6), "lon": round(venue.longitude, 6),
            "name": offer.name, "where": venue.address_line or venue.name,
            "href": url_for("directory.offer", offer_id=offer.id) if link else None}


def map_points_for_results(hits) -> list[dict]:
    """The listed offers' venues (the nearest one when searching from a postcode)."""
    points = []
    for hit in hits:
        venue = hit.location or next(
            (v for v in hit.offer.locations if v.latitude is not None), None)
        if (point := map_point(hit.offer, venue, link=True)) is not None:
            points.append(point)
    return points


def map_points_for_offer(offer: Offer) -> list[dict]:
    return [p for venue in offer.locations
            if (p := map_point(offer, venue, link=False)) is not None]
