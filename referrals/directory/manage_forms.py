"""Coordinator forms for the directory. They parse what is typed (numbers, times, money)
and keep it for showing again; the directory service judges the rules."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from referrals.caseload.forms import parse_time
from referrals.directory import vocabulary
from referrals.directory.details import (
    MAX_SESSIONS,
    OfferDetails,
    OrganisationDetails,
    Session,
    Venue,
)
from referrals.directory.listing import OfferFilter
from referrals.directory.service import charge, venue_site, weekly_sessions
from referrals.forms import KindlyForm, MultiCheckboxField, whole_number
from referrals.models import CapacityStatus, DirectoryOrganisation, Offer, OfferKind, OfferStatus


class _ParsedField(StringField):
    """Text parsed into a value; what was typed is shown again, and a parse error
    becomes the field's error. Blank is None."""

    message = "Enter a valid value"

    def parse(self, text: str):
        raise NotImplementedError

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        self.data = None
        text = self.raw_text.strip()
        if text:
            try:
                self.data = self.parse(text)
            except (ValueError, InvalidOperation):
                self.process_errors.append(self.message)

    def _value(self):
        if getattr(self, "raw_text", None) is not None:
            return self.raw_text
        return "" if self.data is None else self.show(self.data)

    def show(self, value) -> str:
        return str(value)


class WholeNumberField(_ParsedField):
    message = "Enter a whole number, like 18"

    def parse(self, text):
        number = whole_number(text, max_digits=4)
        if number is None:
            raise ValueError(text)
        return number


class MoneyField(_ParsedField):
    message = "Enter an amount in pounds, like 3.50"

    def parse(self, text):
        text = text.removeprefix("£").replace(",", "").strip()
        if not re.fullmatch(r"\d{1,7}(\.\d{1,2})?", text, re.ASCII):
            raise ValueError(text)
        return Decimal(text)

    def show(self, value):
        return f"{value:.2f}"


class CoordinateField(_ParsedField):
    message = "Enter a number in decimal degrees, like 51.5072"

    def parse(self, text):
        if not re.fullmatch(r"-?\d{1,3}(\.\d{1,10})?", text, re.ASCII):
            raise ValueError(text)
        return float(text)


class TimeTextField(_ParsedField):
    message = "Enter the time as hours and minutes, for example 14:30"

    def parse(self, text):
        return parse_time(text)

    def show(self, value):
        return value.strftime("%H:%M")


def _choices(enum_cls) -> list[SelectChoice]:
    return [SelectChoice(member.value, member.label) for member in enum_cls]


def _member(enum_cls, value):
    try:
        return enum_cls(value) if value else None
    except ValueError:
        return None


class OrganisationForm(KindlyForm):
    name = StringField("Name")
    description = TextAreaField("Description (optional)")
    email = StringField("Email address (optional)")
    phone = StringField("Phone number (optional)")
    website = StringField("Website (optional)")

    def fill(self, organisation: DirectoryOrganisation) -> None:
        for name in ("name", "description", "email", "phone", "website"):
            self[name].data = getattr(organisation, name)

    def details(self) -> OrganisationDetails:
        return OrganisationDetails(**{name: self[name].data or "" for name in
                                      ("name", "description", "email", "phone", "website")})


COST_CHOICES = [SelectChoice("free", "Free"), SelectChoice("charge", "There is a charge")]
DAY_CHOICES = [SelectChoice("", "Choose a day"),
               *(SelectChoice(code, name) for code, name in vocabulary.WEEKDAYS)]


def _session_fields():
    return (SelectField("Day", choices=DAY_CHOICES, validate_choice=False),
            TimeTextField("Starts"), TimeTextField("Finishes"))


