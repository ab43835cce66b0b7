"""Administrator forms: API clients."""
from __future__ import annotations

from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from referrals.admin.service import NAME_MAX
from referrals.forms import KindlyForm, MultiCheckboxField
from referrals.models import Practice


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ApiClientForm(KindlyForm):
    """A new FHIR API client: its name and the practices it acts for (by ODS code)."""

    name = StringField(
        "Name",
        filters=[_strip],
        validators=[
            InputRequired("Give the API client a name"),
            Length(max=NAME_MAX, message=f"Keep the name to {NAME_MAX} characters or fewer"),
        ],
    )
    practices = MultiCheckboxField("Practices", validate_choice=False)

    def __init__(self, practices: list[Practice], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._by_ods = {p.ods_code: p for p in practices}
        self.practices.choices = [
            SelectChoice(p.ods_code, f"{p.name} ({p.ods_code})") for p in practices
        ]

    def validate_practices(self, field):
        if not field.data:
            raise ValidationError("Select at least one practice")
        if unknown := [code for code in field.data if code not in self._by_ods]:
            raise ValidationError(f"Unknown practice: {', '.join(unknown)}")

    def chosen_practices(self) -> list[Practice]:
        return [self._by_ods[code] for code in dict.fromkeys(self.practices.data or [])
                if code in self._by_ods]

    def add_error(self, field_name: str, message: str) -> None:
        field = self._fields.get(field_name)
        if field is None:
            self.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]


class RevokeApiClientForm(KindlyForm):
    """Nothing to fill in: the CSRF token proves the administrator pressed the button here."""
