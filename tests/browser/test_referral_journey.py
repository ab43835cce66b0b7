"""The issue's "done means", as a GP would do it: sign in, refer, fix a wrong NHS number,
find the referral in the list, with its timeline. Fields are found by their visible labels.
"""
from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from referrals.extensions import db
from referrals.models import Patient
from referrals.nhs_number import check_digit, format_nhs_number

pytestmark = pytest.mark.browser

GP = "gp@kindly.example"
CHECK_DIGIT_ERROR = (
    "This is not a valid NHS number: its check digit does not match. "
    "Check each digit and enter it again"
)
_candidates = itertools.count(999_900_000)


def unused_nhs_number(live_server) -> str:
    """A valid number from the 999 test range that nobody in the demo has."""
    with live_server.app.app_context():
        taken = set(db.session.scalars(select(Patient.nhs_number)))
        db.session.remove()
    for first_nine in map(str, _candidates):
        digit = check_digit(first_nine)
        if digit is not None and first_nine + str(digit) not in taken:
            return first_nine + str(digit)
    raise AssertionError("unreachable")


def wrong_check_digit(number: str) -> str:
    return number[:9] + str((int(number[9]) + 1) % 10)


def fill_person_and_referral(page: Page, *, nhs_number: str, given: str, family: str) -> None:
    page.get_by_label("NHS number").fill(nhs_number)
    page.get_by_label("Given name").fill(given)
    page.get_by_label("Family name").fill(family)
    dob = page.get_by_role("group", name="Date of birth")
    dob.get_by_label("Day").fill("31")
    dob.get_by_label("Month").fill("3")
    dob.get_by_label("Year").fill("1950")
    page.get_by_role("group", name="Sex").get_by_label("Female").check()
    page.get_by_label("Postcode").fill("kb1 1ab")
    page.get_by_role("group", name="Reasons for referral").get_by_label("Loneliness").check()
    page.get_by_label("What matters to the person").fill("Finding a choir to sing with again.")
    page.get_by_label("No known risks", exact=True).check()
    page.get_by_label(
        "The person has agreed to this referral and to their details being shared"
    ).check()


def navigation(page: Page):
    return page.locator("header nav")


