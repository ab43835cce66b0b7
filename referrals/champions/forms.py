"""Champions' forms: a coordinator sets a patch or decides a suggestion; a champion
suggests a new group or a correction."""
from __future__ import annotations

from wtforms import RadioField, SelectField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice

from referrals.champions.service import SuggestionDetails
from referrals.forms import VersionedForm
from referrals.hub.forms import HubForm
from referrals.models import Offer, SuggestionKind


class PatchForm(HubForm, VersionedForm):
    districts = StringField("Postcode districts")

    def add_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            self.add_error(name, message)


class DecisionForm(HubForm, VersionedForm):
    decision = RadioField("Your decision", validate_choice=False, choices=[
        SelectChoice("approve", "Approve: publish it in the directory"),
        SelectChoice("reject", "Do not approve")])
    reason = TextAreaField("Reason, if you do not approve (the champion sees it)")

    def add_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            self.add_error(name, message)


class SuggestionForm(HubForm):
    kind = RadioField("What do you suggest?", validate_choice=False,
                      choices=[SelectChoice(k.value, k.label) for k in SuggestionKind])
    offer_id = SelectField("Listing to correct", validate_choice=False)
    note = TextAreaField("What is wrong with the listing?")
    name = StringField("Group's name")
    description = TextAreaField("Description (what the group does, or the listing's "
                                "corrected description)")
    venue = StringField("Where it meets (optional)")
    postcode = StringField("Postcode where it meets")
    when = StringField("When it meets (optional)")
    free = RadioField("Is it free?", validate_choice=False, choices=[
        SelectChoice("yes", "Yes, it is free"), SelectChoice("no", "No, it costs something")])
    cost = StringField("What it costs (optional)")
    contact_phone = TelField("Contact phone number (optional)")
    email = StringField("Contact email address (optional)")

    def __init__(self, listings: list[Offer], **kwargs):
        super().__init__(**kwargs)
        self.offer_id.choices = [SelectChoice("", "Select a listing")] + [
            SelectChoice(o.id, o.name) for o in listings]

    def details(self) -> SuggestionDetails:
        kind = self.kind.data
        return SuggestionDetails(
            kind=SuggestionKind(kind) if kind in {k.value for k in SuggestionKind} else None,
            offer_id=self.offer_id.data or "", name=self.name.data or "",
            description=self.description.data or "", venue=self.venue.data or "",
            postcode=self.postcode.data or "", when=self.when.data or "",
            free={"yes": True, "no": False}.get(self.free.data or ""),
            cost=self.cost.data or "", contact_phone=self.contact_phone.data or "",
            email=self.email.data or "", note=self.note.data or "")

    def add_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            self.add_error(name, message)
