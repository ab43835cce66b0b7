"""Fixtures for the practice pages: a signed-in referrer, a valid form, and an HTML reader."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from referrals.models import Role

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _TreeBuilder(HTMLParser):
    """Just enough of an HTML parser to ask a page questions with ElementTree paths."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = ET.Element("document")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = ET.SubElement(self.stack[-1], tag, {k: v or "" for k, v in attrs})
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        ET.SubElement(self.stack[-1], tag, {k: v or "" for k, v in attrs})

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        parent = self.stack[-1]
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + data
        else:
            parent.text = (parent.text or "") + data


def text_of(element) -> str:
    """The text a screen reader reads, whitespace collapsed: not what is aria-hidden (a
    responsive table's column heading repeated in each cell for small screens)."""

    def parts(e):
        if e.get("aria-hidden") == "true":
            return
        yield e.text or ""
        for child in e:
            yield from parts(child)
            yield child.tail or ""

    return " ".join("".join(parts(element)).split())


class Page:
    """A rendered page, queried the way a person (or a screen reader) meets it."""

    def __init__(self, response):
        self.response = response
        self.html = response.get_data(as_text=True)
        builder = _TreeBuilder()
        builder.feed(self.html)
        builder.close()
        self.root = builder.root
        self.parents = {child: parent for parent in self.root.iter() for child in parent}

    def find(self, path):
        return self.root.find(path)

    def findall(self, path):
        return self.root.findall(path)

    def by_id(self, element_id):
        return self.find(f".//*[@id='{element_id}']")

    def text(self) -> str:
        return text_of(self.root)

    def label_for(self, field_id) -> list[str]:
        """The texts that name a field: its <label for>, and its fieldsets' <legend>s."""
        label = self.find(f".//label[@for='{field_id}']")
        names = [text_of(label)] if label is not None else []
        element = self.by_id(field_id)
        while element is not None:
            if element.tag == "fieldset" and (legend := element.find("legend")) is not None:
                names.append(text_of(legend))
            element = self.parents.get(element)
        return names

    def error_for(self, field_id) -> str | None:
        """The error shown next to a field (NHS.UK: `<id>-error`), without its 'Error:' prefix."""
        element = self.by_id(f"{field_id}-error")
        if element is None:
            return None
        assert "nhsuk-error-message" in element.get("class", "")
        return text_of(element).removeprefix("Error:").strip()

    def summary_links(self) -> dict[str, str]:
        """The error summary at the top: {href: message}."""
        return {
            a.get("href"): text_of(a)
            for a in self.findall(".//*[@class='nhsuk-error-summary']//a")
        }

    def value_of(self, name) -> str | None:
        element = self.find(f".//form[@method='post']//*[@name='{name}']")
        if element is None:
            return None
        if element.tag == "textarea":
            return "".join(element.itertext())
        return element.get("value")

    def checked(self, name) -> list[str]:
        return [
            e.get("value")
            for e in self.findall(f".//input[@name='{name}']")
            if "checked" in e.attrib
        ]

    def links(self) -> dict[str, str]:
        return {text_of(a): a.get("href") for a in self.findall(".//a[@href]")}


@pytest.fixture
def page():
    return Page


@pytest.fixture
def referrer(login_as):
    """A signed-in referrer; their practice has a connector team."""
    return login_as(Role.REFERRER)


@pytest.fixture
def valid_form(make):
    """Form data for a referral that passes every rule; override any field."""

    def build(**overrides):
        data = {
            "nhs_number": make.nhs_number(),
            "given_name": "Ann",
            "family_name": "Bee",
            "birth_date-day": "31", "birth_date-month": "3", "birth_date-year": "1950",
            "sex": "female",
            "postcode": "kb1 1ab",
            "reasons": ["loneliness"],
            "what_matters": "Getting back to the allotment",
            "no_known_risks": "y",
            "urgency": "routine",
            "consent": "y",
            "consent_given_by": "person",
            "consent_method": "verbal-in-person",
        }
        data.update(overrides)
        return {key: value for key, value in data.items() if value is not None}

    return build
