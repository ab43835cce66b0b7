"""Casework forms: they parse what a connector types; the casework service judges it."""
from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from referrals.forms import EthnicCategoryField, KindlyForm, VersionedForm, whole_number
from referrals.intake.limits import MAX_LENGTHS, too_long_message
from referrals.models import ContactChannel, ContactOutcome

# re.ASCII: a bare \d also matches digits such as "٣" (see referrals.forms.whole_number).
_DATE = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})$|^(\d{4})-(\d{1,2})-(\d{1,2})$",
                   re.ASCII)
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$", re.ASCII)


def parse_day(raw: str | None) -> date:
    text = re.sub(r"\s+", " ", (raw or "").strip())
    if not text:
        raise ValueError("Enter a date")
    match = _DATE.match(text)
    if not match:
        raise ValueError("Enter the date as day, month and year, for example 31/03/2026")
    d, m, y, y2, m2, d2 = match.groups()
    try:
        return date(int(y or y2), int(m or m2), int(d or d2))
    except ValueError:
        raise ValueError("Enter a real date") from None


def parse_time(raw: str | None) -> time:
    match = _TIME.match((raw or "").strip())
    if not match:
        raise ValueError("Enter the time as hours and minutes, for example 14:30")
    try:
        return time(int(match[1]), int(match[2]))
    except ValueError:
        raise ValueError("Enter a real time") from None


class DayField(StringField):
    """A date typed as text (31/03/2026); a parse error becomes the field's error."""

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        self.data = None
        # A blank box is "no date": the service says which date is missing, and a
        # form that only sometimes needs the date (rescheduling) is not refused.
        if valuelist and valuelist[0].strip():
            try:
                self.data = parse_day(valuelist[0])
            except ValueError as exc:
                self.process_errors.append(str(exc))

    def _value(self):
        if getattr(self, "raw_text", None) is not None:
            return self.raw_text
        return self.data.strftime("%d/%m/%Y") if self.data else ""


def _choices(enum_cls):
    return [SelectChoice(member.value, member.label) for member in enum_cls]


def _enum_or_none(enum_cls, value):
    try:
        return enum_cls(value) if value else None
    except ValueError:
        return None


class RejectForm(VersionedForm):
    reason = TextAreaField("Why is this referral not suitable?", validators=[Length(max=2000)])


class RisksForm(VersionedForm):
    """The risks a referrer did not state, as the connector records them; it carries the
    referral's version the page showed, like every form that changes the referral."""

    risks = TextAreaField("Known risks", validators=[
        Length(max=MAX_LENGTHS["risks"], message=too_long_message("risks"))])
    no_known_risks = BooleanField("No known risks")


class AcceptForm(VersionedForm):
    """The CSRF token and the version the page showed: accepting needs nothing else."""


class ContactForm(VersionedForm):
    contact_date = DayField("Date of contact")
    contact_time = StringField("Time", validators=[Length(max=10)])
    method = RadioField("Method", choices=_choices(ContactChannel), validate_choice=False)
    outcome = RadioField("Outcome", choices=_choices(ContactOutcome), validate_choice=False)
    duration = StringField("Duration in minutes (optional)", validators=[Length(max=10)])
    notes = TextAreaField("Notes", validators=[Length(max=4000)])

    def when(self, timezone: str) -> tuple[datetime | None, dict[str, str]]:
        """The contact's moment in UTC, from a local date and time."""
        if self.contact_date.data is None:
            return None, {}
        try:
            clock = parse_time(self.contact_time.data)
        except ValueError as exc:
            return None, {"contact_time": str(exc)}
        local = datetime.combine(self.contact_date.data, clock, tzinfo=ZoneInfo(timezone))
        return local.astimezone(ZoneInfo("UTC")), {}

    def duration_minutes(self) -> tuple[int | None, dict[str, str]]:
        raw = (self.duration.data or "").strip()
        if not raw:
            return None, {}
        minutes = whole_number(raw, max_digits=4)
        if minutes is None:
            return None, {"duration": "Enter the duration as a whole number of minutes"}
        return minutes, {}

    @property
    def method_choice(self):
        return _enum_or_none(ContactChannel, self.method.data)

    @property
    def outcome_choice(self):
        return _enum_or_none(ContactOutcome, self.outcome.data)


class FollowUpForm(VersionedForm):
    due_on = DayField("Date")
    follow_up_method = RadioField(
        "Method", choices=_choices(ContactChannel), validate_choice=False
    )
    purpose = StringField("Purpose", validators=[Length(max=300)])

    @property
    def method_choice(self):
        return _enum_or_none(ContactChannel, self.follow_up_method.data)


FOLLOW_UP_OUTCOMES = [
    SelectChoice("done", "Done"),
    SelectChoice("missed", "Missed"),
    SelectChoice("rescheduled", "Reschedule it"),
]


class FollowUpOutcomeForm(VersionedForm):
    outcome = RadioField("What happened?", choices=FOLLOW_UP_OUTCOMES, validate_choice=False)
    new_due_on = DayField("New date")
    note = TextAreaField("Note", validators=[Length(max=2000)])


CLOSING_LABELS = {
    "completed": "Completed: the work with the person is finished",
    "declined": "Declined: the person does not want the service",
    "unable_to_contact": "Unable to contact: every attempt failed",
}


class CloseForm(VersionedForm):
    closing = RadioField("How is this referral closing?", choices=[], validate_choice=False)
    note = TextAreaField("Closing note", validators=[Length(max=4000)])
    # For the outcome letter, which is written as the referral closes.
    gp_actions = TextAreaField("Plan and requested actions for the GP (optional)",
                               validators=[Length(max=4000)])
    coded_only = BooleanField("Share only coded information with the practice")

    def offer(self, closings: list[str]) -> None:
        self.closing.choices = [SelectChoice(name, CLOSING_LABELS[name]) for name in closings]


class EthnicCategoryForm(VersionedForm):
    ethnic_category = EthnicCategoryField("Ethnic group")


class SharingForm(VersionedForm):
    coded_only = BooleanField("Share only coded information with the practice")


def attach_errors(form: KindlyForm, errors: dict[str, str]) -> None:
    """Put rule errors from the service on their fields (first error wins)."""
    for name, message in errors.items():
        field = form._fields.get(name)
        if field is None:
            form.form_errors.append(message)
        elif not field.errors:
            field.errors = [*field.errors, message]


def has_errors(form: KindlyForm) -> bool:
    return bool(form.form_errors) or any(f.errors for f in form)