class OfferForm(KindlyForm):
    name = StringField("Name")
    organisation = SelectField("Organisation", validate_choice=False)
    kind = RadioField("What kind of offer is it?", choices=_choices(OfferKind),
                      validate_choice=False)
    description = TextAreaField("Description")
    categories = MultiCheckboxField(
        "Categories", choices=[SelectChoice(c.code, c.name) for c in vocabulary.CATEGORIES],
        validate_choice=False)
    status = RadioField("Status", validate_choice=False)
    venue_name = StringField("Venue name (optional)")
    address_1 = StringField("Address line 1")
    address_2 = StringField("Address line 2 (optional)")
    city = StringField("Town or city")
    postcode = StringField("Postcode")
    latitude = CoordinateField("Latitude (optional)")
    longitude = CoordinateField("Longitude (optional)")
    accessibility = MultiCheckboxField(
        "Accessibility at the venue",
        choices=[SelectChoice(f.code, f.label) for f in vocabulary.ACCESSIBILITY],
        validate_choice=False)
    session_1_day, session_1_opens, session_1_closes = _session_fields()
    session_2_day, session_2_opens, session_2_closes = _session_fields()
    session_3_day, session_3_opens, session_3_closes = _session_fields()
    cost = RadioField("Is it free?", choices=COST_CHOICES, validate_choice=False)
    amount = MoneyField("Amount")
    cost_description = StringField("What the charge is for (optional)")
    minimum_age = WholeNumberField("Minimum age (optional)")
    maximum_age = WholeNumberField("Maximum age (optional)")
    eligibility_description = TextAreaField("Who it is for (optional)")
    languages = MultiCheckboxField(
        "Languages it is run in",
        choices=[SelectChoice(code, name) for code, name in vocabulary.LANGUAGES.items()],
        validate_choice=False)
    contact_name = StringField("Contact name (optional)")
    contact_phone = StringField("Phone number (optional)")
    email = StringField("Email address (optional)")
    website = StringField("Website (optional)")

    def __init__(self, organisations: list[DirectoryOrganisation],
                 status: OfferStatus | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation.choices = [SelectChoice("", "Choose an organisation")] + [
            SelectChoice(o.id, o.name + (" (retired)" if o.retired_at else ""))
            for o in organisations]
        statuses = [OfferStatus.ACTIVE, OfferStatus.INACTIVE]
        # An imported offer may be "temporarily closed" or "defunct": keep that choice.
        if status is not None and status not in statuses:
            statuses.append(status)
        self.status.choices = [SelectChoice(s.value, s.label) for s in statuses]

    def session_rows(self):
        return [(row, self[f"session_{row}_day"], self[f"session_{row}_opens"],
                 self[f"session_{row}_closes"]) for row in range(1, MAX_SESSIONS + 1)]

    def fill(self, offer: Offer) -> None:
        for name in ("name", "description", "eligibility_description", "contact_name",
                     "contact_phone", "email", "minimum_age", "maximum_age"):
            self[name].data = getattr(offer, name)
        self.organisation.data = offer.organisation_id or ""
        self.kind.data = offer.kind.value
        self.status.data = offer.status.value
        self.website.data = offer.url
        self.categories.data = [c for c in offer.category_codes
                                if c in vocabulary.CATEGORY_BY_CODE]
        self.languages.data = list(offer.languages or [])
        if (site := venue_site(offer)) is not None:
            loc = site.location
            self.venue_name.data, self.address_1.data = loc.name, loc.address_1
            self.address_2.data, self.city.data = loc.address_2, loc.city
            self.postcode.data = loc.postal_code
            self.latitude.data, self.longitude.data = loc.latitude, loc.longitude
            self.accessibility.data = list(loc.accessibility or [])
        for (_, day, opens, closes), schedule in zip(self.session_rows(), weekly_sessions(offer)):
            day.data = schedule.byday.strip()
            opens.data, closes.data = schedule.opens_at, schedule.closes_at
        if offer.is_free:
            self.cost.data = "free"
        elif (option := charge(offer)) is not None:
            self.cost.data = "charge"
            self.amount.data = option.amount
            self.cost_description.data = offer.fees_description or option.amount_description

    def details(self) -> OfferDetails:
        """What was typed, as the service's input; what failed to parse is None."""
        sessions = [
            Session(row=row, day=day.data or None, opens_at=opens.data, closes_at=closes.data)
            for row, day, opens, closes in self.session_rows()
            if (day.data or "").strip() or _typed(opens) or _typed(closes)
        ]
        return OfferDetails(
            name=self.name.data or "",
            organisation_id=self.organisation.data or None,
            kind=_member(OfferKind, self.kind.data),
            description=self.description.data or "",
            categories=list(self.categories.data or []),
            status=_member(OfferStatus, self.status.data),
            venue=Venue(name=self.venue_name.data or "", address_1=self.address_1.data or "",
                        address_2=self.address_2.data or "", city=self.city.data or "",
                        postcode=self.postcode.data or "", latitude=self.latitude.data,
                        longitude=self.longitude.data),
            accessibility=list(self.accessibility.data or []),
            sessions=sessions,
            free={"free": True, "charge": False}.get(self.cost.data or ""),
            amount=self.amount.data,
            cost_description=self.cost_description.data or "",
            minimum_age=self.minimum_age.data,
            maximum_age=self.maximum_age.data,
            eligibility_description=self.eligibility_description.data or "",
            languages=list(self.languages.data or []),
            contact_name=self.contact_name.data or "",
            contact_phone=self.contact_phone.data or "",
            email=self.email.data or "",
            website=self.website.data or "",
        )


def _typed(field: _ParsedField) -> bool:
    return bool((getattr(field, "raw_text", "") or "").strip())


class CapacityForm(KindlyForm):
    """The quick capacity answer from a row of the list or the offer's page."""

    capacity = SelectField("Capacity", choices=_choices(CapacityStatus), validate_choice=False)
    next = HiddenField()

    def choice(self) -> CapacityStatus | None:
        return _member(CapacityStatus, self.capacity.data)


class ConfirmForm(KindlyForm):
    """A button that does one thing: the CSRF token and where to go back to."""

    next = HiddenField()


def offer_filter(args: MultiDict) -> OfferFilter:
    """The list's filters from the query string; anything unrecognised is ignored."""
    page = args.get("page", "1")
    category = args.get("category") or None
    return OfferFilter(
        text=(args.get("q") or "")[:200],
        status=_member(OfferStatus, args.get("status")),
        kind=_member(OfferKind, args.get("kind")),
        category=category if category in vocabulary.CATEGORY_BY_CODE else None,
        capacity=_member(CapacityStatus, args.get("capacity")),
        needs_checking=args.get("needs_checking") == "1",
        page=whole_number(page, max_digits=6) or 1,
    )
