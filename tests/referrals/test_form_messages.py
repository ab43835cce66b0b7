"""Issue 14 point 6: error messages as on NHS services, never WTForms' defaults.

Every form class in Kindly is sent empty, and then with nonsense in every field; no
message may be one of WTForms' built-in English defaults ("This field is required.",
"Not a valid choice."): each says what went wrong and how to fix it.
"""
from __future__ import annotations

import importlib
import pkgutil

import pytest
from werkzeug.datastructures import MultiDict

import referrals
import reports
from referrals import create_app
from referrals.forms import KindlyForm

# WTForms' default messages (wtforms/validators.py and fields), as they start.
DEFAULTS = (
    "This field is required", "Not a valid choice", "Invalid email address",
    "Invalid input", "Not a valid integer", "Not a valid decimal", "Not a valid float",
    "Not a valid date", "Not a valid datetime", "Not a valid time", "Field must be",
    "Field cannot be longer", "Invalid value", "Number must be", "Invalid Choice",
    "'{}' is not a valid choice", "Invalid URL", "Invalid IP", "Invalid Mac", "Invalid UUID",
    "Not a valid", "Field must be equal to", "The CSRF token",
)


def all_form_classes() -> list[type]:
    for package in (referrals, reports):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" in module.name:
                continue
            try:
                importlib.import_module(module.name)
            except OSError as exc:
                # The PDF modules load WeasyPrint, which needs Pango; on a machine without
                # it they cannot load (they hold no form; CI has Pango and walks them).
                if "cannot load library" not in str(exc):
                    raise
    found, todo = set(), [KindlyForm]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def build(cls, formdata):
    """The form bound to `formdata`; forms that are given their choices get none."""
    # Their one extra argument is a list: practices, organisations, connectors' loads; the
    # account forms take three (roles, practices, teams).
    for args, kwargs in (((), {}), ((), {"practices": []}), (([],), {}), (([], [], []), {})):
        try:
            return cls(*args, formdata=formdata, meta={"csrf": False}, **kwargs)
        except TypeError:
            continue
    pytest.fail(f"{cls.__qualname__}: add how to build it to tests/referrals/"
                "test_form_messages.py")


def nonsense(form, size: int) -> MultiDict:
    return MultiDict([(field.name, "x" * size) for field in form])


def messages(form) -> list[str]:
    form.validate()
    found = list(form.form_errors)
    for field in form:
        for error in field.errors:
            found.extend(error if isinstance(error, list) else [error])
    return [str(m) for m in found]


@pytest.fixture(scope="module")
def forms_app():
    """Forms need a request, not a database: one app, not one per database."""
    return create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_the_walk_finds_every_form(forms_app):
    names = {cls.__qualname__ for cls in all_form_classes()}

    assert {"ReferralForm", "SelfReferralForm", "AdditionForm", "CancelForm"} <= names
    assert len(names) > 20, names


@pytest.mark.parametrize("filled", ["empty", "short nonsense", "long nonsense"])
def test_no_form_shows_a_wtforms_default_message(forms_app, filled):
    shown = {}
    with forms_app.test_request_context(method="POST"):
        for cls in all_form_classes():
            form = build(cls, MultiDict())
            if filled != "empty":
                form = build(cls, nonsense(form, 3 if filled == "short nonsense" else 9000))
            for message in messages(form):
                if message.startswith(DEFAULTS):
                    shown.setdefault(f"{cls.__module__}.{cls.__qualname__}", []).append(message)

    assert not shown, f"WTForms' default messages still shown: {shown}"
