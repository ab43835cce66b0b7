"""Issue 15: a partner organisation closes the loop, in the browser. Bev Collins of the
Kindlebury Befriending Service signs in to the handovers Jo Bennett made, takes one on,
marks the person attended, and confirms a listing; Jo's workspace shows the answer.
axe-core runs on every page reached, errors included."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from referrals.extensions import db
from referrals.models import Connection
from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_caseload_journey import JO

pytestmark = pytest.mark.browser

BEV = "partner@kindly.example"


def test_a_partner_takes_on_a_handover_marks_attended_and_the_connector_sees_it(
        page, sign_in, axe, live_server):
    sign_in(BEV)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/partner$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Handovers")
    assert_accessible(axe, page, "the partner's handovers")

    # A handover the person agreed to share, still waiting for an answer.
    page.get_by_label("Show").select_option("open")
    page.get_by_role("button", name="Show").click()
    row = page.locator("tbody tr").filter(has_text="Suggested").filter(
        has_not_text="Details not shared").first
    row.get_by_role("link").click()
    connection_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_text("How to contact them")).to_be_visible()
    assert_accessible(axe, page, "a handover")

    page.get_by_role("button", name="Send answer").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Select what happened")
    assert_accessible(axe, page, "a handover, with an error")

    page.get_by_label("Taken on: we have room and will see them").check()
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_text("Your answer is saved: taken on.")).to_be_visible()
    page.get_by_label("Attended: they came").check()
    page.get_by_label("Note for the connector (optional)").fill("Came on Tuesday, loved it")
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_text("Your answer is saved: attended.")).to_be_visible()
    assert_accessible(axe, page, "an answered handover")

    # Listings: confirm the details are right.
    page.get_by_role("link", name="Your listings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your listings")
    assert_accessible(axe, page, "the partner's listings")
    listing = page.locator("tbody tr td:first-child a").first
    name = listing.inner_text()
    listing.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    assert_accessible(axe, page, "a listing")
    page.get_by_role("button", name="Confirm these details are right").click()
    expect(page.get_by_text("is confirmed as right today")).to_be_visible()

    # Jo, the connector, sees the answer on the person's offers at once.
    with live_server.app.app_context():
        connection = db.session.get(Connection, connection_id)
        referral_id, offer = connection.referral_id, connection.offer.name
        db.session.remove()
    page.context.clear_cookies()
    sign_in(JO)
    page.goto(f"/caseload/referrals/{referral_id}/connections/{connection_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(offer)
    history = page.locator("table").filter(has_text="Status changes")
    expect(history).to_contain_text("Taken on")
    expect(history).to_contain_text("Attended")
    expect(history).to_contain_text("Bev Collins")
    expect(page.get_by_text("Came on Tuesday, loved it")).to_be_visible()
    assert_accessible(axe, page, "the connector's view of the answered handover")
