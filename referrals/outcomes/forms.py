"""The outcome measure form: when, how, and one radios group per item of the instrument."""
from __future__ import annotations

import re
from datetime import date

from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from referrals.forms import KindlyForm
from referrals.models import CompletionMode, Timepoint
from referrals.outcomes.instruments import Instrument
from referrals.outcomes.service import answer_field

SKIPPED = "skipped"
# re.ASCII: a bare \d also matches digits such as "٣" (see referrals.forms.whole_number).
_NUMBER = re.compile(r"^\d{1,4}$", re.ASCII)
_ANSWER = re.compile(r"^-?\d{1,3}$", re.ASCII)
# Service error keys that name something other than a field of this form.
ERROR_FIELDS = {"completed_on": "completed_on_day"}


class MeasurementForm(KindlyForm):
    """The fields every instrument shares; measurement_form() adds the items."""

    timepoint = RadioField("When in the referral is this?", validate_choice=False,
                           choices=[SelectChoice(t.value, t.label) for t in Timepoint])
    completed_on_day = StringField("Day", validators=[Length(max=4)])
    completed_on_month = StringField("Month", validators=[Length(max=4)])
    completed_on_year = StringField("Year", validators=[Length(max=6)])
    mode = RadioField("How was it completed?", validate_choice=False,
                      choices=[SelectChoice(m.value, m.label) for m in CompletionMode])

    instrument: Instrument

    def item_fields(self) -> list[tuple[int, object, RadioField]]:
        """(number, item, field) for each item, in the instrument's order."""
        return [(number, item, self[answer_field(item.id)])
                for number, item in enumerate(self.instrument.items, start=1)]

    def set_date(self, day: date) -> None:
        self.completed_on_day.data, self.completed_on_month.data, self.completed_on_year.data = (
            str(day.day), str(day.month), str(day.year))

    def completed_on(self) -> tuple[date | None, dict[str, str]]:
        """The date from its three boxes; errors go on the day box, the first one."""
        parts = [(f.data or "").strip() for f in
                 (self.completed_on_day, self.completed_on_month, self.completed_on_year)]
        if not any(parts):
            return None, {}  # the service says the date is missing
        if not all(_NUMBER.match(p) for p in parts):
            return None, {"completed_on": "The date must include a day, month and year in numbers"}
        day, month, year = (int(p) for p in parts)
        if year < 1000:
            return None, {"completed_on": "Enter the year in full, for example 2026"}
        try:
            return date(year, month, day), {}
        except ValueError:
            return None, {"completed_on": "The date must be a real date"}

    def answers(self) -> dict[str, int | str | None]:
        """Item id -> the value chosen, or None when skipped; unanswered items are left
        out (the service asks for them). Anything else sent is passed on as text, for
        the service to refuse as off the scale."""
        found = {}
        for _, item, field in self.item_fields():
            raw = (field.data or "").strip() if isinstance(field.data, str) else ""
            if not raw:
                continue
            if raw == SKIPPED:
                found[item.id] = None
            elif _ANSWER.match(raw):
                found[item.id] = int(raw)
            else:
                found[item.id] = raw[:20]
        return found


def measurement_form(instrument: Instrument, **kwargs) -> MeasurementForm:
    """A form for this instrument: its items' radios, labelled from its definition."""
    choices = [SelectChoice(str(value), label) for value, label in instrument.scale.labels]
    choices.append(SelectChoice(SKIPPED, "Skipped"))
    fields = {
        answer_field(item.id): RadioField(f"{number}. {item.text}", choices=choices,
                                          validate_choice=False)
        for number, item in enumerate(instrument.items, start=1)
    }
    form_class = type(f"{instrument.code.title()}Form", (MeasurementForm,), fields)
    form = form_class(**kwargs)
    form.instrument = instrument
    return form


def attach_errors(form: KindlyForm, errors: dict[str, str]) -> None:
    """Put the service's errors on their fields (first error wins); others on the form."""
    for name, message in errors.items():
        field = form._fields.get(ERROR_FIELDS.get(name, name))
        if field is None:
            form.form_errors.append(message)
        elif not field.errors:
            field.errors = [*field.errors, message]


def has_errors(form: KindlyForm) -> bool:
    return bool(form.form_errors) or any(f.errors for f in form)
