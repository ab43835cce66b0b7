"""What every Kindly web form shares."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
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
