"""What every Kindly web form shares."""
from __future__ import annotations

import copy
import re
from datetime import date

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, RadioField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from referrals import ethnicity


def without_nul(value):
    """Drop NUL characters: nobody types them, and PostgreSQL refuses them in text."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


def whole_number(text: str | None, *, max_digits: int = 9) -> int | None:
    """The whole number typed, or None if it is not one.

    Only the digits 0-9 count, everywhere Kindly reads a number from a person:
    str.isdigit() is also true for "²" (which int() then refuses, a 500) and
    str.isdecimal() for "٣" (which int() reads as 3), so neither is used alone.
    """
    text = (text or "").strip()
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


class KindlyForm(FlaskForm):
    """A FlaskForm whose every field drops NUL characters from what was sent."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = [*unbound_field.kwargs.get("filters", ()), without_nul]
            extra = {"filters": filters}
            if "validators" in unbound_field.kwargs:
                extra["validators"] = worded(unbound_field.kwargs["validators"],
                                             _label_of(unbound_field))
            return unbound_field.bind(form=form, **{**options, **extra})


def _label_of(unbound_field) -> str:
    label = unbound_field.kwargs.get("label") or (unbound_field.args[0]
                                                  if unbound_field.args else "")
    # "Note (optional)" is "Note" in a sentence about what is wrong with it.
    return re.sub(r"\s*\(optional\)$", "", str(label or "This")).strip() or "This"


def worded(validators, label: str) -> list:
    """`validators`, each without a message of its own given one in NHS.UK style, naming
    the field ("Note must be 2000 characters or fewer"), instead of WTForms' English
    defaults ("Field cannot be longer than 2000 characters."). Issue 14."""
    result = []
    for validator in validators or ():
        if getattr(validator, "message", "") is None:
            validator = copy.copy(validator)
            validator.message = _message_for(validator, label)
        result.append(validator)
    return result


def _message_for(validator, label: str) -> str | None:
    if isinstance(validator, Length):
        if validator.max >= 0 and validator.min <= 0:
            return f"{label} must be {validator.max} characters or fewer"
        if validator.max < 0:
            return f"{label} must be {validator.min} characters or more"
        return f"{label} must be between {validator.min} and {validator.max} characters"
    if isinstance(validator, DataRequired | InputRequired):
        return f"Enter {label[:1].lower() + label[1:]}"
    if isinstance(validator, Email):
        return "Enter an email address in the correct format, like name@example.com"
    if isinstance(validator, NumberRange):
        return (f"{label} must be between {validator.min} and {validator.max}"
                if validator.min is not None and validator.max is not None
                else f"{label} must be a number in range")
    return None


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (rendered by the checkbox_group macro)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EthnicCategoryField(RadioField):
    """The optional ethnic group question (referrals.ethnicity), rendered in its groups by
    the ethnic_category_radios macro. `data` is the code chosen: A-S, Z for "Prefer not
    to say", or "" when not answered."""

    groups = ethnicity.GROUPS
    prefer_not_to_say = (ethnicity.NOT_STATED, ethnicity.PREFER_NOT_TO_SAY)

    def __init__(self, label=None, validators=None, **kwargs):
        choices = [SelectChoice(code, label) for g in ethnicity.GROUPS
                   for code, label in g.categories]
        choices.append(SelectChoice(*self.prefer_not_to_say))
        super().__init__(label, validators, choices=choices, validate_choice=False, **kwargs)

    def process_formdata(self, valuelist):
        self.data = (valuelist[0] or "").strip() if valuelist else ""

    def process_data(self, value):
        # Never asked (99) shows as nothing chosen.
        self.data = "" if value in (None, ethnicity.NOT_KNOWN) else value

    def pre_validate(self, form):
        if message := ethnicity.error(self.data or ""):
            self.data = ""
            raise ValidationError(message)


class DateInputField(Field):
    """A date typed into the NHS.UK date input: three boxes, <name>-day, -month, -year,
    rendered by the date_input macro. What was typed stays in `parts` to be shown again;
    `bad_parts` are the boxes to mark when the date is wrong. The messages name the field
    by its label, as the NHS.UK date input asks ("Date of birth must include a month").
    Give the field id="<name>-day", so the error summary links to the first box."""

    PARTS = ("day", "month", "year")

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        self.bad_parts: set[str] = set()
        if formdata is None:
            self.parts = ({"day": str(self.data.day), "month": str(self.data.month),
                           "year": str(self.data.year)} if isinstance(self.data, date)
                          else dict.fromkeys(self.PARTS, ""))
            return
        self.parts = {
            part: without_nul(formdata.get(f"{self.name}-{part}") or "").strip()[:8]
            for part in self.PARTS
        }
        self.data = None
        try:
            self.data = self._parse()
        except ValueError as exc:
            self.process_errors.append(str(exc))

    def _parse(self) -> date | None:
        parts, name = self.parts, self.label.text
        if not any(parts.values()):
            return None
        missing = [p for p in self.PARTS if not parts[p]]
        if missing:
            self.bad_parts = set(missing)
            raise ValueError(f"{name} must include a {' and a '.join(missing)}")
        ascii_digits = {p for p in self.PARTS if parts[p].isdigit() and parts[p].isascii()}
        if len(ascii_digits) < len(self.PARTS):
            self.bad_parts = set(self.PARTS) - ascii_digits
            raise ValueError(f"{name} must be a real date, in numbers")
        if len(parts["year"]) != 4:
            self.bad_parts = {"year"}
            raise ValueError("Year must include 4 numbers, for example 1950")
        try:
            return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except ValueError:
            self.bad_parts = set(self.PARTS)
            raise ValueError(f"{name} must be a real date") from None

    def _value(self):
        return ""

    @property
    def error_target(self) -> str:
        """The id the error summary links to: the first box the error is about."""
        part = next((p for p in self.PARTS if p in self.bad_parts), self.PARTS[0])
        return f"{self.name}-{part}"


class VersionedForm(KindlyForm):
    """A form that changes a referral (or a connection): it carries the version it was
    rendered from, and the change is refused if that has moved on (referrals.revisions)."""

    version = HiddenField()

    @property
    def expected_version(self) -> int | None:
        """The version sent back; None when absent (a script), and then the change is
        still made under the referral's lock and its state machine, just not compared."""
        raw = (self.version.data or "").strip()
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None

    def started_from(self, version: int) -> None:
        """Render the form as based on `version` (also after a conflict, so that sending
        it again applies it on top of what changed)."""
        self.version.data = str(version)
        self.version.raw_data = [str(version)]
