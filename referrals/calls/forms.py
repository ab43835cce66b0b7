"""The phone-line forms: the one short form a call is logged with, the call log's search,
and the details a self-referral still needs after a call."""
from __future__ import annotations

from wtforms import BooleanField, RadioField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from referrals.calls.service import DAYS, PARTS_OF_DAY, CallDetails
from referrals.directory.forms import SelfReferralForm
from referrals.forms import KindlyForm, MultiCheckboxField
from referrals.hub.forms import HubForm, OptionalDateField
from referrals.models import CallOutcome, VolunteerOffer

YES_NO = [SelectChoice("no", "No, for themselves"), SelectChoice("yes", "Yes, for someone else")]
DAY_LABELS = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
              "fri": "Friday", "sat": "Saturday", "sun": "Sunday"}


class CallForm(HubForm):
    caller_name = StringField("Caller's name")
    caller_phone = TelField("Caller's phone number (optional)")
    for_someone_else = RadioField("Are they calling for someone else?", choices=YES_NO,
                                  default="no", validate_choice=False)
    their_agreement = BooleanField("The person they are calling for has agreed to this call")
    person_name = StringField("Name of the person who needs help (if not the caller)")
    need = TextAreaField("What do they need?")
    urgent = BooleanField("This is urgent")
    outcome = RadioField("What did the call become?", validate_choice=False,
                         choices=[SelectChoice(o.value, o.label) for o in CallOutcome])
    information_given = TextAreaField("Information given")
    request_need = RadioField("What should a volunteer help with?", validate_choice=False,
                              choices=[SelectChoice(o.value, o.label) for o in VolunteerOffer])
    days = MultiCheckboxField("Days that suit them (optional)", validate_choice=False,
                              choices=[SelectChoice(d, DAY_LABELS[d]) for d in DAYS])
    parts_of_day = MultiCheckboxField(
        "Times of day that suit them (optional)", validate_choice=False,
        choices=[SelectChoice(p, p.capitalize()) for p in PARTS_OF_DAY])
    postcode = StringField("Their postcode")
    volunteer_note = TextAreaField("Note for the volunteer (optional)")

    def details(self) -> CallDetails:
        days = [d for d in DAYS if d in (self.days.data or [])]
        parts = [p for p in PARTS_OF_DAY if p in (self.parts_of_day.data or [])]
        chosen = bool(days or parts)
        when = [f"{d}-{p}" for d in days or DAYS for p in parts or PARTS_OF_DAY] \
            if chosen else []
        return CallDetails(
            caller_name=self.caller_name.data or "",
            caller_phone=self.caller_phone.data or "",
            for_someone_else=self.for_someone_else.data == "yes",
            their_agreement=bool(self.their_agreement.data),
            person_name=self.person_name.data or "",
            need=self.need.data or "",
            urgent=bool(self.urgent.data),
            outcome=_member(CallOutcome, self.outcome.data),
            information_given=self.information_given.data or "",
            request_need=_member(VolunteerOffer, self.request_need.data),
            when=when,
            postcode=self.postcode.data or "",
            volunteer_note=self.volunteer_note.data or "",
        )

    def add_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            self.add_error("days" if name == "when" else name, message)


class CallSearchForm(KindlyForm):
    """The call log's search: read from the address (GET), so no CSRF token."""

    class Meta:
        csrf = False

    from_day = OptionalDateField("From (optional)")
    to_day = OptionalDateField("To (optional)")
    outcome = RadioField("Outcome", validate_choice=False, default="",
                         choices=[SelectChoice("", "Any")]
                         + [SelectChoice(o.value, o.label) for o in CallOutcome])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.from_day.data and self.to_day.data and self.to_day.data < self.from_day.data:
            self.to_day.errors = [*self.to_day.errors, "'To' must be the same as or after 'From'"]
            return False
        return ok

    @property
    def outcome_choice(self) -> CallOutcome | None:
        return _member(CallOutcome, self.outcome.data)


class CallReferralForm(SelfReferralForm):
    """What a self-referral needs beyond the call's short form, asked by the call taker.
    The public form's spam guards do not apply to staff."""

    website = None
    shown = None
    consent = BooleanField(
        "The person agreed, on the phone, that a connector may contact them and tell their "
        "GP practice")

    def validate_consent(self, field):
        if not field.data:
            raise ValidationError(
                "Tick the box once the person has agreed that a connector may contact them "
                "and tell their GP practice, or log the call as information given")


def _member(enum_cls, value):
    try:
        return enum_cls(value) if value else None
    except ValueError:
        return None
