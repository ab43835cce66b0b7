"""Forms for managing accounts, and for setting a password from an emailed link."""
from __future__ import annotations

from wtforms import EmailField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from referrals.auth.forms import ChangePasswordForm
from referrals.forms import KindlyForm
from referrals.models import DirectoryOrganisation, Practice, Role, Team


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class PlacementForm(KindlyForm):
    """A role, and the practice or team it needs, from what the actor may give.

    The view passes only the roles, practices and teams the actor may choose
    (referrals/access.py); a manager's practice or a coordinator's team is then the only
    choice, shown as a fact rather than a question.
    """

    role = RadioField("Role", validate_choice=False)
    practice = SelectField("Practice", validate_choice=False)
    team = SelectField("Connector team", validate_choice=False)
    # Issue 15: the directory organisation a partner acts for.
    organisation = SelectField("Partner organisation", validate_choice=False)

    def __init__(self, roles, practices: list[Practice], teams: list[Team], *args,
                 organisations: list[DirectoryOrganisation] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self._organisations = {o.id: o for o in organisations}
        self.organisation.choices = [SelectChoice("", "Select an organisation")] + [
            SelectChoice(key, o.name) for key, o in self._organisations.items()]
        self._roles = {role.value: role for role in roles}
        self._practices = {str(p.id): p for p in practices}
        self._teams = {str(t.id): t for t in teams}
        self.role.choices = [SelectChoice(r.value, r.label) for r in Role if r in roles]
        self.practice.choices = [SelectChoice("", "Select a practice")] + [
            SelectChoice(key, p.name) for key, p in self._practices.items()]
        self.team.choices = [SelectChoice("", "Select a team")] + [
            SelectChoice(key, t.name) for key, t in self._teams.items()]

    def validate_role(self, field):
        if not field.data:
            raise ValidationError("Select a role")
        if field.data not in self._roles:
            raise ValidationError("Select one of the roles shown")

    @property
    def fixed_practice(self) -> Practice | None:
        return next(iter(self._practices.values())) if len(self._practices) == 1 else None

    @property
    def fixed_team(self) -> Team | None:
        return next(iter(self._teams.values())) if len(self._teams) == 1 else None

    def chosen_role(self) -> Role:
        return self._roles[self.role.data]

    def chosen_practice(self) -> Practice | None:
        return self.fixed_practice or self._practices.get(self.practice.data or "")

    def chosen_team(self) -> Team | None:
        return self.fixed_team or self._teams.get(self.team.data or "")

    def chosen_organisation(self) -> DirectoryOrganisation | None:
        return self._organisations.get(self.organisation.data or "")

    def add_error(self, field_name: str, message: str) -> None:
        field = self._fields.get(field_name)
        if field is None:
            self.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]


class InviteForm(PlacementForm):
    name = StringField("Full name", filters=[_strip], validators=[
        DataRequired("Enter the person's full name"),
        Length(max=120, message="Full name must be 120 characters or fewer")])
    email = EmailField("Email address", filters=[_strip], validators=[
        DataRequired("Enter their email address"),
        Length(max=254, message="Email address must be 254 characters or fewer")])


class ButtonForm(KindlyForm):
    """Nothing to fill in: the CSRF token proves the button was pressed on our page."""


class ForgotPasswordForm(KindlyForm):
    email = EmailField("Email address", filters=[_strip], validators=[
        DataRequired("Enter your email address"),
        Length(max=254, message="Email address must be 254 characters or fewer")])


class SetPasswordForm(ChangePasswordForm):
    """A new password, twice, from an emailed link: the change form without the current
    password (the link stands in for it)."""

    current_password = None
