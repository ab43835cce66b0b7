"""Coordinator forms: reassign a referral, set a connector's capacity and away dates,
and the team's rules."""
from __future__ import annotations

import re
from datetime import date

from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from referrals.forms import KindlyForm, VersionedForm, whole_number
from referrals.hub.service import MAX_CAPACITY, RULE_LIMITS
from referrals.models import User
from referrals.routing import ConnectorLoad

QUEUE = "queue"  # the choice that sends a referral back to the team queue
# re.ASCII: a bare \d also matches digits such as "٣" (see referrals.forms.whole_number).
_DATE = re.compile(r"^(?P<d>\d{1,2})[/.\- ](?P<m>\d{1,2})[/.\- ](?P<y>\d{4})$", re.ASCII)
_ISO = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$", re.ASCII)


class OptionalDateField(StringField):
    """A date typed as text (31/12/2026), or blank for none."""

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        self.data = None
        text = re.sub(r"\s+", " ", self.raw_text.strip())
        if not text:
            return
        match = _DATE.match(text) or _ISO.match(text)
        if match is None:
            self.process_errors.append(
                "Enter the date as day, month and year, for example 24/12/2026")
            return
        try:
            self.data = date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            self.process_errors.append("Enter a real date")

    def _value(self):
        if getattr(self, "raw_text", None) is not None:
            return self.raw_text
        return self.data.strftime("%d/%m/%Y") if self.data else ""


class HubForm(KindlyForm):
    """A form that can show a service's rule error next to the field it names."""

    def add_error(self, field: str | None, message: str) -> None:
        target = self._fields.get(field) if field else None
        if target is None:
            self.form_errors.append(message)
        else:
            target.errors = [*target.errors, message]


class AssignForm(HubForm, VersionedForm):
    connector = RadioField("Who should hold this referral?", validate_choice=False)
    reason = TextAreaField(
        "Reason for the change",
        validators=[InputRequired("Give a reason for the change"), Length(max=1000)],
    )

    def __init__(self, loads: list[ConnectorLoad], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._connectors = {str(load.connector.id): load.connector for load in loads}
        self.connector.choices = [
            SelectChoice(str(load.connector.id), _describe(load)) for load in loads
        ] + [SelectChoice(QUEUE, "Nobody: back to the team queue")]

    def validate_connector(self, field):
        if not field.data or field.data == "None":
            raise ValidationError("Choose who should hold this referral")
        if field.data != QUEUE and field.data not in self._connectors:
            raise ValidationError("Choose an active connector in this referral's team")

    def chosen(self) -> User | None:
        return self._connectors.get(self.connector.data)


def _describe(load: ConnectorLoad) -> str:
    capacity = "no capacity set" if load.capacity is None else f"{load.active} of {load.capacity}"
    notes = [f"caseload {capacity}"]
    if load.away:
        notes.append("away today")
    return f"{load.connector.name} ({', '.join(notes)})"


class AvailabilityForm(HubForm):
    capacity = StringField("Caseload capacity", validators=[Length(max=4)])
    away_from = OptionalDateField("First day away")
    away_until = OptionalDateField("Last day away")
    away_note = StringField("Note (optional)", validators=[Length(max=200)])

    def validate_capacity(self, field):
        text = (field.data or "").strip()
        number = whole_number(text)
        if text and (number is None or number > MAX_CAPACITY):
            raise ValidationError(f"Enter a whole number from 0 to {MAX_CAPACITY}")

    def capacity_value(self) -> int | None:
        return whole_number(self.capacity.data)


def _whole_number(name: str):
    low, high, _ = RULE_LIMITS[name]

    def check(form, field):
        number = whole_number(field.data)
        if number is None or not low <= number <= high:
            raise ValidationError(f"Enter a whole number from {low} to {high}")

    return check


class TeamRulesForm(HubForm):
    first_contact_days = StringField(
        "First contact target, in working days",
        validators=[_whole_number("first_contact_days")])
    max_contact_attempts = StringField(
        "Failed attempts before \"unable to contact\" is offered",
        validators=[_whole_number("max_contact_attempts")])
    follow_up_grace_days = StringField(
        "Days a follow-up may be overdue before the coordinator is told",
        validators=[_whole_number("follow_up_grace_days")])

    def rules(self) -> dict[str, int]:
        return {name: whole_number(self[name].data) for name in RULE_LIMITS}


RESOLUTIONS = [
    SelectChoice("keep", "Keep the details Kindly holds"),
    SelectChoice("accept", "Accept the details sent, and move the person to that practice"),
]


class ResolveDiscrepancyForm(KindlyForm):
    resolution = RadioField("Which details are right?", choices=RESOLUTIONS,
                            validate_choice=False)

    def accept(self) -> bool | None:
        return {"keep": False, "accept": True}.get(self.resolution.data or "")
