"""The privacy notice, accessibility statement and service status page: reached from the
footer of the public site and of staff pages, and free of axe-core violations."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from referrals import health
from tests.browser.test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

FOOTER = [("Privacy notice", "Privacy notice"),
          ("Accessibility statement", "Accessibility statement"),
          ("Service status", "Service status")]


def test_a_visitor_reaches_each_page_from_the_footer_and_each_is_accessible(page, axe):
    page.goto("/directory")
    for link, heading in FOOTER:
        page.get_by_role("contentinfo").get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(axe, page, f"the {heading.lower()}")
    expect(page.locator("#overall")).to_contain_text("Kindly is working normally")


def test_staff_reach_the_pages_from_their_own_footer(page, sign_in):
    sign_in("gp@kindly.example")
    page.goto("/referrals")
    page.get_by_role("contentinfo").get_by_role("link", name="Service status").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Service status")
    # Staff keep their own header on the public pages.
    expect(page.locator("header")).to_contain_text("Dr Priya Shah")


def test_the_status_page_when_something_is_not_working_is_accessible(
        page, axe, live_server, monkeypatch):
    monkeypatch.setitem(live_server.app.extensions, health.CHECKS,
                        [health.Check("pdf", "PDF output", lambda: "OSError: no Pango")])
    page.goto("/status")
    expect(page.locator("#overall")).to_contain_text("Some things are not working")
    expect(page.get_by_text("Not working", exact=True)).to_be_visible()
    assert_accessible(axe, page, "the status page with a check failing")
