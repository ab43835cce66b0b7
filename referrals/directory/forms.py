"""The public site's forms: the directory search (GET) and "ask a connector to contact
me" (the self-referral, POST). They parse and word their messages for the person
reading them; the intake service judges the referral."""
from __future__ import annotations

import re
from datetime import date

from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, ValidationError

from referrals import nhs_number, reasons
from referrals.directory import ratelimit, vocabulary
from referrals.directory.search import DirectoryQuery
from referrals.errors import InvalidNhsNumber
from referrals.forms import DateInputField, EthnicCategoryField, KindlyForm
from referrals.intake.limits import MAX_LENGTHS
from referrals.intake.service import (
    SELF_REFERRAL,
    ConsentRecord,
    IntakeRequest,
    PersonDetails,
    ReasonEntry,
    birth_date_error,
)
from referrals.models import (
    ConsentGivenBy,
    ConsentMethod,
    ContactMethod,
    OfferKind,
    Practice,
    Sex,
)
from referrals.postcode import normalise_postcode

DISTANCES_KM = (1, 3, 5, 10, 20)
MAX_WHAT_WOULD_HELP = 2000
MALFORMED_POSTCODE = "Enter a real UK postcode, like KB1 1AB"
UNKNOWN_POSTCODE = "We could not find that postcode. Check it, or search without one"


# --- the directory search ------------------------------------------------------------


class SearchForm(KindlyForm):
    """The search on /directory and /directory/volunteer: query-string fields, no CSRF
    (it changes nothing), and every value tolerated: a bad one is an error, not a 500."""

    class Meta:
        csrf = False

    q = StringField("Search for", validators=[
        Length(max=200, message="Search for 200 characters or fewer")])
    category = SelectField(
        "Category",
        choices=[SelectChoice("", "Any category")]
        + [SelectChoice(c.code, c.name) for c in vocabulary.CATEGORIES],
        validate_choice=False,
    )
    day = SelectField(
        "Day of the week",
        choices=[SelectChoice("", "Any day")]
        + [SelectChoice(code, name) for code, name in vocabulary.WEEKDAYS],
        validate_choice=False,
    )
    free = BooleanField("Free only")
    postcode = StringField("Your postcode", validators=[Length(max=10, message=MALFORMED_POSTCODE)])
    distance = SelectField(
        "Distance",
        choices=[SelectChoice("", "Any distance")]
        + [SelectChoice(str(km), f"Within {km} km") for km in DISTANCES_KM],
        validate_choice=False,
    )
    # Not shown on the main page: lets a link narrow the search to one kind of offer.
    kind = HiddenField()
    # Not shown either: "Search instead for …" after a typo was corrected.
    exact = BooleanField("Search for exactly the words typed")

    def validate_category(self, field):
        if field.data and field.data not in vocabulary.CATEGORY_BY_CODE:
            field.data = ""
            raise ValidationError("Select a category from the list")

    def validate_day(self, field):
        if field.data and field.data not in vocabulary.WEEKDAY_NAMES:
            field.data = ""
            raise ValidationError("Select a day from the list")

    def validate_distance(self, field):
        if not field.data:
            return
        if field.data not in {str(km) for km in DISTANCES_KM}:
            field.data = ""
            raise ValidationError("Select a distance from the list")
        if not (self.postcode.data or "").strip():
            # The error goes where the missing answer goes.
            self.postcode.errors = [*self.postcode.errors,
                                    f"Enter your postcode to search within {field.data} km"]

    def validate_postcode(self, field):
        if (field.data or "").strip() and normalise_postcode(field.data) is None:
            raise ValidationError(MALFORMED_POSTCODE)

    def validate_kind(self, field):
        if field.data and field.data not in {k.value for k in OfferKind}:
            field.data = ""

    @property
    def has_errors(self) -> bool:
        return any(f.errors for f in self)

    def to_query(self, *, page: int, per_page: int, kinds=None) -> DirectoryQuery:
        kind = self.kind.data
        return DirectoryQuery(
            text=(self.q.data or "").strip(),
            categories=[self.category.data] if self.category.data else [],
            kinds=kinds or ({OfferKind(kind)} if kind else None),
            day=self.day.data or None,
            free_only=bool(self.free.data),
            postcode=(self.postcode.data or "").strip(),
            within_km=float(self.distance.data) if self.distance.data else None,
            correct=not self.exact.data,
            page=page,
            per_page=per_page,
        )

    def arguments(self) -> dict[str, str]:
        """The search as query-string arguments (for paging links); empty ones left out."""
        values = {f.name: f.data for f in self if f.data}
        for flag in ("free", "exact"):
            if values.get(flag):
                values[flag] = "y"
        return values


# --- the self-referral -----------------------------------------------------------------


def _too_long(label: str, name: str) -> str:
    """The self-referral form's words for the intake service's limit on `name`."""
    return f"{label} must be {MAX_LENGTHS[name]} characters or fewer"


_PHONE = re.compile(r"^\+?[\d\s()-]+$", re.ASCII)  # 0-9 only, as every number Kindly reads

# The ways a connector can first get in touch with someone who gave only a postcode.
PUBLIC_CONTACT_METHODS = (ContactMethod.PHONE, ContactMethod.TEXT, ContactMethod.EMAIL)


