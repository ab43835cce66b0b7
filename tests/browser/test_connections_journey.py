"""A connector matches a person to an offer and follows it to attended, in the browser:
what suits them, explained suggestions, recording a signpost, moving it on, with
axe-core run on every page reached, errors included.

The demo town is shared with the other browser tests, so the journey picks whatever
referral in progress the caseload shows and whichever offer is suggested first (an
offer already connected is never suggested again).
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_caseload_journey import JO, open_referral_in_progress, open_section

pytestmark = pytest.mark.browser


def status_of(page: Page, offer: str):
    """The status tag of the connection to `offer` in the suggestions' Connections table."""
    return (page.locator("#connections + table tbody tr").filter(has_text=offer)
            .locator(".nhsuk-tag"))


def test_a_connector_records_a_suggestion_and_follows_it_to_attended(page, sign_in, axe):
    sign_in(JO)
    open_referral_in_progress(page)
    name = page.get_by_role("heading", level=1).inner_text()

    # What suits them: Tuesdays and Thursdays, step-free access. Whole days, not mornings
    # only, so some offer still fits whichever person the shared demo puts first.
    page.get_by_role("link", name="What suits them").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(rf"^What suits {re.escape(name.split()[0])}"))
    assert_accessible(axe, page, "what suits them")
    page.get_by_label("How far will they travel?").fill("lots")
    page.get_by_role("button", name="Save what suits them").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Enter the distance as a number of kilometres")
    assert_accessible(axe, page, "what suits them, with an error")
    for box in page.locator("input[name='availability']").all():
        box.uncheck()  # the demo recorded other days for them
    for day in ("Tuesday", "Thursday"):
        for part in ("Morning", "Afternoon"):
            page.get_by_role("group", name=day, exact=True).get_by_label(part).check()
    page.get_by_label("How far will they travel?").fill("10")
    page.get_by_label("Step-free access").check()
    page.get_by_role("button", name="Save what suits them").click()

    # The suggestions: explained, and using what was just saved.
    expect(page).to_have_url(re.compile(r"/suggestions$"))
    expect(page.get_by_text("is saved. The suggestions use it.")).to_be_visible()
    needs = page.locator(".nhsuk-summary-list")
    expect(needs).to_contain_text(
        "Tuesday morning, afternoon; Thursday morning, afternoon")
    expect(needs).to_contain_text("Up to 10 km")
    assert_accessible(axe, page, "the suggestions")
    first = page.locator("#suggestions ~ ol > li").first
    expect(first).to_contain_text("Score")
    expect(first).to_contain_text(" km")
    offer = first.locator("h3").inner_text()

    # Record it as a signpost (the choice already made), with a note.
    form = first.locator("form")
    expect(form.get_by_label("Signpost (gave them the details)")).to_be_checked()
    form.get_by_label("Note (optional)").fill("Gave them the leaflet")
    form.get_by_role("button", name=f"Record {offer}").click()
    expect(page.get_by_text(f"{offer} recorded as a signpost: suggested.")).to_be_visible()
    connected = page.locator("#connections + table tbody tr").filter(has_text=offer)
    expect(connected).to_contain_text("Suggested")
    expect(page.locator("#suggestions ~ ol > li h3").filter(
        has_text=re.compile(rf"^{re.escape(offer)}$"))).to_have_count(0)
    assert_accessible(axe, page, "the suggestions after recording one")

    # Accepted: the person said yes. Without a choice first, to see the error.
    connected.get_by_role("link", name=offer).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(offer)
    assert_accessible(axe, page, "a connection")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Select what happened")
    assert_accessible(axe, page, "a connection, with an error")
    page.get_by_role("group", name="What happened?").get_by_label("Accepted").check()
    page.get_by_label("Note (optional)").fill("Going next Tuesday")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/caseload/referrals/\d+/suggestions#connections$"))
    expect(status_of(page, offer)).to_have_text("Accepted")

    # Attended: they went (the date comes filled in with today).
    page.locator("#connections + table").get_by_role("link", name=offer).click()
    expect(page.get_by_label("Year")).not_to_have_value("")
    page.get_by_role("group", name="What happened?").get_by_label("Attended").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(status_of(page, offer)).to_have_text("Attended")
    open_section(page, "History")
    timeline = page.locator(".kindly-timeline")
    for step in ("suggested", "accepted", "attended"):
        expect(timeline).to_contain_text(f"Connected to {offer} (signpost): {step}")
    assert_accessible(axe, page, "the workspace's history with a connection attended")

    page.get_by_role("navigation", name="Sections of this referral").get_by_role(
        "link", name="Offers and connections").click()
    page.locator("#connections + table").get_by_role("link", name=offer).click()
    expect(page.get_by_text("This connection is attended: that is final.")).to_be_visible()


def test_the_directory_search_on_the_suggestions_page_is_accessible(page, sign_in, axe):
    sign_in(JO)
    open_referral_in_progress(page)
    page.get_by_role("link", name=re.compile(r"^Find offers for ")).click()
    page.get_by_label("Words").fill("walk")
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"/suggestions\?q=walk"))
    expect(page.locator("#results")).to_contain_text("found")
    assert_accessible(axe, page, "the suggestions with directory search results")
