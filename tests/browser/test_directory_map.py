"""Issue 14, finding things: a member of the public finds a choir by typing "singing", and
by typing "choir" with a typo; the directory and an offer show a map of the listed places
(Leaflet, tiles from our own server, so no internet), usable from the keyboard, under the
site's Content-Security-Policy; the list stays beside it."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

# One grey tile for every square: the map works with no tile server on the internet.
OFFLINE_TILES = "/static/kindly-map-offline-tile.png?z={z}&x={x}&y={y}"
NEAR_HERE = "/directory?postcode=KB1+1AB&distance=3&category=physical-activity"


@pytest.fixture
def offline_map(live_server, monkeypatch):
    monkeypatch.setitem(live_server.app.config, "MAP_TILE_URL", OFFLINE_TILES)
    monkeypatch.setitem(live_server.app.config, "MAP_ATTRIBUTION", "Kindly test tiles")


def result_names(page) -> list[str]:
    return page.locator(".kindly-result .nhsuk-card__link").all_inner_texts()


def test_a_member_of_the_public_finds_a_choir_by_singing_and_by_a_typo(page):
    page.goto("/directory")
    page.get_by_label("Search for").fill("singing")
    page.get_by_role("button", name="Search").click()
    # The results page, not the one the button was on: its list is what is read.
    expect(page.locator(".kindly-result").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=singing"))
    assert "Kindlebury Community Choir" in result_names(page)

    page.get_by_label("Search for").fill("chior")
    page.get_by_label("Search for").press("Enter")
    expect(page.locator(".kindly-corrected")).to_contain_text("Showing results for choir")
    assert "Kindlebury Community Choir" in result_names(page)
    assert not any("Housing" in name for name in result_names(page))

    page.get_by_role("link", name="Search instead for chior").click()
    expect(page.get_by_role("heading", name="No results")).to_be_visible()


def test_the_map_shows_the_places_listed_and_works_from_the_keyboard(
        page, axe, offline_map, screenshot_dir):
    page.goto(NEAR_HERE)
    panel = page.locator(".kindly-map-panel")
    expect(panel).to_be_visible()
    points = json.loads(page.locator(".kindly-map").get_attribute("data-points"))
    assert points, "the demo has walking groups within 3 km of KB1 1AB"
    expect(page.locator(".leaflet-marker-icon")).to_have_count(len(points))
    expect(page.locator(".leaflet-tile-loaded").first).to_be_visible()
    # Every mapped place is in the list too (the map's text alternative).
    assert {p["name"] for p in points} <= set(result_names(page))
    assert_accessible(axe, page, "the directory with its map")
    page.screenshot(path=str(screenshot_dir / "directory-map-1280.png"), full_page=True)

    marker = page.locator(".leaflet-marker-icon").first
    marker.focus()
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_be_visible()
    name = marker.get_attribute("title")
    # From the keyboard, as the marker was (a click can land while the popup pans).
    popup.get_by_role("link", name=name).focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/directory/offers/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    # The offer's own page maps its venue.
    expect(page.locator(".leaflet-marker-icon")).to_have_count(1)
    assert_accessible(axe, page, "an offer's page with its map")


def test_the_map_fits_a_phone_screen(page, offline_map, screenshot_dir):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(NEAR_HERE)
    expect(page.locator(".leaflet-marker-icon").first).to_be_visible()
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.screenshot(path=str(screenshot_dir / "directory-map-375.png"), full_page=True)
