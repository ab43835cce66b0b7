"""Issue 14 point 6: the referral form's date of birth is the NHS.UK date input."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from referrals.models import Patient


def boxes(day="", month="", year="") -> dict[str, str]:
    return {"birth_date-day": str(day), "birth_date-month": str(month),
            "birth_date-year": str(year)}


def test_the_date_of_birth_is_three_labelled_boxes_in_one_fieldset(client, referrer, page):
    form = page(client.get("/referrals/new"))

    group = form.find(".//div[@id='birth_date']")
    assert group is not None and "nhsuk-date-input" in group.get("class")
    for part, label in (("day", "Day"), ("month", "Month"), ("year", "Year")):
        box = form.by_id(f"birth_date-{part}")
        assert box.get("name") == f"birth_date-{part}" and box.get("inputmode") == "numeric"
        assert form.label_for(f"birth_date-{part}") == [label, "Date of birth"]
    assert form.find(".//input[@name='birth_date']") is None


TOMORROW = date.today() + timedelta(days=1)


@pytest.mark.parametrize(("typed", "message", "first_wrong", "marked"), [
    (boxes(), "Enter the person's date of birth", "day", {"day", "month", "year"}),
    (boxes(31, "", 1950), "Date of birth must include a month", "month", {"month"}),
    (boxes("", "", 1950), "Date of birth must include a day and a month", "day",
     {"day", "month"}),
    (boxes(31, 2, 1950), "Date of birth must be a real date", "day", {"day", "month", "year"}),
    (boxes(1, 1, 50), "Year must include 4 numbers, for example 1950", "year", {"year"}),
    (boxes(TOMORROW.day, TOMORROW.month, TOMORROW.year), "Date of birth must be in the past",
     "day", {"day", "month", "year"}),
])
def test_each_date_mistake_is_named_marked_and_linked_to_the_first_wrong_box(
    client, referrer, valid_form, page, typed, message, first_wrong, marked
):
    response = client.submit("/referrals/new", valid_form(**typed))

    form = page(response)
    assert response.status_code == 422
    assert form.error_for("birth_date") == message
    assert form.summary_links()[f"#birth_date-{first_wrong}"] == message
    assert {part for part in ("day", "month", "year")
            if "nhsuk-input--error" in form.by_id(f"birth_date-{part}").get("class")} == marked
    # What was typed is shown again, box by box.
    for part in ("day", "month", "year"):
        assert form.value_of(f"birth_date-{part}") == typed[f"birth_date-{part}"]


def test_a_date_typed_in_the_boxes_is_stored(client, referrer, valid_form, db):
    data = valid_form(**boxes("04", "7", "1948"))

    assert client.submit("/referrals/new", data).status_code == 302
    stored = db.session.scalars(
        select(Patient).where(Patient.nhs_number == data["nhs_number"])).one()
    assert stored.birth_date == date(1948, 7, 4)
