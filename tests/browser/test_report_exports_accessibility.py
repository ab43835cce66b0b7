"""axe-core finds no violations on the report export pages: the national counts (with and
without an error), the monthly reports list and the email choice (with an error)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

MANAGER = "manager@kindly.example"
COORDINATOR = "coordinator@kindly.example"


def test_national_counts_for_a_coordinator(page, sign_in, axe):
    sign_in(COORDINATOR)
    page.goto("/reports/national-counts")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "National social prescribing counts")
    expect(page.get_by_role("table")).to_be_visible()
    assert_accessible(axe, page, "the national counts page")


def test_national_counts_with_an_error(page, sign_in, axe):
    sign_in(MANAGER)
    page.goto("/reports/national-counts")
    page.get_by_label("From").fill("2026-02-30")
    page.get_by_role("button", name="Show the counts").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert_accessible(axe, page, "the national counts page with an error")


def test_monthly_reports_and_the_email_choice(page, sign_in, axe):
    sign_in(MANAGER)
    page.goto("/reports/monthly")
    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly reports")
    assert_accessible(axe, page, "the monthly reports page")
    page.get_by_role("link", name="Change your email choice").click()
    page.get_by_label("Yes, email me a link each month").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("You get an email with a link")).to_be_visible()
    page.goto("/reports/monthly/email")
    assert_accessible(axe, page, "the monthly report email choice")
