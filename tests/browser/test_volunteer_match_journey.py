"""A connector matches a volunteer to a person who asked for a weekly call, in the browser
(issue 15, "Done means"): Jo finds volunteers for the demo's weekly-call request and
proposes Dave; Dave signs in, sees no health details, and accepts; Jo sees it accepted.
axe-core runs on every page reached, an error page included.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_caseload_journey import JO

pytestmark = pytest.mark.browser

DAVE = "volunteer@kindly.example"


def assert_reflows(page: Page, what: str) -> None:
    wide = page.evaluate("[document.documentElement.scrollWidth,"
                         " document.documentElement.clientWidth]")
    assert wide[0] <= wide[1], f"{what} scrolls sideways at 375 px: {wide}"


def open_weekly_call(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Volunteer requests", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Volunteer requests")
    page.locator("#open ~ ul").get_by_role(
        "link", name=re.compile("befriending phone calls")).first.click()


def test_a_connector_proposes_dave_for_a_weekly_call_and_he_accepts(page, sign_in, axe):
    sign_in(JO)
    page.goto("/volunteering/requests")
    assert_accessible(axe, page, "the volunteer requests")
    open_weekly_call(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Befriending phone calls for "))
    first_name = page.get_by_role("heading", level=1).inner_text().rsplit(" ", 1)[-1]

    # The referral's Volunteers section: a section of the workspace; asking needs a need.
    page.get_by_role("link", name=re.compile("^Back to ")).click()
    expect(page.get_by_role("navigation", name="Sections of this referral").get_by_role(
        "link", name="Volunteers", exact=True)).to_have_attribute("aria-current", "page")
    assert_accessible(axe, page, "the referral's volunteers")
    page.get_by_role("button", name="Ask for a volunteer").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Select what the person needs a volunteer for")
    assert_accessible(axe, page, "asking for a volunteer, with an error")
    page.get_by_role("link", name="Befriending phone calls").first.click()

    # The explained ranking: Dave offers calls and is free when they would like.
    dave = page.locator("#suitable ~ ol > li").filter(has_text="Dave Wilson")
    expect(dave).to_contain_text("offers befriending phone calls")
    expect(dave).to_contain_text("free Monday mornings")
    assert_accessible(axe, page, "the suitable volunteers")
    dave.get_by_role("button", name="Propose Dave Wilson").click()
    expect(page.get_by_text("Dave Wilson has been asked.")).to_be_visible()
    match = page.locator("#matches ~ .nhsuk-card").filter(has_text="Dave Wilson").first
    expect(match).to_contain_text("Proposed")
    assert_accessible(axe, page, "the request with a proposal")
    request_url = page.url.split("#")[0]

    # Dave: his matches, the proposal without health details, and his answer.
    page.context.clear_cookies()
    sign_in(DAVE)
    page.goto("/")
    page.get_by_role("link", name="Your matches").first.click()
    expect(page).to_have_url(re.compile(r"/volunteering/matches$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(axe, page, "the volunteer's matches")
    page.get_by_role("link", name=f"{first_name}: befriending phone calls").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{first_name}: befriending phone calls")
    expect(page.locator("main")).not_to_contain_text("NHS number")
    expect(page.locator("main")).not_to_contain_text("Reason")
    page.get_by_role("button", name="Send answer").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Select yes if you can help")
    assert_accessible(axe, page, "answering a match, with an error")
    page.get_by_label("Yes, I can help").check()
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_text("you have accepted")).to_be_visible()
    expect(page.locator(".nhsuk-summary-list")).to_contain_text("Phone")
    assert_accessible(axe, page, "an accepted match")

    # On a phone: the match, and what to do when worried about the person, reflow.
    page.set_viewport_size({"width": 375, "height": 812})
    assert_reflows(page, "an accepted match")
    page.get_by_role("link", name="raise a safeguarding concern").click()
    expect(page.get_by_role("heading", name="What to do now")).to_be_visible()
    expect(page.locator("main")).to_contain_text("999")
    assert_reflows(page, "raising a safeguarding concern")
    assert_accessible(axe, page, "raising a safeguarding concern")
    # His own page lists the running match (issue 15 seams), on a phone too.
    page.goto("/volunteering")
    mine = page.locator("#my-matches ~ table")
    expect(mine).to_contain_text(first_name)
    expect(mine).to_contain_text("Accepted")
    assert_reflows(page, "the volunteer's own page with a match")
    assert_accessible(axe, page, "the volunteer's own page with a match")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Jo sees it accepted, with the first check-in two weeks on.
    page.context.clear_cookies()
    sign_in(JO)
    page.goto(request_url)
    match = page.locator("#matches ~ .nhsuk-card").filter(has_text="Dave Wilson").first
    expect(match).to_contain_text("Accepted")
    expect(match).to_contain_text("Next check-in")
    assert_accessible(axe, page, "the accepted match, for the connector")
