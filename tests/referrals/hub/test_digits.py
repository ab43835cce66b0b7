"""Numbers a coordinator types are read from the digits 0-9 only: "²" (which str.isdigit()
accepts and int() refuses) and "٣" (which int() reads as 3) get the field's error, not a 500
and not a silent 3."""
from __future__ import annotations

import pytest

from referrals.models import Role

ODD_DIGITS = ["²", "1²", "٣", "３", "𝟓"]


@pytest.fixture
def coordinator(login_as, team):
    return login_as(Role.COORDINATOR, team=team)


@pytest.fixture
def jo(connector, team):
    return connector(team, 3, name="Jo Bennett")


@pytest.mark.parametrize("value", ODD_DIGITS)
def test_capacity_in_other_digits_is_an_error_next_to_the_field(db, client, coordinator, jo,
                                                                page, value):
    db.session.commit()
    response = client.submit(f"/hub/connectors/{jo.id}",
                             {"capacity": value, "away_from": "", "away_until": ""})
    assert response.status_code == 422
    assert page(response).error_for("capacity") == "Enter a whole number from 0 to 200"
    db.session.refresh(jo)
    assert jo.capacity == 3


@pytest.mark.parametrize("value", ["٢٤/١٢/٢٠٢٦", "2⁴/12/2026"])
def test_away_dates_in_other_digits_are_an_error_next_to_the_field(db, client, coordinator, jo,
                                                                   page, value):
    db.session.commit()
    response = client.submit(f"/hub/connectors/{jo.id}",
                             {"capacity": "3", "away_from": value, "away_until": ""})
    assert response.status_code == 422
    assert page(response).error_for("away_from") == (
        "Enter the date as day, month and year, for example 24/12/2026")


@pytest.mark.parametrize("field, message", [
    ("first_contact_days", "Enter a whole number from 1 to 20"),
    ("max_contact_attempts", "Enter a whole number from 1 to 10"),
    ("follow_up_grace_days", "Enter a whole number from 0 to 14"),
])
@pytest.mark.parametrize("value", ODD_DIGITS)
def test_team_rules_in_other_digits_are_an_error_next_to_the_field(db, client, coordinator,
                                                                   team, page, field, message,
                                                                   value):
    db.session.commit()
    data = {"first_contact_days": "5", "max_contact_attempts": "3",
            "follow_up_grace_days": "2", field: value}
    response = client.submit("/hub/settings", data)
    assert response.status_code == 422
    assert page(response).error_for(field) == message
    db.session.refresh(team)
    assert (team.first_contact_days, team.max_contact_attempts, team.follow_up_grace_days) == (
        5, 3, 2)
