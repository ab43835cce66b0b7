"""The 'Risks not stated' warning and the form to record them are accessible, errors
included. Nothing is saved: other browser tests share the demo town."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referrals.extensions import db
from referrals.models import Referral
from tests.browser.test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

COORDINATOR = "coordinator@kindly.example"


def test_the_warning_and_the_risks_form_are_accessible(page, sign_in, axe, live_server):
    with live_server.app.app_context():  # the demo's self-referral: nobody stated its risks
        referral_id = db.session.scalars(
            select(Referral.id).where(Referral.source == "self")).first()
        db.session.remove()
    sign_in(COORDINATOR)
    page.goto(f"/caseload/referrals/{referral_id}/sharing-and-risks")
    expect(page.get_by_role("heading", name="Risks not stated")).to_be_visible()
    assert_accessible(axe, page, "a workspace with risks not stated")

    page.get_by_label("Known risks", exact=True).fill("Steep steps")
    page.get_by_label("No known risks").check()
    page.get_by_role("button", name="Record risks").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("not both")
    expect(page.get_by_label("Known risks", exact=True)).to_have_value("Steep steps")
    assert_accessible(axe, page, "the risks form with an error")
