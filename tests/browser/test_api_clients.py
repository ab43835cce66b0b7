"""An administrator adds a GP system's API client, copies its token, then revokes it;
axe-core finds no violations on any of the pages on the way."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ADMIN = "admin@kindly.example"


def assert_accessible(axe, page, what: str) -> None:
    violations = axe()
    assert not violations, f"axe-core found violations on {what} ({page.url}): " + "; ".join(
        f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']]}" for v in violations)


def test_an_administrator_creates_and_revokes_an_api_client(page, sign_in, axe, screenshot_dir):
    sign_in(ADMIN)
    page.goto("/admin/users")
    page.get_by_role("link", name="API clients").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API clients")
    assert_accessible(axe, page, "the API clients page")

    page.get_by_label("Name").fill("Market Street EMIS")
    page.get_by_role("button", name="Create API client").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Select at least one practice")
    assert_accessible(axe, page, "the API clients page with an error")
    screenshot = screenshot_dir / "admin-api-clients-error.png"
    page.screenshot(path=str(screenshot), full_page=True)

    page.get_by_role("group", name="Practices").get_by_label(re.compile("Market Street")).check()
    page.get_by_role("button", name="Create API client").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API client created")
    token = page.get_by_label("Bearer token").input_value()
    assert token.startswith("kindly_")
    assert_accessible(axe, page, "the new API client's token page")
    page.screenshot(path=str(screenshot_dir / "admin-api-client-created.png"), full_page=True)

    page.get_by_role("link", name="Back to API clients").click()
    row = page.get_by_role("row", name=re.compile("Market Street EMIS"))
    expect(row).to_contain_text(f"…{token[-4:]}")
    expect(page.locator("body")).not_to_contain_text(token)
    page.screenshot(path=str(screenshot_dir / "admin-api-clients.png"), full_page=True)

    row.get_by_role("link", name="Revoke Market Street EMIS").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revoke Market Street EMIS?")
    assert_accessible(axe, page, "the revoke confirmation page")
    page.get_by_role("button", name="Revoke API client").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("Revoked Market Street EMIS")
    expect(page.get_by_role("row", name=re.compile("Market Street EMIS"))).to_contain_text("Revoked")
    assert_accessible(axe, page, "the API clients page after revoking")
