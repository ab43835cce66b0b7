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
