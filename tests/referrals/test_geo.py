"""Postcodes become places; distances are great-circle distances."""
from __future__ import annotations

import io
import json

import pytest

from referrals import geo
from referrals.models import PostcodePlace


def test_great_circle_distance_matches_a_known_pair():
    # London (51.5074, -0.1278) to Manchester (53.4808, -2.2426): about 262 km.
    assert geo.haversine_km(51.5074, -0.1278, 53.4808, -2.2426) == pytest.approx(262, abs=2)
    assert geo.haversine_km(52.8, -2.1, 52.8, -2.1) == 0


def test_one_hundredth_of_a_degree_of_latitude_is_about_1_1_km():
    assert geo.haversine_km(52.80, -2.1, 52.81, -2.1) == pytest.approx(1.112, abs=0.01)


def test_a_known_postcode_is_found_exactly_whatever_its_spacing(db):
    geo.load_postcodes([{"postcode": "KB1 1AB", "latitude": "52.8", "longitude": "-2.1"}])

    place = geo.locate(" kb11ab ")

    assert place == geo.Place("KB1 1AB", 52.8, -2.1, "postcode")


def test_an_unlisted_postcode_falls_back_to_its_districts_centre(db):
    geo.load_postcodes([{"postcode": "KB2", "latitude": "52.79", "longitude": "-2.08"}])

    assert geo.locate("KB2 9ZZ") == geo.Place("KB2 9ZZ", 52.79, -2.08, "outcode")


def test_an_unknown_or_malformed_postcode_is_none_not_an_error(db):
    assert geo.locate("ZZ9 9ZZ") is None
    assert geo.locate("not a postcode") is None
    assert geo.locate("") is None


def test_loading_postcodes_twice_changes_nothing_the_second_time(db):
    rows = [{"postcode": "KB1 1AB", "latitude": "52.8", "longitude": "-2.1"},
            {"pcds": "KB1 2AA", "lat": "52.81", "long": "-2.1"},
            {"pcds": "KB9 9ZZ", "lat": "99.999999", "long": "0.000000"}]

    first = geo.load_postcodes(rows)
    second = geo.load_postcodes(rows)
    moved = geo.load_postcodes([{"postcode": "KB1 1AB", "latitude": "52.9", "longitude": "-2.1"}])

    assert first == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 1}
    assert second == {"created": 0, "updated": 0, "unchanged": 2, "skipped": 1}
    assert moved["updated"] == 1
    assert db.session.get(PostcodePlace, "KB1 1AB").latitude == 52.9


@pytest.mark.parametrize("row, message", [
    ({"postcode": "nonsense", "latitude": "1", "longitude": "1"}, "not a postcode"),
    ({"postcode": "KB1 1AB", "latitude": "north", "longitude": "1"}, "must be numbers"),
    ({"postcode": "KB1 1AB", "latitude": "91", "longitude": "1"}, "out of range"),
])
def test_a_bad_row_is_reported_with_its_row_number(db, row, message):
    with pytest.raises(geo.PostcodeRowError, match=f"row 2: .*{message}"):
        geo.load_postcodes([row])


class FakeAnswer(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_the_http_lookup_is_used_and_remembered_when_configured(app, db, monkeypatch):
    asked = []

    def fake_urlopen(url, timeout):
        asked.append(url)
        return FakeAnswer(json.dumps({"result": {"latitude": 52.7, "longitude": -2.2}}).encode())

    monkeypatch.setitem(app.config, "POSTCODE_LOOKUP_URL", "https://lookup.example/{postcode}")
    monkeypatch.setattr(geo.urllib.request, "urlopen", fake_urlopen)

    first = geo.locate("KB4 1AA")
    second = geo.locate("KB4 1AA")

    assert first == geo.Place("KB4 1AA", 52.7, -2.2, "lookup")
    assert second.precision == "postcode"  # stored: no second network call
    assert asked == ["https://lookup.example/KB4%201AA"]


def test_a_failing_http_lookup_falls_back_quietly(app, db, monkeypatch):
    def broken(url, timeout):
        raise OSError("network unreachable")

    monkeypatch.setitem(app.config, "POSTCODE_LOOKUP_URL", "https://lookup.example/{postcode}")
    monkeypatch.setattr(geo.urllib.request, "urlopen", broken)
    geo.load_postcodes([{"postcode": "KB4", "latitude": "52.7", "longitude": "-2.3"}])

    assert geo.locate("KB4 1AA").precision == "outcode"
