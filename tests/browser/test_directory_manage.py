"""A coordinator keeps the directory honest: marks an offer verified and says it is full,
from the list, by keyboard-reachable buttons; axe-core finds nothing on the pages."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from referrals.extensions import db
from referrals.models import DirectoryOrganisation, Offer
from tests.browser.test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

COORDINATOR = "coordinator@kindly.example"
NAME = "Knit and Natter (browser test)"


@pytest.fixture
def knitting(live_server):
    """An active, never-verified, open offer in the live server's directory."""
    with live_server.app.app_context():
        if db.session.get(Offer, "browser-knit") is None:
            organisation = DirectoryOrganisation(id="browser-wool", name="Kindlebury Wool Club")
            db.session.add(Offer(id="browser-knit", name=NAME, organisation=organisation,
                                 is_free=True))
            db.session.commit()
        db.session.remove()
    return NAME


def test_a_coordinator_verifies_an_offer_and_sets_it_full_from_the_list(page, sign_in, axe,
                                                                        knitting):
    sign_in(COORDINATOR)
    page.goto("/hub")
    page.get_by_role("link", name="Directory").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Offers")
    page.get_by_label("Name or organisation").fill("knit and natter")
    page.get_by_role("button", name="Filter").click()
    row = page.get_by_role("row").filter(has_text=knitting)
    expect(row).to_contain_text("Needs checking")
    expect(row).to_contain_text("Never")
    assert_accessible(axe, page, "the coordinator's directory list")

    row.get_by_role("button", name=f"Mark verified {knitting}").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        f"{knitting} marked as verified today.")
    row = page.get_by_role("row").filter(has_text=knitting)
    expect(row).not_to_contain_text("Needs checking")
    # The action went back to the same filtered list.
    expect(page.get_by_label("Name or organisation")).to_have_value("knit and natter")

    row.get_by_label(f"Capacity of {knitting}").select_option("full")
    row.get_by_role("button", name=f"Set capacity of {knitting}").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        f"{knitting}: capacity changed from open to new people to full.")
    expect(page.get_by_role("row").filter(has_text=knitting)).to_contain_text("Full")
    assert_accessible(axe, page, "the directory list after a quick action")


def test_the_offer_form_with_errors_is_accessible(page, sign_in, axe):
    sign_in(COORDINATOR)
    page.goto("/hub/directory/offers/new")
    page.get_by_label("Starts").first.fill("14:00")
    page.get_by_label("Finishes").first.fill("12:00")
    page.get_by_role("button", name="Save offer").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter the offer's name")
    expect(summary).to_contain_text("The time session 1 finishes must be after it starts")
    expect(page.get_by_label("Starts").first).to_have_value("14:00")
    assert_accessible(axe, page, "the offer form with errors")


@pytest.mark.parametrize("path", [
    "/hub/directory/needs-checking", "/hub/directory/offers/browser-knit",
    "/hub/directory/offers/browser-knit/edit", "/hub/directory/offers/browser-knit/retire",
    "/hub/directory/organisations", "/hub/directory/organisations/browser-wool",
    "/hub/directory/organisations/browser-wool/retire"])
def test_the_other_directory_pages_are_accessible(page, sign_in, axe, knitting, path):
    sign_in(COORDINATOR)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(axe, page, path)


def test_the_list_fits_a_phone(page, sign_in, axe, knitting):
    sign_in(COORDINATOR)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/hub/directory?q=knit")
    row = page.get_by_role("row").filter(has_text=knitting)
    expect(row.get_by_role("button", name=f"Mark verified {knitting}")).to_be_visible()
    wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not wide, "the list scrolls sideways on a phone"
    assert_accessible(axe, page, "the directory list on a phone")
