"""A practice manager invites a new GP in the browser; the administrator reads the
invitation in the development outbox; the GP chooses a password from its link, signs in
and reaches the referral form; the link does not work twice. Then the GP forgets the
password and resets it. Every new page passes axe-core and reflows at 375 px.

With DOCS_SCREENSHOTS=1 it saves each page at 1280 and 375 px in docs/screenshots/.
"""
from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referrals.extensions import db
from referrals.models import OutboxMessage
from tests.browser.conftest import PROJECT_ROOT, sideways_at_375

pytestmark = pytest.mark.browser

MANAGER = "manager@kindly.example"
ADMIN = "admin@kindly.example"
NEW_GP = "nia.newgp@kindly.example"
FIRST, SECOND = "lantern river stone", "copper meadow kettle"


@pytest.fixture
def shots():
    """Where screenshots go: docs/screenshots/ when DOCS_SCREENSHOTS is set, else none
    (sixteen full-size PNGs cost more than the rest of the journey)."""
    if not os.environ.get("DOCS_SCREENSHOTS"):
        return None
    folder = PROJECT_ROOT / "docs" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def check(page, axe, shots):
    """axe-core finds nothing; at 375 px nothing scrolls sideways; a screenshot at each width."""

    def run(name: str) -> None:
        violations = axe()
        assert not violations, f"axe-core on {page.url}: " + "; ".join(
            f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in violations)
        if shots:
            page.screenshot(path=str(shots / f"accounts-{name}-1280.png"))
        try:
            wide = sideways_at_375(page)
            assert wide <= 0, f"{page.url} scrolls sideways by {wide}px at 375 px"
            if shots:
                page.screenshot(path=str(shots / f"accounts-{name}-375.png"))
        finally:
            page.set_viewport_size({"width": 1280, "height": 900})

    return run


def outbox_link(live_server, to: str) -> str:
    with live_server.app.app_context():
        body = db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.to == to)
                                  .order_by(OutboxMessage.id.desc())).first()
        db.session.remove()
    return re.search(r"https?://\S+/set-password/\S+", body)[0]


def sign_in_by_form(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_manager_invites_a_gp_who_sets_a_password_and_refers(page, live_server, sign_in,
                                                                 check):
    # The manager invites a GP to their own practice.
    sign_in(MANAGER)
    page.goto("/referrals")
    page.get_by_role("link", name="Practice accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")
    check("list")
    page.get_by_role("button", name="Invite a user").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invite a user")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter the person's full name")
    check("invite-errors")
    page.get_by_label("Full name").fill("Dr Nia Newgp")
    page.get_by_label("Email address").fill(NEW_GP)
    page.get_by_label("Referrer").check()
    expect(page.get_by_label("Administrator")).to_have_count(0)  # not the manager's to give
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        f"Invitation sent to {NEW_GP}")
    expect(page.locator("main")).to_contain_text("Market Street Surgery")
    check("user")

    # The administrator reads it in the development outbox, link and all.
    page.context.clear_cookies()
    sign_in(ADMIN)
    page.goto("/users")
    page.get_by_role("link", name="Outbox").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outbox")
    check("outbox")
    page.get_by_role("link", name=re.compile(f"to {re.escape(NEW_GP)}")).first.click()
    href = page.locator('main a[href*="/set-password/"]').get_attribute("href")
    assert href == outbox_link(live_server, NEW_GP)
    check("outbox-message")

    # The GP chooses a password from the link, signs in and reaches the referral form.
    page.context.clear_cookies()
    page.goto(href)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your password")
    check("set-password")
    page.get_by_label("New password", exact=True).fill(FIRST)
    page.get_by_label("Type your new password again").fill(FIRST)
    page.get_by_role("button", name="Save password").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("Your password is set")
    sign_in_by_form(page, NEW_GP, FIRST)
    page.get_by_role("link", name="Make a referral").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Refer someone")
    assert page.url.endswith("/referrals/new")

    # The link works once.
    page.context.clear_cookies()
    page.goto(href)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")

    # Forgotten: a reset link from the sign-in page, then the new password works.
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    check("forgot-password")
    page.get_by_label("Email address").fill(NEW_GP)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    check("reset-sent")
    reset = outbox_link(live_server, NEW_GP)
    assert reset != href
    page.goto(reset)
    page.get_by_label("New password", exact=True).fill(SECOND)
    page.get_by_label("Type your new password again").fill(SECOND)
    page.get_by_role("button", name="Save password").click()
    sign_in_by_form(page, NEW_GP, FIRST)
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()  # the old one is gone
    sign_in_by_form(page, NEW_GP, SECOND)
    expect(page.get_by_role("link", name="Make a referral").first).to_be_visible()
