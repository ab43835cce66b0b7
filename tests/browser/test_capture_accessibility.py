"""The ethnic group question (referral form, self-referral, workspace) and the "no suitable
offer found" form are accessible, errors included, and usable by keyboard. Nothing is
saved: other browser tests share the demo town."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from referrals.extensions import db
from referrals.models import Referral, ReferralStatus
from tests.browser.test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

GP = "gp@kindly.example"
COORDINATOR = "coordinator@kindly.example"


def _in_progress_referral_id(live_server) -> int:
    with live_server.app.app_context():
        referral_id = db.session.scalars(
            select(Referral.id).where(Referral.status == ReferralStatus.IN_PROGRESS)
            .order_by(Referral.id)).first()
        db.session.remove()
    return referral_id


def test_the_referral_forms_ethnic_group_question(page, sign_in, axe):
    sign_in(GP)
    page.goto("/referrals/new")
    group = page.get_by_role("group", name="Ethnic group (optional)")
    expect(group.get_by_role("group", name="Asian or Asian British")).to_be_visible()
    group.get_by_label("Prefer not to say").check()
    # The radios are one group: choosing another answer by keyboard moves the choice.
    group.get_by_label("Irish").focus()
    page.keyboard.press("Space")
    expect(group.get_by_label("Irish")).to_be_checked()
    expect(group.get_by_label("Prefer not to say")).not_to_be_checked()
    assert_accessible(axe, page, "the referral form's ethnic group question")


def test_the_self_referral_forms_ethnic_group_question(page, axe):
    page.goto("/directory/ask-a-connector")
    group = page.get_by_role("group", name="What is your ethnic group? (optional)")
    expect(group.get_by_label("Prefer not to say")).to_be_visible()
    assert_accessible(axe, page, "the self-referral form")


def test_the_workspace_ethnic_group_form_and_its_error(page, sign_in, axe, live_server):
    referral_id = _in_progress_referral_id(live_server)
    sign_in(COORDINATOR)
    page.goto(f"/caseload/referrals/{referral_id}/ethnic-category")
    expect(page.get_by_role("button", name="Save ethnic group")).to_be_visible()
    assert_accessible(axe, page, "the workspace with the ethnic group form")
    # An unknown code (only a tampered form can send one) is an error next to the field.
    page.locator("#ethnic_category").evaluate("radio => { radio.value = 'Q'; radio.checked = true }")
    page.get_by_role("button", name="Save ethnic group").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Unknown ethnic category")
    expect(page.locator("#ethnic_category-error")).to_be_visible()
    assert_accessible(axe, page, "the workspace with an ethnic group error")


def test_the_no_suitable_offer_form_and_its_error(page, sign_in, axe, live_server):
    referral_id = _in_progress_referral_id(live_server)
    sign_in(COORDINATOR)
    page.goto(f"/caseload/referrals/{referral_id}/suggestions")
    expect(page.get_by_role("heading", name="No suitable offer found")).to_be_visible()
    page.get_by_label("Kind of offer they needed").select_option("befriending")
    page.get_by_role("button", name="Record no suitable offer found").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Select why no offer suited them")
    expect(page.get_by_label("Kind of offer they needed")).to_have_value("befriending")
    assert_accessible(axe, page, "the suggestions page with a 'no suitable offer' error")
    # The summary's link takes the keyboard to the first reason.
    page.locator(".nhsuk-error-summary a").first.click()
    expect(page.locator("#unmet_reason")).to_be_focused()
