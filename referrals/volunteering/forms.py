"""Volunteer matching forms: they parse what people type; the service judges it."""
from __future__ import annotations

import math

from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from referrals.caseload.forms import DayField
from referrals.forms import KindlyForm, MultiCheckboxField, VersionedForm
from referrals.models import CheckInRating, VolunteerOffer
from referrals.volunteering.ranking import DAYS, PARTS


class VolunteerRequestForm(KindlyForm):
    need = RadioField("What do they need a volunteer for?", validate_choice=False,
                      choices=[SelectChoice(o.value, o.label) for o in VolunteerOffer])
    when = MultiCheckboxField(
        "When would suit them?", validate_choice=False,
        choices=[SelectChoice(f"{day}-{part}", f"{name} {part}")
                 for day, name in DAYS.items() for part in PARTS])
    notes = TextAreaField("Notes for the volunteer", validators=[Length(max=2000)])


class ProposeForm(KindlyForm):
    volunteer_id = HiddenField(validators=[Length(max=10)])

    @property
    def volunteer(self) -> int | None:
        raw = (self.volunteer_id.data or "").strip()
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


class AnswerForm(VersionedForm):
    answer = RadioField("Can you take this on?", validate_choice=False,
                        choices=[SelectChoice("accept", "Yes, I can help"),
                                 SelectChoice("decline", "No, I cannot take this on")])
    note = TextAreaField("If not, why not?", validators=[Length(max=2000)])


class EndMatchForm(VersionedForm):
    reason = TextAreaField("Why is the match ending?", validators=[Length(max=2000)])


class CloseRequestForm(VersionedForm):
    reason = TextAreaField("Why is the request closing?", validators=[Length(max=2000)])


class CheckInForm(VersionedForm):
    rating = RadioField("How is it going?", validate_choice=False,
                        choices=[SelectChoice(r.value, r.label) for r in CheckInRating])
    note = TextAreaField("Note", validators=[Length(max=2000)])
    next_on = DayField("Next check-in (optional)")


class HoursForm(KindlyForm):
    on = DayField("Date")
    hours = StringField("Hours given", validators=[Length(max=10)])
    note = StringField("Note (optional)", validators=[Length(max=500)])

    @property
    def hours_given(self) -> float | None:
        raw = (self.hours.data or "").strip()
        if not raw or not raw.isascii():
            return None
        try:
            value = float(raw)
        except ValueError:
            return None
        return value if math.isfinite(value) else None  # "nan" and "inf" parse as floats


class ConcernForm(KindlyForm):
    concern = TextAreaField("What are you worried about?", validators=[Length(max=5000)])
    immediate_danger = BooleanField("I think they may be in danger now")
    contact_phone = StringField("A phone number the hub can call you on",
                                validators=[Length(max=30)])
