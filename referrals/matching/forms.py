"""Matching forms: they parse what a connector types; the matching service judges it."""
from __future__ import annotations

import math
import re
from datetime import date

from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from referrals.directory import vocabulary
from referrals.forms import KindlyForm, MultiCheckboxField, VersionedForm
from referrals.matching.service import MAX_CONTACT, MAX_NOTE, PARTS_OF_DAY, Handover
from referrals.models import ConnectionKind, ConnectionStatus, UnmetReason

# The availability grid, a row per day: (day code, day name, [(slot, part of day)]).
AVAILABILITY_GRID = [
    (code, name, [(f"{code}-{part}", label) for part, label in PARTS_OF_DAY])
    for code, name in vocabulary.WEEKDAYS
]


def _enum_or_none(enum_cls, value):
    try:
        return enum_cls(value) if value else None
    except ValueError:
        return None


class PreferencesForm(VersionedForm):
    """What suits the person: the matcher ranks offers by it."""

    availability = MultiCheckboxField(
        "Days and times that suit them",
        choices=[SelectChoice(slot, f"{name} {label.lower()}")
                 for _, name, slots in AVAILABILITY_GRID for slot, label in slots],
        validate_choice=False)
    prefers_free = BooleanField("Only free offers")
    max_distance_km = StringField(
        "How far will they travel?",
        validators=[Length(max=10, message="Enter the distance as a number of kilometres")])
    access_needs = MultiCheckboxField(
        "Access needs",
        choices=[SelectChoice(f.code, f.label) for f in vocabulary.ACCESSIBILITY],
        validate_choice=False)
    language = SelectField(
        "Language they need",
        choices=[SelectChoice("", "English, or no preference")]
        + [SelectChoice(code, name) for code, name in vocabulary.LANGUAGES.items()
           if code != "en"],
        validate_choice=False)

    def distance(self) -> tuple[float | None, dict[str, str]]:
        raw = (self.max_distance_km.data or "").strip().lower().removesuffix("km").strip()
        if not raw:
            return None, {}
        try:
            if not raw.isascii():  # float() reads "٣" as 3; only 0-9 count, as everywhere
                raise ValueError(raw)
            km = float(raw)
        except ValueError:
            return None, {"max_distance_km": "Enter the distance as a number of kilometres, "
                                             "for example 3"}
        if not math.isfinite(km):  # "nan" and "inf" parse as floats
            return None, {"max_distance_km": "Enter the distance as a number of kilometres"}
        return km, {}


KIND_CHOICES = [SelectChoice(kind.value, kind.label) for kind in ConnectionKind]


class RecordConnectionForm(KindlyForm):
    """Record one offer as a signpost or a referral; the page shows one per offer."""

    offer_id = HiddenField(validators=[Length(max=64)])
    # "suggestion" when it came from the matcher, whose score is then kept with it.
    source = HiddenField(validators=[Length(max=20)])
    kind = RadioField("How are you connecting them?", choices=KIND_CHOICES,
                      validate_choice=False, default=ConnectionKind.SIGNPOST.value)
    note = TextAreaField("Note (optional)", validators=[Length(max=MAX_NOTE)])
    # Issue 15: a warm handover's consent, and what the organisation then sees.
    share = BooleanField("They agreed to share their first name, how to contact them and "
                         "the handover note with the organisation")
    contact = StringField("How the organisation can contact them",
                          validators=[Length(max=MAX_CONTACT)])
    handover_note = TextAreaField("Handover note for the organisation",
                                  validators=[Length(max=MAX_NOTE)])
    # The search that found the offer, so the page comes back to it.
    q = HiddenField(validators=[Length(max=200)])
    category = HiddenField(validators=[Length(max=80)])
    day = HiddenField(validators=[Length(max=2)])

    @property
    def kind_choice(self) -> ConnectionKind | None:
        return _enum_or_none(ConnectionKind, self.kind.data)

    def handover(self) -> Handover:
        return Handover(share=bool(self.share.data), contact=self.contact.data or "",
                        note=self.handover_note.data or "")


