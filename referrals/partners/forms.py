"""Partner forms: they parse what a partner types; referrals.partners.service judges it."""
from __future__ import annotations

from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from referrals.forms import DateInputField, KindlyForm, VersionedForm
from referrals.matching.service import MAX_NOTE
from referrals.models import CapacityStatus, ConnectionStatus

# How each answer reads to a partner (the statuses are the connector's words).
ANSWER_LABELS = {
    ConnectionStatus.TAKEN_ON: "Taken on: we have room and will see them",
    ConnectionStatus.NO_CAPACITY: "No capacity: we cannot take them now",
    ConnectionStatus.ATTENDED: "Attended: they came",
    ConnectionStatus.DID_NOT_ATTEND: "Did not attend",
}


class AnswerForm(VersionedForm):
    """A partner's answer to one handover."""

    status = RadioField("What is your answer?", choices=[], validate_choice=False)
    on = DateInputField("Date")
    capacity_returns_on = DateInputField("Date you will have room again")
    note = TextAreaField("Note for the connector (optional)",
                         validators=[Length(max=MAX_NOTE, message=f"The note must be "
                                                                  f"{MAX_NOTE} characters or fewer")])

    def offer(self, answers: list[ConnectionStatus]) -> None:
        self.status.choices = [SelectChoice(a.value, ANSWER_LABELS[a]) for a in answers]

    @property
    def answer(self) -> ConnectionStatus | None:
        try:
            return ConnectionStatus(self.status.data) if self.status.data else None
        except ValueError:
            return None


class CapacityForm(KindlyForm):
    """Whether the listing can take new people, and (when full) the day that changes."""

    capacity = RadioField("Can you take new people?", validate_choice=False, choices=[
        SelectChoice(c.value, c.label) for c in CapacityStatus])
    returns_on = DateInputField("If full, the date you will have room again (optional)")

    @property
    def choice(self) -> CapacityStatus | None:
        try:
            return CapacityStatus(self.capacity.data) if self.capacity.data else None
        except ValueError:
            return None


class FilterForm(KindlyForm):
    """Open or answered handovers (a GET form: nothing changes)."""

    class Meta:
        csrf = False

    show = SelectField("Show", validate_choice=False, choices=[
        SelectChoice("open", "Open: waiting for your answer"),
        SelectChoice("answered", "Answered"), SelectChoice("all", "All handovers")])
