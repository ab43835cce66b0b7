"""The period report pages pass axe-core and run under the Content-Security-Policy with
nothing refused (the `page` fixture fails on any violation): the inline pygal charts
carry no script and no style."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

MANAGER = "manager@kindly.example"
COORDINATOR = "coordinator@kindly.example"


def test_a_manager_reaches_the_report_from_the_navigation(page, sign_in, axe):
    sign_in(MANAGER)
    page.goto("/referrals")
    page.get_by_role("navigation", name=re.compile("menu|navigation", re.IGNORECASE)).get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    assert_accessible(axe, page, "the reports landing page")

    page.get_by_role("button", name="Show the report").click()
    expect(page.get_by_role("heading", name="Inequalities")).to_be_visible()
    assert page.locator("svg.kindly-chart").count() >= 3
    assert page.locator("script:not([src])").count() == 0
    assert_accessible(axe, page, "a practice report")


def test_the_report_with_a_bad_period(page, sign_in, axe):
    sign_in(MANAGER)
    page.goto("/reports/practice?from=2026-02-30&to=yesterday")
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    expect(page.locator("#report-from-error")).to_contain_text("real date")
    assert_accessible(axe, page, "a report with period errors")


def test_the_hub_report_and_unmet_needs(page, sign_in, axe):
    sign_in(COORDINATOR)
    page.goto("/reports?scope=hub")
    expect(page.get_by_role("heading", name="Unmet needs")).to_be_visible()
    assert_accessible(axe, page, "the hub report")
    page.goto("/reports/unmet-needs")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Unmet needs")
    assert_accessible(axe, page, "the unmet needs page")
