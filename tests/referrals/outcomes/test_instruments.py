"""Instruments are data: the built-in files, a licensed organisation's wording laid over
the shipped scoring, and definitions checked (file and field named) as the app starts."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from referrals import create_app
from referrals.outcomes.instruments import (
    BUILT_IN_DIR,
    EXTENSION,
    InstrumentError,
    instruments_for,
    load_definitions,
)
from tests.referrals.outcomes.conftest import SWEMWBS_ITEMS, placeholder_wording


def write(tmp_path: Path, name: str, data) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def complete(**overrides) -> dict:
    data = {
        "code": "walk", "name": "Walking confidence", "version": "1", "intro": "",
        "items": [{"id": "confidence", "text": "How confident are you walking outside?"}],
        "scale": {"min": 1, "max": 3, "labels": [[1, "Not"], [2, "A bit"], [3, "Very"]]},
        "scores": [{"id": "confidence", "label": "Confidence", "items": ["confidence"],
                    "reverse_items": [], "higher_is_better": True, "conversion": None,
                    "minimum": 1, "maximum": 3}],
        "licence": "Ours", "source": "Ours", "wording_shipped": True,
    }
    data.update(overrides)
    return data


# --- built in ------------------------------------------------------------------------


def test_the_four_instruments_are_built_in_and_the_open_ones_come_first():
    loaded = load_definitions()

    assert list(loaded) == ["ons4", "ucla3", "mycaw", "swemwbs"]
    assert {code for code, i in loaded.items() if i.configured} == {"ons4", "ucla3"}


def test_ons4_and_ucla3_ship_their_wording_from_the_reference():
    loaded = load_definitions()
    ons4, ucla3 = loaded["ons4"], loaded["ucla3"]

    assert ons4.item("life_satisfaction").text == (
        "Overall, how satisfied are you with your life nowadays?")
    assert ons4.item("anxious").text.startswith("On a scale where nought is 'not at all anxious'")
    assert [i.text for i in ucla3.items] == [
        "How often do you feel that you lack companionship?",
        "How often do you feel left out?",
        "How often do you feel isolated from others?"]
    assert ucla3.scale.labels == ((1, "Hardly ever"), (2, "Some of the time"), (3, "Often"))
    assert "Open Government Licence" in ons4.licence
    assert ons4.source.startswith("https://gss.civilservice.gov.uk/")


def test_licensed_instruments_ship_scoring_but_no_wording():
    for name in ("swemwbs.json", "mycaw.json"):
        data = json.loads((BUILT_IN_DIR / name).read_text())

        assert data["wording_shipped"] is False
        assert all(set(item) == {"id"} for item in data["items"])
        assert all(label == str(value) for value, label in data["scale"]["labels"])
    swemwbs = load_definitions()["swemwbs"]
    assert not swemwbs.configured and [i.id for i in swemwbs.items] == SWEMWBS_ITEMS
    assert "licence" in swemwbs.licence


def test_the_definition_files_are_package_data():
    pyproject = (BUILT_IN_DIR.parents[2] / "pyproject.toml").read_text()

    assert '"outcomes/instruments/*.json"' in pyproject


# --- a licensed organisation's file ---------------------------------------------------


def test_a_licensed_file_lays_its_wording_over_the_shipped_scoring(tmp_path):
    wording = placeholder_wording("swemwbs", SWEMWBS_ITEMS)
    wording["scale"] = {"labels": [[v, f"Placeholder {v}"] for v in range(1, 6)]}
    shipped = load_definitions()["swemwbs"]

    swemwbs = load_definitions([write(tmp_path, "mine.json", wording)])["swemwbs"]

    assert swemwbs.configured
    assert swemwbs.item("useful").text == "Placeholder question 2"
    assert swemwbs.scores == shipped.scores and swemwbs.version == shipped.version
    assert swemwbs.scale.labels[0] == (1, "Placeholder 1")
    assert swemwbs.licence.startswith("Placeholder")


def test_a_complete_definition_adds_a_new_instrument(tmp_path):
    loaded = load_definitions([write(tmp_path, "walk.json", complete())])

    assert loaded["walk"].configured and loaded["walk"].label == "WALK"


@pytest.mark.parametrize("change, field", [
    ({"items": [{"id": "optimistic", "text": "Only one"}]}, "items"),
    ({"items": [{"id": "cheerful", "text": "Not an item"}]}, "items[0].id"),
    ({"version": "2"}, "version"),
    ({"scores": None, "colour": "red"}, "colour"),
    ({"scale": {"min": 0}}, "scale"),
    ({"scale": {"labels": [[1, "One"]]}}, "scale.labels"),
])
def test_a_bad_licensed_file_is_refused_naming_the_file_and_field(tmp_path, change, field):
    wording = placeholder_wording("swemwbs", SWEMWBS_ITEMS) | change
    wording.pop("scores", None)
    path = write(tmp_path, "licensed.json", wording)

    with pytest.raises(InstrumentError) as caught:
        load_definitions([path])

    assert caught.value.source == str(path) and caught.value.field == field


@pytest.mark.parametrize("change, field", [
    ({"code": "Has Spaces"}, "code"),
    ({"items": []}, "items"),
    ({"items": [{"id": "confidence", "text": ""}]}, "items[0].text"),
    ({"scale": {"min": 3, "max": 1, "labels": []}}, "scale"),
    ({"scale": {"min": 1, "max": 3, "labels": [[1, "Not"], [3, "Very"]]}}, "scale.labels"),
    ({"scores": [{**complete()["scores"][0], "items": ["nope"]}]}, "scores[0].items"),
    ({"scores": [{**complete()["scores"][0], "maximum": 10}]}, "scores[0].maximum"),
    ({"scores": [{**complete()["scores"][0], "conversion": {"1": 10, "2": 20}}]},
     "scores[0].conversion"),
    ({"scores": [{**complete()["scores"][0], "higher_is_better": "yes"}]},
     "scores[0].higher_is_better"),
    ({"wording_shipped": False}, "items[0].text"),
    ({"licence": None}, "licence"),
])
def test_a_bad_complete_definition_is_refused_naming_the_field(tmp_path, change, field):
    path = write(tmp_path, "walk.json", complete(**change))

    with pytest.raises(InstrumentError) as caught:
        load_definitions([path])

    assert caught.value.field == field
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"code": 7}'])
def test_a_file_that_is_not_a_definition_is_refused(tmp_path, content):
    path = write(tmp_path, "broken.json", content)

    with pytest.raises(InstrumentError, match="broken.json"):
        load_definitions([path])


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(InstrumentError, match="not found"):
        load_definitions([tmp_path / "nowhere.json"])


def test_the_same_code_from_two_files_is_refused(tmp_path):
    one = write(tmp_path, "one.json", complete())
    two = write(tmp_path, "two.json", complete())

    with pytest.raises(InstrumentError, match="already given"):
        load_definitions([one, two])


# --- per app -------------------------------------------------------------------------


def test_an_invalid_configured_file_stops_the_app_starting(tmp_path):
    path = write(tmp_path, "swemwbs.json", {"code": "swemwbs", "items": "all of them"})

    with pytest.raises(RuntimeError) as caught:
        create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "OUTCOME_INSTRUMENT_FILES": [str(path)]})

    assert str(path) in str(caught.value) and "items" in str(caught.value)


def test_the_app_loads_its_configured_files_once(tmp_path):
    path = write(tmp_path, "swemwbs.json", placeholder_wording("swemwbs", SWEMWBS_ITEMS))
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "OUTCOME_INSTRUMENT_FILES": str(path)})

    loaded = app.extensions[EXTENSION]

    assert loaded["swemwbs"].configured and not loaded["mycaw"].configured
    assert instruments_for(app) is loaded


def test_without_configured_files_the_licensed_ones_are_not_configured(app):
    loaded = instruments_for(app)

    assert not loaded["swemwbs"].configured and not loaded["mycaw"].configured


def test_the_readme_examples_load(tmp_path):
    readme = (BUILT_IN_DIR / "README.md").read_text()
    blocks = [block.split("```", 1)[0] for block in readme.split("```json\n")[1:]]
    overlay, complete_example = (json.loads(block) for block in blocks)

    swemwbs = load_definitions([write(tmp_path, "swemwbs.json", overlay)])["swemwbs"]
    ucla = load_definitions([write(tmp_path, "ucla.json", complete_example)])["ucla3"]

    assert swemwbs.configured and swemwbs.item("own_mind").text.startswith("Placeholder")
    assert ucla.configured and ucla.scores[0].maximum == 9
