"""The public directory's page number is read from the digits 0-9 only: anything else
("²", "٣", a huge number) is page 1 (or the last page), never a 500."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("value", ["²", "1²", "٣", "３", "-1", "0", "", "x", "9" * 40])
@pytest.mark.parametrize("path", ["/directory", "/directory/volunteer"])
def test_an_odd_page_number_shows_a_page(client, db, path, value):
    response = client.get(f"{path}?page={value}")
    assert response.status_code == 200



@pytest.mark.parametrize("value", ["²", "٣", "３"])
def test_the_open_referral_api_refuses_numbers_in_other_digits(client, db, value):
    response = client.get(f"/openreferral/services?page={value}")
    assert response.status_code == 400
    assert "is not a whole number" in response.get_data(as_text=True)
