"""Every number, date and time Kindly reads from a person is written with the digits 0-9.

str.isdigit() is true for "²", which int() refuses (a 500); str.isdecimal(), int(), float()
and a bare regex \\d all take "٣" (Arabic-Indic three) and read it as 3. Kindly reads
neither: each form says the field is wrong, the same as for a letter."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from referrals.directory.forms import SelfReferralForm
from referrals.directory.manage_forms import OfferForm, offer_filter
from referrals.forms import whole_number
from referrals.matching.forms import ConnectionUpdateForm, PreferencesForm
from referrals.outcomes import instruments
from referrals.outcomes.forms import measurement_form
from referrals.outcomes.service import answer_field

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("text, number", [
    ("12", 12), (" 7 ", 7), ("0", 0), ("007", 7), ("999999999", 999999999),
    ("²", None), ("1²", None), ("٣", None), ("３", None), ("𝟓", None), ("1_0", None),
    ("-1", None), ("+1", None), ("1.0", None), ("", None), (None, None), ("9" * 10, None),
])
def test_whole_number_reads_only_the_digits_0_to_9(text, number):
    assert whole_number(text) == number


def test_whole_number_can_be_held_to_fewer_digits():
    assert whole_number("1234", max_digits=4) == 1234
    assert whole_number("12345", max_digits=4) is None


@pytest.fixture
def form_context(app):
    with app.test_request_context(method="POST"):
        yield


def post(form_class, data: dict, **kwargs):
    return form_class(formdata=MultiDict(data), meta={"csrf": False}, **kwargs)


@pytest.mark.parametrize("value", ["٣", "３", "²"])
def test_a_travel_distance_in_other_digits_is_refused(form_context, value):
    km, errors = post(PreferencesForm, {"max_distance_km": value}).distance()
    assert km is None and set(errors) == {"max_distance_km"}


def test_a_connection_date_in_other_digits_is_refused(form_context):
    form = post(ConnectionUpdateForm, {"on_day": "١", "on_month": "٢", "on_year": "٢٠٢٦"})
    assert form.on() == (None, {"on_day": "The date must include a day, month and year in "
                                          "numbers"})


def test_a_measure_in_other_digits_is_refused(app, form_context):
    with app.app_context():
        instrument = instruments.get("ons4")
    form = post(lambda **kw: measurement_form(instrument, **kw), {
        "completed_on_day": "١", "completed_on_month": "٢", "completed_on_year": "٢٠٢٦",
        **{answer_field(item.id): "٣" for item in instrument.items}})
    assert set(form.completed_on()[1]) == {"completed_on"}
    # Passed on as text, which the service refuses as off the scale; never read as 3.
    assert set(form.answers().values()) == {"٣"}


@pytest.mark.parametrize("field, value", [
    ("minimum_age", "١٨"), ("maximum_age", "６５"), ("amount", "٣.٥٠"),
    ("latitude", "٥١.٥"), ("longitude", "-١.١"),
])
def test_offer_numbers_in_other_digits_are_refused(form_context, field, value):
    form = post(OfferForm, {field: value}, organisations=[])
    assert form[field].data is None and form[field].process_errors


@pytest.mark.parametrize("page", ["٣", "²", "３"])
def test_a_directory_list_page_in_other_digits_is_page_one(page):
    assert offer_filter(MultiDict({"page": page})).page == 1


def test_a_self_referral_date_of_birth_in_other_digits_marks_just_that_box(form_context):
    form = post(SelfReferralForm, {"birth_date-day": "٣", "birth_date-month": "7",
                                   "birth_date-year": "1948"}, practices=[])
    assert form.birth_date.data is None
    assert form.birth_date.process_errors == ["Date of birth must be a real date, in numbers"]
    assert form.birth_date.bad_parts == {"day"}


@pytest.mark.parametrize("page", ["٣", "²", "３", "x", "-1"])
def test_the_letters_inbox_reads_an_odd_page_number_as_page_one(client, db, login_as, page):
    from referrals.models import Role

    login_as(Role.REFERRER)
    first = client.get("/letters").get_data(as_text=True)
    response = client.get(f"/letters?page={page}")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == first
