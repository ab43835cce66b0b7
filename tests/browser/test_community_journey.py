"""The community journey (issue 15, points 3 and 4): a coordinator logs a call that becomes
a volunteer request; the community champion suggests a new group in her patch; the
coordinator approves it and it is in the public directory. axe-core passes on every page
and none scrolls sideways at 375 px."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

COORDINATOR = "coordinator@kindly.example"
CHAMPION = "champion@kindly.example"
GROUP = "Lantern Lane Board Games"


def test_a_call_a_champions_suggestion_and_its_approval(page, sign_in, check):
    sign_in(COORDINATOR)
    page.goto("/hub/calls")
    check()
    page.get_by_role("button", name="Log a call").click()
    expect(page.get_by_role("heading", name="Log a call", level=1)).to_be_visible()
    check()
    page.get_by_label("Caller's name").fill("Winifred Cole")
    page.get_by_label("Caller's phone number (optional)").fill("07700 900999")
    page.get_by_label("What do they need?").fill("A weekly phone call; she lives alone")
    page.get_by_label("Became a volunteer request").check()
    page.get_by_label("Befriending phone calls").check()
    page.get_by_label("Their postcode").fill("KB1 2AA")
    page.get_by_label("Wednesday").check()
    page.get_by_role("button", name="Save call").click()
    expect(page.get_by_text("Call logged: became a volunteer request.")).to_be_visible()
    expect(page.get_by_text("befriending phone calls near KB1 2AA")).to_be_visible()
    check()

    page.context.clear_cookies()
    sign_in(CHAMPION)
    page.goto("/champion")
    expect(page.get_by_role("heading", name="Your patch: KB1")).to_be_visible()
    check()
    page.get_by_role("button", name="Suggest a group or a correction").click()
    expect(page.get_by_role("heading", name="Suggest a group or a correction")).to_be_visible()
    check()
    page.get_by_label("A new group").check()
    page.get_by_label("Group's name").fill(GROUP)
    page.get_by_label("Postcode where it meets").fill("KB1 1AD")
    page.get_by_label("Yes, it is free").check()
    page.get_by_label("Description (what the group does").fill("Friendly table tennis")
    page.get_by_role("button", name="Send suggestion").click()
    expect(page.get_by_text("A coordinator will check your suggestion")).to_be_visible()
    check()

    page.goto(f"/directory?q={GROUP}")
    expect(page.get_by_role("link", name=GROUP)).to_have_count(0)  # not public yet

    page.context.clear_cookies()
    sign_in(COORDINATOR)
    page.goto("/hub/suggestions")
    check()
    page.get_by_role("link", name=f"A new group: {GROUP}").click()
    expect(page.get_by_role("heading", name="A new group", level=1)).to_be_visible()
    check()
    page.get_by_label("Approve: publish it in the directory").check()
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_text(f"Approved: {GROUP} is in the directory.")).to_be_visible()

    page.context.clear_cookies()
    page.goto(f"/directory?q={GROUP}")
    expect(page.get_by_role("link", name=GROUP)).to_be_visible()
