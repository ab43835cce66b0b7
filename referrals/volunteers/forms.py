"""Volunteer forms (issue 15): the public sign-up, a coordinator's checks and decision,
and the volunteer's own details and stepping back. Each field's error is worded for the
person in front of it; the services keep the same rules for anyone else."""
from __future__ import annotations

import re

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
from wtforms.validators import Email, InputRequired, Length, ValidationError

from referrals.forms import (
    DateInputField,
    KindlyForm,
    MultiCheckboxField,
    VersionedForm,
    whole_number,
)
from referrals.models import Team, Volunteer, VolunteerOffer
from referrals.postcode import normalise_postcode
from referrals.volunteers import service
from referrals.volunteers.own import BREAK, LEAVE
from referrals.volunteers.service import DAYS, MAX_NAME, MAX_REASON, SLOTS, TIMES, VolunteerDetails

KM_PER_MILE = 1.609344
NEAREST = "nearest"  # the hub choice that lets Kindly pick by distance
MAX_MILES = 50
_PHONE = re.compile(r"^\+?[\d\s()-]+$", re.ASCII)


class _AboutHelping(KindlyForm):
    """What a volunteer offers and when: asked at sign-up and kept current on their page."""

    offers = MultiCheckboxField("How could you help?", choices=[
        SelectChoice(offer.value, offer.label) for offer in VolunteerOffer], validate_choice=False)
    skills = TextAreaField("Which skills could you share?", validators=[
        Length(max=1000, message="Skills must be 1000 characters or fewer")])
    availability = MultiCheckboxField("When are you usually free?", choices=[
        SelectChoice(slot, slot) for slot in SLOTS], validate_choice=False)
    availability_note = TextAreaField("Anything else about when you are free (optional)",
                                      validators=[Length(max=500)])
    phone = TelField("Phone number", validators=[InputRequired("Enter your phone number")])
    postcode = StringField("Postcode", validators=[InputRequired("Enter your postcode")])
    travel_miles = StringField("How far could you travel, in miles?")

    days, times = DAYS, TIMES

    def validate_offers(self, field):
        if not field.data:
            raise ValidationError("Select at least one way you could help")
        if not set(field.data) <= {offer.value for offer in VolunteerOffer}:
            field.data = []
            raise ValidationError("Select at least one way you could help")

    def validate_skills(self, field):
        if VolunteerOffer.SKILLS in (self.offers.data or []) and not (field.data or "").strip():
            raise ValidationError("Tell us which skills you could share")

    def validate_availability(self, field):
        if not field.data or not set(field.data) <= set(SLOTS):
            field.data = [slot for slot in field.data or [] if slot in SLOTS]
            raise ValidationError("Select at least one time you are usually free")

    def validate_phone(self, field):
        value = (field.data or "").strip()
        digits = re.sub(r"\D", "", value, flags=re.ASCII)
        if not (_PHONE.match(value) and 10 <= len(digits) <= 15):
            raise ValidationError("Enter a phone number, like 01632 960 001 or 07700 900 982")

    def validate_postcode(self, field):
        if normalise_postcode(field.data or "") is None:
            raise ValidationError("Enter a real UK postcode, like KB1 1AB")

    def validate_travel_miles(self, field):
        miles = whole_number(field.data, max_digits=3)
        if miles is None:
            raise ValidationError(
                "Enter how far you could travel as a whole number of miles, like 5")
        if miles > MAX_MILES:
            raise ValidationError(f"How far you could travel must be {MAX_MILES} miles or fewer")

    @property
    def travel_km(self) -> float | None:
        miles = whole_number(self.travel_miles.data, max_digits=3)
        return None if miles is None else round(miles * KM_PER_MILE, 1)

    def show(self, volunteer: Volunteer) -> None:
        """Fill the form from the record, as the volunteer last left it."""
        self.offers.data, self.skills.data = list(volunteer.offers), volunteer.skills
        self.availability.data = list(volunteer.availability)
        self.availability_note.data = volunteer.availability_note
        self.phone.data, self.postcode.data = volunteer.phone, volunteer.postcode
        self.travel_miles.data = ("" if volunteer.travel_km is None
                                  else str(round(volunteer.travel_km / KM_PER_MILE)))

    def add_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            target = self._fields.get(name)
            if target is None:
                self.form_errors.append(message)
            elif not target.errors:
                target.errors = [message]

    @property
    def has_errors(self) -> bool:
        return bool(self.form_errors) or any(f.errors for f in self)


