"""Issue 14, intake without dead ends, in Chromium: a GP refers from a phone with the
NHS.UK date input and reads what happens next; a GP at another practice refers the same
person, is offered to add the information instead, and the hub sees it; a person asking
for themselves is told the form went too fast (keeping their answers), then gets a
reference number. Screenshots of the form and the confirmation at 375 and 1280 px go to
docs/screenshots/.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from referrals.directory.ratelimit import MIN_FILL_SECONDS
from tests.browser.conftest import PROJECT_ROOT
from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_referral_journey import unused_nhs_number

pytestmark = pytest.mark.browser

GP, OTHER_PRACTICES_GP = "gp@kindly.example", "gp2@kindly.example"
COORDINATOR = "coordinator@kindly.example"
# docs/screenshots/ only when asked (DOCS_SCREENSHOTS=1): a test run leaves the tree clean.
SHOTS = (PROJECT_ROOT / "docs" / "screenshots" if os.environ.get("DOCS_SCREENSHOTS")
         else Path("/tmp/kindly-shots"))
PHONE, DESKTOP = {"width": 375, "height": 800}, {"width": 1280, "height": 900}


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def assert_no_sideways_scroll(page: Page) -> None:
    width, client = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width <= client, f"{page.url} scrolls sideways at {client} px ({width} px wide)"


def fill_referral(page: Page, number: str, *, what_matters: str) -> None:
    page.get_by_label("NHS number").fill(number)
    page.get_by_label("Given name").fill("Ivy")
    page.get_by_label("Family name").fill("Example")
    born = page.get_by_role("group", name="Date of birth")
    born.get_by_label("Day").fill("4")
    born.get_by_label("Month").fill("7")
    born.get_by_label("Year").fill("1948")
    page.get_by_role("group", name="Sex").get_by_label("Female").check()
    page.get_by_label("Postcode").fill("kb1 1ab")
    page.get_by_label("Phone number").fill("07700 900123")
    page.get_by_role("group", name="Preferred contact method").get_by_label("Phone call").check()
    page.get_by_role("group", name="Reasons for referral").get_by_label("Loneliness").check()
    page.get_by_label("What matters to the person").fill(what_matters)
    page.get_by_label("No known risks", exact=True).check()
    page.get_by_label(
        "The person has agreed to this referral and to their details being shared").check()


def sign_in_as(page: Page, sign_in, email: str) -> None:
    page.context.clear_cookies()
    sign_in(email)


def test_a_referral_from_a_phone_then_a_second_one_adds_information_the_hub_sees(
    page, sign_in, live_server, axe
):
    number = unused_nhs_number(live_server)
    page.set_viewport_size(PHONE)
    sign_in_as(page, sign_in, GP)
    page.goto("/referrals/new")
    assert_no_sideways_scroll(page)
    shoot(page, "referral-form-375.png")

    # A mistake in the date is named, linked to the box, and nothing typed is lost.
    fill_referral(page, number, what_matters="Getting back to the choir")
    page.get_by_role("group", name="Date of birth").get_by_label("Month").fill("")
    page.get_by_role("button", name="Send referral").click()
    summary = page.locator(".nhsuk-error-summary")
    summary.get_by_role("link", name="Date of birth must include a month").click()
    assert page.evaluate("document.activeElement.id") == "birth_date-month"
    expect(page.get_by_role("group", name="Date of birth").get_by_label("Year")
           ).to_have_value("1948")
    page.get_by_role("group", name="Date of birth").get_by_label("Month").fill("7")
    page.get_by_role("button", name="Send referral").click()

    # What happens next: the team, the target date, how, and the reference.
    # A redirect keeps the fragment the error summary's link left (#birth_date-month).
    expect(page).to_have_url(re.compile(r"/referrals/(\d+)/sent(#[\w-]*)?$"))
    referral_id = re.search(r"/referrals/(\d+)/sent", page.url).group(1)
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral sent")
    main = page.locator("main")
    expect(main).to_contain_text(re.compile(r"A connector will contact Ivy by \w+day \d+ \w+ \d{4}"))
    expect(main).to_contain_text("They will phone Ivy on 07700 900123")
    reference = re.search(r"KND-\d{4}-\d{6}", page.locator(".nhsuk-panel").inner_text()).group(0)
    assert_no_sideways_scroll(page)
    assert_accessible(axe, page, "the referral confirmation")
    shoot(page, "referral-sent-375.png")
    page.set_viewport_size(DESKTOP)
    shoot(page, "referral-sent-1280.png")
    page.goto("/referrals/new")
    shoot(page, "referral-form-1280.png")

    # Another practice refers the same person: it may add its information instead,
    # without being shown the first practice's referral.
    sign_in_as(page, sign_in, OTHER_PRACTICES_GP)
    page.set_viewport_size(PHONE)
    page.goto("/referrals/new")
    fill_referral(page, number, what_matters="Her neighbour says she has stopped going out")
    page.get_by_role("button", name="Send referral").click()
    addition = page.locator("#add-information")
    expect(addition).to_contain_text("Add your information to the open referral")
    expect(addition.get_by_label("Information to add")).to_have_value(
        re.compile("stopped going out"))
    assert reference not in page.content()
    assert_no_sideways_scroll(page)
    assert_accessible(axe, page, "the duplicate referral with the addition form")
    shoot(page, "referral-add-information-375.png")
    addition.get_by_role("button", name="Send information").click()
    expect(page.locator("main")).to_contain_text(
        "Your information was sent to the connector team working with this person.")

    # The hub sees it on the referral's timeline, the workspace's History section.
    sign_in_as(page, sign_in, COORDINATOR)
    page.set_viewport_size(DESKTOP)
    page.goto(f"/caseload/referrals/{referral_id}/history")
    entry = page.locator(".kindly-timeline > li").filter(has_text="Information added by")
    expect(entry).to_contain_text("Her neighbour says she has stopped going out")


def test_a_self_referral_too_fast_is_told_so_then_gets_a_reference_number(page):
    page.context.clear_cookies()
    page.goto("/directory/ask-a-connector")
    shown_at = page.evaluate("Date.now()")
    page.get_by_label("First name").fill("Rosa")
    page.get_by_label("Last name").fill("Example")
    born = page.get_by_role("group", name="Date of birth")
    born.get_by_label("Day").fill("12")
    born.get_by_label("Month").fill("5")
    born.get_by_label("Year").fill("1951")
    page.get_by_label("Postcode").fill("kb1 1ab")
    page.get_by_label("Your GP practice").select_option(index=1)
    page.get_by_label("Phone number").fill("07700 900456")
    page.get_by_label("What would help you?").fill("Someone to walk with")
    page.get_by_label("I agree that Kindly's connectors may contact me").check()
    page.get_by_role("button", name="Send").click()

    if page.evaluate("Date.now()") - shown_at < MIN_FILL_SECONDS * 1000:
        expect(page.locator(".nhsuk-error-summary")).to_contain_text("sent very quickly")
        expect(page.get_by_label("What would help you?")).to_have_value("Someone to walk with")
        page.wait_for_timeout(MIN_FILL_SECONDS * 1000 - (page.evaluate("Date.now()") - shown_at))
        page.get_by_role("button", name="Send").click()

    expect(page).to_have_url(re.compile(r"/directory/ask-a-connector/sent(#[\w-]*)?$"))
    expect(page.locator(".nhsuk-panel")).to_contain_text(re.compile(r"KND-\d{4}-\d{6}"))
    page.reload()  # shown once: the number is not kept for anyone else to see
    expect(page.locator("main")).not_to_contain_text("KND-")
