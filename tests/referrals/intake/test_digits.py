"""The referral form reads dates from the digits 0-9 only, and keeps the FHIR API's limits."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from referrals.intake.limits import MAX_LENGTHS
from referrals.models import Referral


@pytest.mark.parametrize(("day", "month", "year"), [
    ("٣١", "٠٣", "١٩٥٠"), ("31", "03", "19５0"), ("3¹", "03", "1950")])
def test_a_date_of_birth_in_other_digits_is_an_error_next_to_the_field(
        client, db, referrer, valid_form, page, day, month, year):
    response = client.submit("/referrals/new", valid_form(**{
        "birth_date-day": day, "birth_date-month": month, "birth_date-year": year}))
    assert response.status_code == 422
    assert page(response).error_for("birth_date") == "Date of birth must be a real date, in numbers"
    assert db.session.scalar(select(func.count(Referral.id))) == 0


@pytest.mark.parametrize("value", ["٣١/٠٣/١٩٥٠", "31/03/1950".replace("5", "５"), "3¹/03/1950"])
def test_one_date_of_birth_value_in_other_digits_is_an_error_next_to_the_field(
        client, db, referrer, valid_form, page, value):
    no_boxes = {"birth_date-day": None, "birth_date-month": None, "birth_date-year": None}
    response = client.submit("/referrals/new", valid_form(birth_date=value, **no_boxes))
    assert response.status_code == 422
    assert page(response).error_for("birth_date") == (
        "Enter the date of birth as day, month and year, for example 31/03/1950")
    assert db.session.scalar(select(func.count(Referral.id))) == 0


@pytest.mark.parametrize("field", ["given_name", "family_name", "what_matters", "risks"])
def test_one_character_over_the_limit_is_an_error_next_to_the_field(
        client, db, referrer, valid_form, page, field):
    extra = {"no_known_risks": None} if field == "risks" else {}
    response = client.submit("/referrals/new",
                             valid_form(**{field: "a" * (MAX_LENGTHS[field] + 1)}, **extra))
    assert response.status_code == 422
    assert page(response).error_for(field) == (
        f"{page(response).label_for(field)[0]} must be {MAX_LENGTHS[field]} characters or fewer")