class SelfReferralForm(KindlyForm):
    given_name = StringField("First name", validators=[
        InputRequired("Enter your first name"),
        Length(max=MAX_LENGTHS["given_name"], message=_too_long("First name", "given_name"))])
    family_name = StringField("Last name", validators=[
        InputRequired("Enter your last name"),
        Length(max=MAX_LENGTHS["family_name"], message=_too_long("Last name", "family_name"))])
    # The error summary links to the first box of the date.
    birth_date = DateInputField("Date of birth", id="birth_date-day")
    postcode = StringField("Postcode", validators=[
        InputRequired("Enter your postcode"),
        Length(max=MAX_LENGTHS["postcode"], message=MALFORMED_POSTCODE)])
    # Optional() would stop the checks below on an empty box, and empty is what they judge.
    phone = TelField("Phone number", validators=[
        Length(max=MAX_LENGTHS["phone"], message=_too_long("Phone number", "phone"))])
    email = EmailField("Email address", validators=[
        Length(max=MAX_LENGTHS["email"], message=_too_long("Email address", "email"))])
    preferred_contact = RadioField(
        "How would you like a connector to contact you?",
        choices=[SelectChoice(m.value, m.label) for m in PUBLIC_CONTACT_METHODS],
        validate_choice=False,
    )
    practice = SelectField("Your GP practice", validate_choice=False)
    what_would_help = TextAreaField("What would help you?", validators=[
        InputRequired("Tell us what would help you"),
        Length(max=MAX_WHAT_WOULD_HELP,
               message=f"What would help must be {MAX_WHAT_WOULD_HELP} characters or fewer")])
    nhs_number = StringField("NHS number (optional)")
    ethnic_category = EthnicCategoryField("What is your ethnic group? (optional)")
    consent = BooleanField(
        "I agree that Kindly's connectors may contact me and tell my GP practice")
    # Spam protection: see referrals/directory/ratelimit.py.
    website = StringField("Leave this blank")
    shown = HiddenField()

    def __init__(self, *args, practices: list[Practice], **kwargs):
        super().__init__(*args, **kwargs)
        self.practices = {str(p.id): p for p in practices}
        self.practice.choices = [SelectChoice("", "Select your GP practice")] + [
            SelectChoice(str(p.id), p.name) for p in practices]

    def validate_birth_date(self, field):
        if field.data is None and not field.process_errors:
            field.bad_parts = set(DateInputField.PARTS)
            raise ValidationError("Enter your date of birth")
        if field.data is not None and (message := birth_date_error(field.data, date.today())):
            field.bad_parts = set(DateInputField.PARTS)
            raise ValidationError(message)

    def validate_postcode(self, field):
        if normalise_postcode(field.data or "") is None:
            raise ValidationError(MALFORMED_POSTCODE)

    def validate_phone(self, field):
        value = (field.data or "").strip()
        digits = re.sub(r"\D", "", value, flags=re.ASCII)
        if value and not (_PHONE.match(value) and 10 <= len(digits) <= 15):
            raise ValidationError("Enter a phone number, like 01632 960 001 or 07700 900 982")
        if not value and not (self.email.data or "").strip():
            raise ValidationError(
                "Enter a phone number or an email address, so a connector can contact you")
        if not value and self.preferred_contact.data in (ContactMethod.PHONE, ContactMethod.TEXT):
            raise ValidationError("Enter your phone number, or choose email")

    def validate_email(self, field):
        if (field.data or "").strip():
            Email("Enter an email address like name@example.com")(self, field)
        elif self.preferred_contact.data == ContactMethod.EMAIL:
            raise ValidationError("Enter your email address, or choose a phone call or text")

    def validate_preferred_contact(self, field):
        if field.data in (None, "", "None"):
            field.data = None
        elif field.data not in {m.value for m in PUBLIC_CONTACT_METHODS}:
            field.data = None
            raise ValidationError("Select how you would like to be contacted")

    def validate_practice(self, field):
        if field.data not in self.practices:
            field.data = ""
            raise ValidationError("Select your GP practice")

    def validate_nhs_number(self, field):
        if (field.data or "").strip():
            try:
                nhs_number.normalise(field.data)
            except InvalidNhsNumber as exc:
                raise ValidationError(str(exc)) from None

    def validate_consent(self, field):
        if not field.data:
            raise ValidationError(
                "Tick the box to agree that a connector may contact you and tell your GP "
                "practice. Without it we cannot pass on your request")

    def to_intake(self, *, origin: str = "") -> IntakeRequest:
        """The self-referral as an intake request, as every referral enters Kindly."""
        return IntakeRequest(
            person=PersonDetails(
                nhs_number=(self.nhs_number.data or "").strip(),
                given_name=self.given_name.data or "",
                family_name=self.family_name.data or "",
                birth_date=self.birth_date.data,
                sex=Sex.UNKNOWN,  # not asked: the connector asks if it matters
                postcode=self.postcode.data or "",
                phone=(self.phone.data or "").strip(),
                email=(self.email.data or "").strip(),
                preferred_contact=(ContactMethod(self.preferred_contact.data)
                                   if self.preferred_contact.data else None),
                ethnic_category=self.ethnic_category.data or "",
            ),
            reasons=[ReasonEntry(reasons.OTHER.code, "Self-referral")],
            practice=self.practices[self.practice.data],
            consent=ConsentRecord(given=bool(self.consent.data), given_by=ConsentGivenBy.PERSON,
                                  method=ConsentMethod.WRITTEN),
            what_matters=self.what_would_help.data or "",
            source=SELF_REFERRAL,
            referrer_name="Self-referral",
            origin=origin,
        )

    def add_errors(self, errors: dict[str, str]) -> None:
        """Attach the intake service's errors to their fields (the field's own first)."""
        for name, message in errors.items():
            field = self._fields.get(name)
            if field is None or name in (ratelimit.HONEYPOT_FIELD, "shown"):
                self.form_errors.append(message)
            elif not field.errors:
                field.errors = [*field.errors, message]

    @property
    def has_errors(self) -> bool:
        return bool(self.form_errors) or any(f.errors for f in self)
