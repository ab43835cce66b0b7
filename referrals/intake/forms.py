"""The referral form: parses what a GP types; the intake service judges it."""
from __future__ import annotations

import re
from datetime import date

from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import Email, Length, Optional, ValidationError

from referrals import reasons
from referrals.forms import (
    DateInputField,
    EthnicCategoryField,
    KindlyForm,
    MultiCheckboxField,
    VersionedForm,
    without_nul,
)
from referrals.intake.additions import AdditionRequest
from referrals.intake.limits import MAX_LENGTHS, too_long_message
from referrals.intake.service import (
    ConsentRecord,
    IntakeRequest,
    PersonDetails,
    ReasonEntry,
)
from referrals.models import (
    CommunicationNeed,
    ConsentGivenBy,
    ConsentMethod,
    ContactMethod,
    Practice,
    Sex,
    Urgency,
)

# re.ASCII: a bare \d also matches digits such as "٣" (see referrals.forms.whole_number).
_DATE_PATTERNS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$", re.ASCII),
    re.compile(r"^(?P<d>\d{1,2})[/.\- ](?P<m>\d{1,2})[/.\- ](?P<y>\d{2,4})$", re.ASCII),
)


def parse_date(raw: str) -> date:
    """Read a date typed as 31/03/1950, 31 3 1950 or 1950-03-31."""
    text = re.sub(r"\s+", " ", (raw or "").strip())
    if not text:
        raise ValueError("Enter the person's date of birth")
    for pattern in _DATE_PATTERNS:
        if match := pattern.match(text):
            if len(match["y"]) != 4:
                raise ValueError("Enter the year in full, for example 1948")
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                raise ValueError("Date of birth must be a real date") from None
    raise ValueError("Enter the date of birth as day, month and year, for example 31/03/1950")


class BirthDateField(DateInputField):
    """The date of birth as the NHS.UK date input (day, month, year boxes).

    The form's field names are an interface other systems post to (see the README): a
    single `birth_date` value typed as 31/03/1950 or 1950-03-31 is still read when the
    three boxes are absent, and then shown split into them."""

    def process(self, formdata, data=unset_value, extra_filters=None):
        boxes = [f"{self.name}-{part}" for part in self.PARTS]
        if formdata is None or any(box in formdata for box in boxes) \
                or self.name not in formdata:
            super().process(formdata, data, extra_filters)
            return
        super().process(None, data, extra_filters)
        self.process_errors = []
        text = without_nul(formdata.get(self.name) or "")
        self.data = None
        try:
            self.data = parse_date(text) if text.strip() else None
        except ValueError as exc:
            self.process_errors.append(str(exc))
            self.bad_parts = set(self.PARTS)
        if self.data is not None:
            self.parts = {"day": str(self.data.day), "month": str(self.data.month),
                          "year": str(self.data.year)}


def _limit(name: str) -> Length:
    """The intake service's limit for this field (the same one the FHIR API gets)."""
    return Length(max=MAX_LENGTHS[name], message=too_long_message(name))


def _choices(enum_cls):
    return [SelectChoice(member.value, member.label) for member in enum_cls]


class ServiceCheckedForm(KindlyForm):
    """A form whose rules the service judges: its errors come back by field name."""

    def add_errors(self, errors: dict[str, str]) -> None:
        """Attach rule errors from the service to their fields (first error wins)."""
        for name, message in errors.items():
            field = self._fields.get(name)
            if field is None:
                self.form_errors.append(message)
            elif not field.errors:
                field.errors = [*field.errors, message]

    @property
    def has_errors(self) -> bool:
        return bool(self.form_errors) or any(f.errors for f in self)


