"""A member of staff changes their password from the header link; an administrator
deactivates and reactivates an account. axe-core finds no violations on the way.

The accounts are made for these tests: the demo accounts' sessions are reused by other
browser tests, and changing a password or deactivating ends every session of the user.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from referrals.auth.service import create_user
from referrals.extensions import db
from referrals.models import Role

pytestmark = pytest.mark.browser

PASSWORD = "an old passphrase here"
ADMIN = "admin@kindly.example"


def assert_accessible(axe, page, what: str) -> None:
    violations = axe()
    assert not violations, f"axe-core found violations on {what} ({page.url}): " + "; ".join(
        f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']]}" for v in violations)


def new_account(live_server, email: str, name: str) -> str:
    with live_server.app.app_context():
        create_user(email=email, name=name, role=Role.ADMIN, password=PASSWORD)
        db.session.commit()
        db.session.remove()
    return email


def test_changing_your_password_from_the_header(page, live_server, sign_in, axe,
                                                screenshot_dir):
    sign_in(new_account(live_server, "pat.changer@kindly.example", "Pat Changer"), PASSWORD)
    page.goto("/admin/users")
    page.locator("header").get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your password")
    assert_accessible(axe, page, "the change password page")

    page.get_by_label("Current password").fill("not the password")
    page.get_by_label("New password", exact=True).fill(" " * 10)
    page.get_by_label("Type your new password again").fill(" " * 10)
    page.get_by_role("button", name="Change password").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Password must be 10 characters or more")
    expect(page.get_by_label("Current password")).to_have_value("")  # never sent back
    assert_accessible(axe, page, "the change password page with errors")
    page.screenshot(path=str(screenshot_dir / "change-password-errors.png"), full_page=True)

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a much better passphrase")
    page.get_by_label("Type your new password again").fill("a much better passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "Your password has been changed")
    assert_accessible(axe, page, "the page after a password change")


def test_an_administrator_deactivates_and_reactivates_an_account(page, live_server, sign_in,
                                                                 axe):
    new_account(live_server, "sam.leaver@kindly.example", "Sam Leaver")
    sign_in(ADMIN)
    page.goto("/admin/users")

    row = page.get_by_role("row").filter(has_text="sam.leaver@kindly.example")
    row.get_by_role("button", name=re.compile("^Deactivate")).click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("Deactivated Sam Leaver")
    assert_accessible(axe, page, "the users page after a deactivation")

    row = page.get_by_role("row").filter(has_text="sam.leaver@kindly.example")
    row.get_by_role("button", name="Reactivate Sam Leaver").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("Reactivated Sam Leaver")