def test_gp_refers_fixes_a_wrong_nhs_number_and_finds_the_referral(
    page, live_server, screenshot_dir
):
    # Anyone who is not signed in is sent to sign in.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Email address").fill(GP)
    page.get_by_label("Password").fill("kindly-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Referrals")).to_be_visible()
    expect(page.locator("header")).to_contain_text("Dr Priya Shah")
    # The NHS.UK stylesheet has loaded: the header is NHS blue (#005eb8).
    expect(page.locator("header.nhsuk-header")).to_have_css("background-color", "rgb(0, 94, 184)")

    navigation(page).get_by_role("link", name="Make a referral").click()
    expect(page).to_have_url(re.compile(r"/referrals/new$"))

    # First try: a 999-range number whose check digit is wrong; everything else right.
    number = unused_nhs_number(live_server)
    fill_person_and_referral(page, nhs_number=wrong_check_digit(number),
                             given="Winifred", family="Example")
    page.get_by_role("button", name="Send referral").click()

    # The precise error, next to the field and linked to it ...
    nhs_field = page.get_by_label("NHS number")
    field_error = page.locator("#nhs_number-error")
    expect(field_error).to_contain_text(CHECK_DIGIT_ERROR)
    expect(page.locator(".nhsuk-form-group--error").filter(has=nhs_field)).to_contain_text(
        CHECK_DIGIT_ERROR
    )
    expect(nhs_field).to_have_accessible_description(re.compile(re.escape(CHECK_DIGIT_ERROR)))
    # ... and in the error summary, as the only problem, linking to the field.
    summary = page.locator(".nhsuk-error-summary")
    # The NHS.UK script has run: it moves focus to the summary so it is read out first.
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_count(1)
    expect(summary.get_by_role("link", name=CHECK_DIGIT_ERROR)).to_have_attribute(
        "href", "#nhs_number"
    )
    expect(page).to_have_title(re.compile(r"^Error: "))

    # Nothing typed was lost.
    expect(nhs_field).to_have_value(wrong_check_digit(number))
    expect(page.get_by_label("Given name")).to_have_value("Winifred")
    expect(page.get_by_label("Family name")).to_have_value("Example")
    dob = page.get_by_role("group", name="Date of birth")
    for box, value in (("Day", "31"), ("Month", "3"), ("Year", "1950")):
        expect(dob.get_by_label(box)).to_have_value(value)
    expect(page.get_by_role("group", name="Sex").get_by_label("Female")).to_be_checked()
    expect(page.get_by_label("Postcode")).to_have_value("kb1 1ab")
    expect(page.get_by_role("group", name="Reasons for referral").get_by_label("Loneliness")
           ).to_be_checked()
    expect(page.get_by_label("What matters to the person")).to_have_value(
        "Finding a choir to sing with again."
    )
    expect(page.get_by_label("No known risks", exact=True)).to_be_checked()
    expect(page.get_by_label(
        "The person has agreed to this referral and to their details being shared"
    )).to_be_checked()
    page.screenshot(path=str(screenshot_dir / "referral-form-errors.png"), full_page=True)

    # Keyboard and screen-reader users: the summary link moves focus to the field.
    summary.get_by_role("link", name=CHECK_DIGIT_ERROR).click()
    assert page.evaluate("document.activeElement.id") == "nhs_number"

    # Correct it, as people type it, and send.
    nhs_field.fill(format_nhs_number(number))
    page.get_by_role("button", name="Send referral").click()

    # The confirmation (issue 14), then the referral page: received, with its timeline.
    expect(page).to_have_url(re.compile(r"/referrals/\d+/sent$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral sent")
    reference = re.search(r"KND-\d{4}-\d{6}", page.locator(".nhsuk-panel").inner_text()).group(0)
    page.get_by_role("link", name=f"View referral {reference}").click()
    expect(page).to_have_url(re.compile(r"/referrals/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Winifred Example")
    caption = page.locator(".nhsuk-caption-l")
    expect(caption).to_have_text(f"Referral {reference}")
    expect(page.locator("main").get_by_text("Received", exact=True).first).to_be_visible()
    assert_timeline_shows_received(page)
    page.screenshot(path=str(screenshot_dir / "referral-detail.png"), full_page=True)

    # The practice's list has it, with the person, the number and the status.
    navigation(page).get_by_role("link", name="Referrals").click()
    expect(page.get_by_role("heading", level=1, name="Referrals")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=reference))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Winifred Example")
    expect(row).to_contain_text(format_nhs_number(number))
    expect(row).to_contain_text("Received")
    expect(row).to_contain_text("Not yet assigned")

    row.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Winifred Example")
    expect(page.locator("main")).to_contain_text(format_nhs_number(number))
    assert_timeline_shows_received(page)


def assert_timeline_shows_received(page: Page) -> None:
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    events = page.locator(".kindly-timeline > li")
    expect(events).to_have_count(1)
    expect(events.first).to_contain_text("Received")
    expect(events.first).to_contain_text("by Dr Priya Shah")


def test_every_error_summary_link_moves_focus_to_its_field(page, sign_in):
    sign_in(GP)
    page.goto("/referrals/new")
    page.get_by_role("button", name="Send referral").click()

    links = page.locator(".nhsuk-error-summary").get_by_role("link")
    expect(links.first).to_be_visible()
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    # An empty form breaks every required rule.
    for field in ("nhs_number", "given_name", "family_name", "birth_date-day", "sex", "postcode",
                  "reasons", "risks", "consent"):
        assert f"#{field}" in hrefs, f"no error summary link to #{field}: {hrefs}"
    for i, href in enumerate(hrefs):
        links.nth(i).click()
        focused = page.evaluate("document.activeElement.id")
        assert f"#{focused}" == href, f"the link to {href} focused #{focused or '(nothing)'}"


def test_the_form_is_sent_by_pressing_enter_in_a_text_field(page, sign_in, live_server):
    sign_in(GP)
    page.goto("/referrals/new")
    number = unused_nhs_number(live_server)
    fill_person_and_referral(page, nhs_number=number, given="Enid", family="Keyboard")
    page.get_by_label("Family name").press("Enter")

    expect(page).to_have_url(re.compile(r"/referrals/\d+/sent$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral sent")
