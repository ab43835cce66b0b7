"""What a coordinator says about an organisation or an offer, and the rules it must meet.

The forms parse what is typed into these details; `organisation_problems` and
`offer_problems` name every rule broken, by form field, and the service raises
DirectoryInvalid with them before changing anything.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from urllib.parse import urlsplit

from referrals.directory import vocabulary
from referrals.errors import DomainError
from referrals.extensions import db
from referrals.models import DirectoryOrganisation, OfferKind, OfferStatus
from referrals.postcode import normalise_postcode

MAX_SESSIONS = 3
MAX_AGE = 120
MAX_AMOUNT = Decimal(10000)
MAX_TEXT = 10_000
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


# --- checks ----------------------------------------------------------------------


def organisation_problems(details: OrganisationDetails) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not details.name.strip():
        errors["name"] = "Enter the organisation's name"
    _check_lengths(errors, details, name=300, description=MAX_TEXT)
    _check_contact(errors, details.email, details.phone, details.website)
    return errors


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
