"""What every Kindly web form shares."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


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
            return unbound_field.bind(form=form, **{**options, "filters": filters})


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (rendered by the checkbox_group macro)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


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
