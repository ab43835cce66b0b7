"""templates/_macros/fast.html writes the same markup as the NHS.UK macros it stands for.

Each case renders the NHS.UK macro (directly, or through templates/_macros/forms.html)
and the fast one with the same arguments, and compares them with the whitespace between
and inside tags taken out: same elements, attributes in the same order, same text.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader
from markupsafe import Markup
from wtforms import BooleanField, Form, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
# As referrals._init_templates sets up the app's environment.
ENV = Environment(loader=ChoiceLoader([FileSystemLoader(TEMPLATES),
                                       PackageLoader("nhsuk_frontend_jinja")]),
                  undefined=ChainableUndefined, autoescape=True)
FAST = ENV.get_template("_macros/fast.html").module
FORMS = ENV.get_template("_macros/forms.html").module


def _nhsuk(component: str, name: str):
    return getattr(ENV.get_template(f"nhsuk/components/{component}/macro.jinja").module, name)


def same_markup(html: str) -> tuple[str, str]:
    """The markup without the whitespace around tags, and the text as read aloud (tags
    out, whitespace collapsed): words the NHS.UK macro keeps apart must stay apart."""
    html = re.sub(r"\s+", " ", str(html))
    words = " ".join(re.sub(r"<[^>]*>", "", html).split())
    html = re.sub(r"\s*>\s*", ">", html)
    return re.sub(r"\s*<\s*", "<", html).strip(), words


class Sample(Form):
    when = StringField("Date of contact")
    secret = StringField("Password")
    method = RadioField("Method", choices=[SelectChoice("phone", "Phone"),
                                           SelectChoice("visit", "Home <visit>")])
    notes = TextAreaField("Notes")
    coded_only = BooleanField("Share only coded information")


def sample(errors: bool, **data) -> Sample:
    form = Sample(data=data)
    if errors:
        for field in form:
            field.errors = [f"Enter {field.label.text.lower()} & try again"]
    return form


@pytest.mark.parametrize("errors", [False, True])
@pytest.mark.parametrize("hint", [None, "For example, 31/03/2026"])
def test_form_fields_match_the_nhsuk_macros(errors, hint):
    form = sample(errors, when="3/12/2026 <b>", secret="s", method="visit", notes="a\n<b>",
                  coded_only=True)
    pairs = [
        ("text_input", (form.when,), {"hint": hint, "classes": "nhsuk-input--width-10",
                                      "autocomplete": "off", "inputmode": "numeric"}),
        ("text_input", (form.when,), {"hint": hint, "label_classes": "nhsuk-label--s",
                                      "spellcheck": False}),
        ("text_input", (form.secret,), {"hint": hint, "type": "password"}),
        ("text_area", (form.notes,), {"hint": hint, "rows": 3}),
        ("radio_group", (form.method,), {"hint": hint, "inline": True}),
        ("radio_group", (form.method,), {"hint": hint, "legend_classes": "nhsuk-fieldset__legend--m"}),
        ("single_checkbox", (form.coded_only,), {"hint": hint}),
    ]
    for name, args, kwargs in pairs:
        fast = getattr(FAST, name)(*args, **kwargs)
        assert same_markup(fast) == same_markup(getattr(FORMS, name)(*args, **kwargs)), name


def test_unchecked_and_empty_fields_match():
    form = sample(False)
    for name, field in (("radio_group", form.method), ("single_checkbox", form.coded_only),
                        ("text_area", form.notes), ("text_input", form.when)):
        assert same_markup(getattr(FAST, name)(field)) == same_markup(getattr(FORMS, name)(field))


@pytest.mark.parametrize("colour", [None, "green", "red"])
def test_tag_matches(colour):
    params = {"text": "First <contact> overdue", "colour": colour}
    assert same_markup(FAST.tag(params)) == same_markup(_nhsuk("tag", "tag")(params))
    # As the follow-ups table writes it: the date, a line break, then the tag.
    assert same_markup(Markup("29 Nov<br>") + FAST.tag(params)) == same_markup(
        Markup("29 Nov<br>") + _nhsuk("tag", "tag")(params))


def test_summary_list_matches():
    rows = [("NHS number", "999 000 0001"), ("What <matters>", "Walks & talks"),
            ("Reasons", Markup("<ul class=\"nhsuk-list\"><li>Isolated</li></ul>"))]
    params = {"rows": [{"key": {"text": key}, "value": {"html": value}
                        if isinstance(value, Markup) else {"text": value}} for key, value in rows]}
    nhsuk = _nhsuk("summary-list", "summaryList")(params)
    assert same_markup(FAST.summary_list(params)) == same_markup(nhsuk)


@pytest.mark.parametrize("params", [
    {"text": "Record <contact>"},
    {"text": "Save", "classes": "nhsuk-button--secondary"},
    {"text": "Reject referral", "variant": "warning"},
    {"text": "Close referral", "href": "/close?a=1&b=2", "classes": "nhsuk-button--secondary"},
])
def test_button_matches(params):
    nhsuk = _nhsuk("button", "button")(params)
    assert same_markup(FAST.button(params)) == same_markup(nhsuk)


@pytest.mark.parametrize("signed_in", [False, True])
def test_header_matches(signed_in):
    sign_out = Markup('<form action="/logout" method="post"><button>Sign out</button></form>')
    params = {
        "service": {"text": "Kindly", "href": "/"},
        "account": {"items": [
            {"text": "Ann <Connector> (Connector)", "icon": True},
            {"href": "/notifications", "text": "Notifications (2 unread)"},
            {"html": sign_out}]} if signed_in else None,
        "navigation": {"items": [
            {"text": "My caseload", "html": None, "href": "/caseload", "current": True},
            {"text": "Letters", "html": Markup('Letters <span class="b">2</span>'),
             "href": "/letters", "current": False},
            {"text": "Directory & map", "html": None, "href": "/directory", "current": False},
        ]} if signed_in else None,
    }
    assert same_markup(FAST.header(params)) == same_markup(_nhsuk("header", "header")(params))


def test_footer_matches():
    params = {"copyright": {"text": "Kindly"}, "meta": {"items": [
        {"href": "/privacy", "text": "Privacy notice"},
        {"href": "/status", "text": "Service <status>"}]}}
    assert same_markup(FAST.footer(params)) == same_markup(_nhsuk("footer", "footer")(params))


@pytest.mark.parametrize("level", [None, 2])
def test_callouts_and_links_match(level):
    html = Markup("<p>Lives <em>alone</em></p>")
    heading = {"text": "Known <risks>", "level": level} if level else {"text": "Known <risks>"}
    pairs = [
        ("warning_callout", "warning-callout", "warningCallout",
         {"heading": heading, "html": html}),
        ("inset_text", "inset-text", "insetText", {"html": html}),
        ("skip_link", "skip-link", "skipLink", {"href": "#maincontent", "text": "Skip <it>"}),
        ("back_link", "back-link", "backLink", {"href": "/caseload?a=1&b=2", "text": "Back"}),
    ]
    for fast, component, name, params in pairs:
        assert same_markup(getattr(FAST, fast)(params)) == same_markup(
            _nhsuk(component, name)(params)), fast
