"""axe-core finds no violations on the pages of the first journey.

axe runs with its default rule set (WCAG 2.0/2.1 A and AA plus best practices); no rule
is switched off. A failure lists each violation with its rule id, what it asks for, and
the elements (CSS selectors) that break it.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

GP = "gp@kindly.example"
ADMIN = "admin@kindly.example"


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v.get('impact')}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"]:
            lines.append(f"    {' '.join(map(str, node['target']))}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


def assert_accessible(axe, page, what: str) -> None:
    violations = axe()
    assert not violations, (
        f"axe-core found {len(violations)} violation(s) on {what} ({page.url}):\n"
        + describe(violations)
    )


def test_sign_in_page(page, axe):
    page.goto("/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Kindly")
    assert_accessible(axe, page, "the sign-in page")


def test_sign_in_page_with_an_error(page, axe):
    page.goto("/login")
    page.get_by_label("Email address").fill("nobody@kindly.example")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert_accessible(axe, page, "the sign-in page with an error")


def test_referral_form(page, sign_in, axe):
    sign_in(GP)
    page.goto("/referrals/new")
    expect(page.get_by_role("button", name="Send referral")).to_be_visible()
    assert_accessible(axe, page, "the empty referral form")


def test_referral_form_with_errors(page, sign_in, axe):
    sign_in(GP)
    page.goto("/referrals/new")
    # Reveal the conditional "Language" and "Other reason" fields too, left empty.
    page.get_by_label("Interpreter for a spoken language").check()
    page.get_by_role("group", name="Reasons for referral").get_by_label("Other", exact=True).check()
    page.get_by_label("NHS number").fill("999 123 4569")
    page.get_by_role("button", name="Send referral").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    expect(page.locator(".nhsuk-error-message").first).to_be_visible()
    assert_accessible(axe, page, "the referral form with errors")


def test_referral_list(page, sign_in, axe):
    sign_in(GP)
    page.goto("/referrals")
    expect(page.get_by_role("table")).to_be_visible()
    assert_accessible(axe, page, "the referral list")


def test_referral_list_filter_with_an_error(page, sign_in, axe):
    sign_in(GP)
    page.goto("/referrals?nhs_number=12345")
    expect(page.locator(".nhsuk-error-message")).to_be_visible()
    assert_accessible(axe, page, "the referral list with a filter error")


def test_referral_detail(page, sign_in, axe):
    sign_in(GP)
    page.goto("/referrals")
    page.get_by_role("table").get_by_role("link", name=re.compile(r"^KND-")).first.click()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    assert_accessible(axe, page, "a referral's page")


def test_referral_detail_with_a_cancel_error(page, sign_in, axe):
    """A received referral (so the practice can cancel it), cancelled without a reason."""
    sign_in(GP)
    page.goto("/referrals?status=received")
    page.get_by_role("table").get_by_role("link", name=re.compile(r"^KND-")).first.click()
    page.get_by_role("button", name="Cancel referral").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert_accessible(axe, page, "a referral's page with a cancel error")


def test_admin_users_page(page, sign_in, axe):
    sign_in(ADMIN)
    page.goto("/admin/users")
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    assert_accessible(axe, page, "the admin users page")