class ReferralForm(ServiceCheckedForm):
    nhs_number = StringField("NHS number")
    given_name = StringField("Given name", validators=[_limit("given_name")])
    family_name = StringField("Family name", validators=[_limit("family_name")])
    # The error summary links to the first box of the date.
    birth_date = BirthDateField("Date of birth", id="birth_date-day")
    sex = RadioField("Sex", choices=_choices(Sex), validate_choice=False)
    postcode = StringField("Postcode", validators=[_limit("postcode")])
    phone = TelField("Phone number", validators=[Optional(), _limit("phone")])
    email = EmailField(
        "Email address",
        validators=[Optional(), Email("Enter an email address like name@example.com"),
                    _limit("email")],
    )
    preferred_contact = RadioField(
        "Preferred contact method", choices=_choices(ContactMethod), validate_choice=False
    )
    communication_needs = MultiCheckboxField(
        "Communication needs", choices=_choices(CommunicationNeed), validate_choice=False
    )
    interpreter_language = StringField("Language", validators=[_limit("interpreter_language")])
    ethnic_category = EthnicCategoryField("Ethnic group (optional)")
    reasons = MultiCheckboxField(
        "Reasons for referral",
        choices=[SelectChoice(r.code, r.label) for r in reasons.REASONS],
        validate_choice=False,
    )
    reason_other = StringField("Other reason", validators=[_limit("reason_other")])
    what_matters = TextAreaField("What matters to the person",
                                 validators=[_limit("what_matters")])
    risks = TextAreaField("Known risks", validators=[_limit("risks")])
    no_known_risks = BooleanField("No known risks")
    urgency = RadioField(
        "Urgency", choices=_choices(Urgency), default=Urgency.ROUTINE.value, validate_choice=False
    )
    consent = BooleanField(
        "The person has agreed to this referral and to their details being shared"
    )
    consent_given_by = RadioField(
        "Who gave consent",
        choices=_choices(ConsentGivenBy),
        default=ConsentGivenBy.PERSON.value,
        validate_choice=False,
    )
    consent_method = RadioField(
        "How consent was given",
        choices=_choices(ConsentMethod),
        default=ConsentMethod.VERBAL_IN_PERSON.value,
        validate_choice=False,
    )

    def validate_sex(self, field):
        _check_choice(field, Sex, required=False)

    def validate_preferred_contact(self, field):
        _check_choice(field, ContactMethod, required=False)

    def validate_urgency(self, field):
        _check_choice(field, Urgency, required=True)

    def validate_consent_given_by(self, field):
        _check_choice(field, ConsentGivenBy, required=True)

    def validate_consent_method(self, field):
        _check_choice(field, ConsentMethod, required=True)

    def to_intake(self, practice: Practice) -> IntakeRequest:
        """Build the intake request from whatever parsed; the service checks the rules."""
        return IntakeRequest(
            person=PersonDetails(
                nhs_number=self.nhs_number.data or "",
                given_name=self.given_name.data or "",
                family_name=self.family_name.data or "",
                birth_date=self.birth_date.data,
                sex=_enum_or_none(Sex, self.sex.data),
                postcode=self.postcode.data or "",
                phone=(self.phone.data or "").strip(),
                email=(self.email.data or "").strip() if not self.email.errors else "",
                preferred_contact=_enum_or_none(ContactMethod, self.preferred_contact.data),
                communication_needs=list(self.communication_needs.data or []),
                interpreter_language=self.interpreter_language.data or "",
                ethnic_category=self.ethnic_category.data or "",
            ),
            reasons=[
                ReasonEntry(code, (self.reason_other.data or "") if code == reasons.OTHER.code else "")
                for code in (self.reasons.data or [])
            ],
            practice=practice,
            consent=ConsentRecord(
                given=bool(self.consent.data),
                given_by=_enum_or_none(ConsentGivenBy, self.consent_given_by.data)
                or ConsentGivenBy.PERSON,
                method=_enum_or_none(ConsentMethod, self.consent_method.data)
                or ConsentMethod.VERBAL_IN_PERSON,
            ),
            what_matters=self.what_matters.data or "",
            risks=(self.risks.data or "").splitlines(),
            no_known_risks=bool(self.no_known_risks.data),
            urgency=_enum_or_none(Urgency, self.urgency.data) or Urgency.ROUTINE,
            source="form",
        )


class CancelForm(VersionedForm):
    reason = TextAreaField(
        "Why are you cancelling this referral?", validators=[Length(max=2000)]
    )


class AdditionForm(ServiceCheckedForm):
    """Add information to the person's open referral: offered when the referral form is
    refused as a duplicate, prefilled with what the GP typed there."""

    nhs_number = HiddenField("NHS number")
    text = TextAreaField("Information to add")
    reasons = MultiCheckboxField(
        "Reasons for referral (optional)",
        choices=[SelectChoice(r.code, r.label) for r in reasons.REASONS],
        validate_choice=False,
    )
    urgency = RadioField("Urgency", choices=_choices(Urgency), validate_choice=False)

    @classmethod
    def from_refused(cls, form: ReferralForm) -> AdditionForm:
        """A new addition form holding everything typed into the refused referral form."""
        addition = cls(formdata=None, prefix="addition")
        addition.nhs_number.data = form.nhs_number.data or ""
        addition.reasons.data = list(form.reasons.data or [])
        addition.urgency.data = form.urgency.data
        addition.text.data = "\n".join(_typed_lines(form))
        return addition

    def validate_urgency(self, field):
        _check_choice(field, Urgency, required=False)

    def to_request(self) -> AdditionRequest:
        return AdditionRequest(
            nhs_number=self.nhs_number.data or "",
            text=self.text.data or "",
            reasons=list(self.reasons.data or []),
            urgency=_enum_or_none(Urgency, self.urgency.data),
        )


def _typed_lines(form: ReferralForm) -> list[str]:
    """The referral form's words and contact details, one labelled line each."""
    lines = []
    for field in (form.what_matters, form.reason_other, form.postcode, form.phone, form.email):
        if (value := (field.data or "").strip()):
            lines.append(f"{field.label.text}: {' '.join(value.split())}")
    risks = [r.strip() for r in (form.risks.data or "").splitlines() if r.strip()]
    if risks:
        lines.append(f"{form.risks.label.text}: {'; '.join(risks)}")
    elif form.no_known_risks.data:
        lines.append(form.no_known_risks.label.text)
    return lines


def _enum_or_none(enum_cls, value):
    try:
        return enum_cls(value) if value else None
    except ValueError:
        return None


def _check_choice(field, enum_cls, *, required: bool) -> None:
    if not field.data or field.data == "None":
        field.data = None
        if required:
            raise ValidationError(f"Select {field.label.text.lower()}")
        return
    if field.data not in {m.value for m in enum_cls}:
        raise ValidationError(f"Select one of the options for {field.label.text.lower()}")