class SharingForm(VersionedForm):
    """Issue 15: what the person now agrees the organisation of a warm handover sees."""

    share = BooleanField("They agree to share their first name, how to contact them and "
                         "the handover note with the organisation")
    contact = StringField("How the organisation can contact them",
                          validators=[Length(max=MAX_CONTACT)])
    handover_note = TextAreaField("Handover note for the organisation",
                                  validators=[Length(max=MAX_NOTE)])

    def handover(self) -> Handover:
        return Handover(share=bool(self.share.data), contact=self.contact.data or "",
                        note=self.handover_note.data or "")


_NUMBER = re.compile(r"^\d{1,4}$", re.ASCII)  # not "٣" (see referrals.forms.whole_number)


class ConnectionUpdateForm(VersionedForm):
    """Move a connection on: what happened, on which day, and a note."""

    status = RadioField("What happened?", choices=[], validate_choice=False)
    on_day = StringField("Day", validators=[Length(max=4)])
    on_month = StringField("Month", validators=[Length(max=4)])
    on_year = StringField("Year", validators=[Length(max=6)])
    note = TextAreaField("Note (optional)", validators=[Length(max=MAX_NOTE)])

    def offer(self, statuses: list[ConnectionStatus]) -> None:
        self.status.choices = [SelectChoice(s.value, s.label) for s in statuses]

    def set_date(self, day: date) -> None:
        self.on_day.data, self.on_month.data, self.on_year.data = (
            str(day.day), str(day.month), str(day.year))

    @property
    def status_choice(self) -> ConnectionStatus | None:
        return _enum_or_none(ConnectionStatus, self.status.data)

    def on(self) -> tuple[date | None, dict[str, str]]:
        """The date from its three boxes; errors go on the day box, the first one."""
        parts = [(f.data or "").strip() for f in (self.on_day, self.on_month, self.on_year)]
        if not any(parts):
            return None, {"on_day": "Enter the date"}
        if not all(_NUMBER.match(p) for p in parts):
            return None, {"on_day": "The date must include a day, month and year in numbers"}
        day, month, year = (int(p) for p in parts)
        if year < 1000:
            return None, {"on_day": "Enter the year in full, for example 2026"}
        try:
            return date(year, month, day), {}
        except ValueError:
            return None, {"on_day": "The date must be a real date"}


class DirectorySearchForm(KindlyForm):
    """The connector's directory search (a GET form: nothing changes)."""

    class Meta:
        csrf = False

    q = StringField("Words", validators=[Length(max=200)])
    category = SelectField(
        "Category",
        choices=[SelectChoice("", "Any category")]
        + [SelectChoice(c.code, c.name) for c in vocabulary.CATEGORIES],
        validate_choice=False)
    day = SelectField(
        "Day",
        choices=[SelectChoice("", "Any day")]
        + [SelectChoice(code, name) for code, name in vocabulary.WEEKDAYS],
        validate_choice=False)

    @property
    def asked(self) -> bool:
        return bool((self.q.data or "").strip() or self.category_code or self.day_code)

    @property
    def category_code(self) -> str | None:
        code = self.category.data or ""
        return code if code in vocabulary.CATEGORY_BY_CODE else None

    @property
    def day_code(self) -> str | None:
        code = self.day.data or ""
        return code if code in vocabulary.WEEKDAY_NAMES else None


# What each reason means, as the form's hints say it.
UNMET_REASON_HINTS = {
    UnmetReason.NONE_NEARBY: "Nothing of this kind within their reach",
    UnmetReason.FULL: "There is one, but it has no room or a waiting list",
    UnmetReason.WRONG_TIME: "It runs only when they cannot go",
    UnmetReason.COST: "It costs more than they can pay",
    UnmetReason.ACCESS: "The venue or the activity does not meet their access needs",
    UnmetReason.LANGUAGE: "Not in a language they use",
}


class UnmetNeedForm(KindlyForm):
    """"No suitable offer found" for one need: codes only, no free text (they are counted
    for funders)."""

    unmet_category = SelectField(
        "Kind of offer they needed",
        choices=[SelectChoice("", "Select a kind of offer")]
        + [SelectChoice(c.code, c.name) for c in vocabulary.CATEGORIES],
        validate_choice=False)
    unmet_reason = RadioField(
        "Why no offer suited them",
        choices=[SelectChoice(r.value, r.label) for r in UnmetReason], validate_choice=False)


class MarkMetForm(KindlyForm):
    """The CSRF token: marking a need met needs nothing else."""
