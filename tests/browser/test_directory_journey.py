"""A member of the public, not signed in, finds a Tuesday walking group within 3 km of
their postcode in the demo town, reads its page, and could ask a connector for help;
axe-core finds nothing on any of the public pages."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from referrals.directory.search import DirectoryQuery, search
from referrals.extensions import db
from tests.browser.test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

POSTCODE = "KB1 1AB"
WALKING = "Walking and physical activity"


@pytest.fixture
def tuesday_walks(live_server):
    """The demo's Tuesday walking groups, split at 3 km from KB1 1AB, read from its database."""
    with live_server.app.app_context():
        results = search(DirectoryQuery(categories=["physical-activity"], day="TU",
                                        postcode=POSTCODE, per_page=100))
        near = [h.offer.name for h in results.hits
                if h.distance_km is not None and h.distance_km <= 3]
        far = [h.offer.name for h in results.hits
               if h.distance_km is not None and h.distance_km > 3]
        db.session.remove()
    assert near and far, "the demo town needs Tuesday walks both within and beyond 3 km"
    return near, far


def result_names(page) -> list[str]:
    return page.locator(".kindly-result .nhsuk-card__link").all_inner_texts()


def test_a_member_of_the_public_finds_a_tuesday_walking_group_within_3_km(page, axe,
                                                                          tuesday_walks):
    near, far = tuesday_walks
    page.goto("/directory")
    expect(page.get_by_role("heading", level=1)).to_have_text("Find something near you")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert_accessible(axe, page, "the directory search")

    page.get_by_label("Your postcode").fill(POSTCODE)
    page.get_by_label("Distance").select_option(label="Within 3 km")
    page.get_by_label("Day of the week").select_option(label="Tuesday")
    page.get_by_label("Category").select_option(label=WALKING)
    page.get_by_role("button", name="Search").click()

    expect(page.get_by_role("heading", name=re.compile(f"results? near {POSTCODE}"))).to_be_visible()
    assert sorted(result_names(page)) == sorted(near)
    for name in far:
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    first = page.locator(".kindly-result").first
    expect(first).to_contain_text("Tuesdays")
    distance = float(re.search(r"([\d.]+) km away", first.inner_text()).group(1))
    assert distance <= 3
    # The search is kept on the results page, so it can be changed.
    expect(page.get_by_label("Your postcode")).to_have_value(POSTCODE)
    expect(page.get_by_label("Day of the week")).to_have_value("TU")
    assert_accessible(axe, page, "the search results")

    page.get_by_role("link", name=near[0]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(near[0])
    expect(page.locator(".nhsuk-summary-list")).to_contain_text("Tuesdays")
    expect(page.get_by_role("link", name="Ask a connector to help you get there")).to_be_visible()
    assert_accessible(axe, page, "an offer's page")

    page.get_by_role("link", name="Ask a connector to help you get there").click()
    expect(page.get_by_label("What would help you?")).to_contain_text(near[0])


def test_the_search_works_from_the_keyboard_on_a_phone(page, axe, tuesday_walks):
    near, _ = tuesday_walks
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/directory")

    page.get_by_label("Your postcode").fill(POSTCODE)
    page.get_by_label("Distance").select_option("3")
    page.get_by_label("Day of the week").select_option("TU")
    page.get_by_label("Category").select_option(label=WALKING)
    page.get_by_label("Your postcode").press("Enter")

    expect(page.get_by_role("heading", name=re.compile(f"results? near {POSTCODE}"))).to_be_visible()
    assert sorted(result_names(page)) == sorted(near)
    assert_accessible(axe, page, "the search results on a phone")


def test_an_unknown_postcode_is_explained_accessibly(page, axe):
    page.goto("/directory?postcode=KB7+7ZZ&distance=3")

    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    expect(page.locator("#postcode-error")).to_contain_text("We could not find that postcode")
    page.locator(".nhsuk-error-summary a").first.click()
    expect(page.get_by_label("Your postcode")).to_be_focused()
    assert_accessible(axe, page, "the search with an unknown postcode")


def test_the_volunteer_section_is_accessible(page, axe):
    page.goto("/directory")
    page.get_by_role("navigation", name=re.compile("menu|navigation", re.IGNORECASE)).get_by_role(
        "link", name="Volunteer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Is there anything you can do to help?")
    expect(page.locator(".kindly-result").first).to_be_visible()
    assert_accessible(axe, page, "the volunteering search")


def test_the_self_referral_form_and_its_errors_are_accessible(page, axe):
    page.goto("/directory/ask-a-connector")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask a connector to contact you")
    assert_accessible(axe, page, "the self-referral form")

    page.get_by_label("Last name").fill("Jones")
    page.get_by_role("button", name="Send").click()

    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    expect(page).to_have_title(re.compile("^Error: "))
    expect(page.get_by_label("Last name")).to_have_value("Jones")
    page.get_by_role("link", name="Enter your first name").click()
    expect(page.get_by_label("First name")).to_be_focused()
    assert_accessible(axe, page, "the self-referral form with errors")


def test_the_honeypot_is_never_reached_by_the_tab_key(page):
    page.goto("/directory/ask-a-connector")
    page.get_by_label("First name").focus()

    reached = []
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.name || document.activeElement.id"))

    assert "website" not in reached
    assert "consent" in reached
