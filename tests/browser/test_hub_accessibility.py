"""axe-core finds no violations on the coordinator's hub pages, errors included."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

COORDINATOR = "coordinator@kindly.example"


def test_the_coordinator_lands_on_an_accessible_team_workload(page, sign_in, axe):
    sign_in(COORDINATOR)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Team workload")
    expect(page.get_by_text("Waiting for capacity").first).to_be_visible()
    assert_accessible(axe, page, "the hub")


def test_assigning_without_a_reason_shows_an_accessible_error(page, sign_in, axe):
    sign_in(COORDINATOR)
    page.goto("/hub")
    page.get_by_role("link", name="Assign").first.click()
    page.get_by_label("Sam Patel", exact=False).check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Give a reason for the change")
    assert_accessible(axe, page, "the assign page with an error")


def test_away_dates_in_the_wrong_order_show_an_accessible_error(page, sign_in, axe):
    sign_in(COORDINATOR)
    page.goto("/hub")
    page.get_by_role("link", name="Sam Patel").click()
    page.get_by_label("First day away").fill("24/12/2026")
    page.get_by_label("Last day away").fill("23/12/2026")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("The last day away")
    assert_accessible(axe, page, "the availability page with an error")


def test_team_rules_with_an_error_are_accessible(page, sign_in, axe):
    sign_in(COORDINATOR)
    page.goto("/hub")
    page.get_by_role("link", name="Change the team rules").click()
    field = page.get_by_label("Failed attempts before", exact=False)
    field.fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("from 1 to 10")
    assert_accessible(axe, page, "the team rules page with an error")
    # Nothing was saved: the page shows what was typed, the team keeps its rule.
    page.goto("/hub")
    expect(page.get_by_text("after 3 failed attempts")).to_be_visible()


def test_details_to_check_are_accessible_errors_included(page, sign_in, axe, live_server):
    from sqlalchemy import select

    from referrals.extensions import db
    from referrals.models import PatientDiscrepancy, Practice, Referral, ReferralStatus

    # As if another demo practice had referred someone of this referral's practice
    # with a different phone number (the demo itself has no such case).
    with live_server.app.app_context():
        referral = db.session.scalars(select(Referral).where(
            Referral.status == ReferralStatus.COMPLETED).order_by(Referral.id)).first()
        other = db.session.scalars(select(Practice).where(
            Practice.id != referral.practice_id).order_by(Practice.id)).first()
        db.session.add(PatientDiscrepancy(
            patient_id=referral.patient_id, referral_id=referral.id,
            source_practice_id=other.id, stored_practice_id=referral.practice_id,
            sent={"phone": "07700 900999"}, stored={"phone": referral.patient.phone}))
        db.session.commit()
        db.session.remove()

    sign_in(COORDINATOR)
    page.goto("/hub")
    page.get_by_role("link", name="Details to check").click()
    # Wait for the new page, so axe does not read the one being left.
    expect(page.get_by_role("heading", name="Details to check", level=1)).to_be_visible()
    assert_accessible(axe, page, "the details to check")
    page.get_by_role("link", name="Check", exact=False).first.click()
    expect(page.get_by_text("07700 900999")).to_be_visible()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Choose whether")
    assert_accessible(axe, page, "resolving details with an error")
    page.get_by_label("Keep the details Kindly holds").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("There are no details to check")).to_be_visible()