class SignUpForm(_AboutHelping):
    """"How can you help?": the public sign-up."""

    given_name = StringField("First name", validators=[
        InputRequired("Enter your first name"), Length(max=100)])
    family_name = StringField("Last name", validators=[
        InputRequired("Enter your last name"), Length(max=100)])
    email = EmailField("Email address", validators=[
        InputRequired("Enter your email address"), Length(max=254),
        Email("Enter an email address in the correct format, like name@example.com")])
    hub = RadioField("Which hub would you like to help?", validate_choice=False)
    consent = BooleanField("I agree that the hub's coordinators may contact me about "
                           "volunteering, and check my references and DBS")
    # Spam protection, as on the self-referral: see referrals/directory/ratelimit.py.
    website = StringField("Leave this blank")
    shown = HiddenField()

    def __init__(self, teams: list[Team], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.teams = {str(team.id): team for team in teams}
        self.hub.choices = [SelectChoice(NEAREST, "The hub nearest my postcode")] + [
            SelectChoice(str(t.id), t.name) for t in teams]
        self.asks_hub = len(teams) > 1

    def validate_hub(self, field):
        if not self.asks_hub:
            field.data = next(iter(self.teams), None)
        elif field.data == NEAREST:
            if self.postcode.errors:
                return  # the postcode's own error says what to fix
            team = service.nearest_team(self.postcode.data or "", list(self.teams.values()))
            if team is None:
                raise ValidationError("We could not find your postcode on the map. "
                                      "Select the hub you would like to help")
            field.data = str(team.id)
        elif field.data not in self.teams:
            field.data = None
            raise ValidationError("Select the hub you would like to help")

    def validate_consent(self, field):
        if not field.data:
            raise ValidationError("Tick the box to agree that the hub may contact you. "
                                  "Without it we cannot take your offer")

    @property
    def team(self) -> Team | None:
        return self.teams.get(self.hub.data or "")

    def to_details(self) -> VolunteerDetails:
        return VolunteerDetails(
            given_name=self.given_name.data or "", family_name=self.family_name.data or "",
            email=self.email.data or "", phone=self.phone.data or "",
            postcode=self.postcode.data or "", offers=list(self.offers.data or []),
            skills=self.skills.data or "", availability=list(self.availability.data or []),
            availability_note=self.availability_note.data or "", travel_km=self.travel_km,
            consent=bool(self.consent.data))


class DetailsForm(_AboutHelping, VersionedForm):
    """The volunteer's own offers, availability and contact details."""


class ChecksForm(VersionedForm):
    """A coordinator records references and a DBS check: dates and who checked only."""

    references_on = DateInputField("Date the references were checked",
                                   id="references_on-day")
    references_by = StringField("Who checked the references? (optional)",
                                validators=[Length(max=MAX_NAME)])
    dbs_on = DateInputField("Date of the DBS check", id="dbs_on-day")
    dbs_by = StringField("Who did the DBS check? (optional)", validators=[Length(max=MAX_NAME)])


class DecisionForm(VersionedForm):
    """Approve or decline a volunteer, with the reason."""

    decision = RadioField("Your decision", choices=[
        SelectChoice("approve", "Approve"), SelectChoice("decline", "Decline")],
        validate_choice=False)
    reason = TextAreaField("Reason", validators=[
        InputRequired("Enter the reason for your decision"), Length(max=MAX_REASON)])

    def validate_decision(self, field):
        if field.data not in ("approve", "decline"):
            field.data = None
            raise ValidationError("Select approve or decline")


class StepBackForm(VersionedForm):
    kind = RadioField("What would you like to do?", choices=[
        SelectChoice(BREAK, "I need a break"), SelectChoice(LEAVE, "I want to leave")],
        validate_choice=False)
    reason = TextAreaField("Would you like to tell us why? (optional)",
                           validators=[Length(max=MAX_REASON)])

    def validate_kind(self, field):
        if field.data not in (BREAK, LEAVE):
            field.data = None
            raise ValidationError("Select whether you need a break or want to leave")
