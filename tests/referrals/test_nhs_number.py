"""NHS number parsing: Modulus 11, separators, display format and the messages people see.

Every number here is from the 999 000 0000–999 999 9999 test range, which is never issued.
The check digits were worked out by hand from the NHS Data Dictionary rule (weights 10..2,
sum mod 11, 11 minus the remainder; 11 means 0, 10 means no valid number), not by calling
the code under test.
"""
from __future__ import annotations

import pytest

from referrals.errors import InvalidNhsNumber
from referrals.nhs_number import check_digit, format_nhs_number, is_valid, normalise

CHECK_DIGIT_MISMATCH = (
    "This is not a valid NHS number: its check digit does not match. "
    "Check each digit and enter it again"
)
ONLY_NUMBERS = "NHS number must contain only numbers, spaces and hyphens"


@pytest.mark.parametrize(
    "number",
    [
        "9990000018",  # 243 + 2  = 245, 245 mod 11 = 3, check 8
        "9990000026",  # 243 + 4  = 247, mod 11 = 5, check 6
        "9990000034",  # 243 + 6  = 249, mod 11 = 7, check 4
        "9990000131",  # 243 + 3 + 6 = 252, mod 11 = 10, check 1
        "9998765439",
        "9999999999",
    ],
)
def test_a_valid_test_range_number_is_accepted_as_its_ten_digits(number):
    assert normalise(number) == number
    assert is_valid(number)


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("999 000 0018", "9990000018"),
        ("999-000-0018", "9990000018"),
        ("999 - 000 - 0018", "9990000018"),
        ("  9990000018  ", "9990000018"),
        ("9 9 9 0 0 0 0 0 1 8", "9990000018"),
        ("999\t000\t0018", "9990000018"),
    ],
)
def test_spaces_and_hyphens_between_digits_are_accepted(typed, digits):
    assert normalise(typed) == digits


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("9990000018", "999 000 0018"),
        ("999-000-0018", "999 000 0018"),
        ("999 0000 018", "999 000 0018"),
        ("9998765439", "999 876 5439"),
    ],
)
def test_a_ten_digit_number_is_shown_as_three_three_four(value, shown):
    assert format_nhs_number(value) == shown


@pytest.mark.parametrize("value", ["99900000", "99900000181", "", "999000001A", "not a number"])
def test_formatting_leaves_anything_that_is_not_ten_digits_as_it_was(value):
    assert format_nhs_number(value) == value


@pytest.mark.parametrize(
    ("raw", "count"),
    [("999000001", 9), ("99900000181", 11), ("999 000 001", 9), ("9", 1), ("9" * 20, 20)],
)
def test_a_number_of_the_wrong_length_is_refused_saying_how_many_digits_were_entered(raw, count):
    with pytest.raises(InvalidNhsNumber) as caught:
        normalise(raw)
    assert str(caught.value) == f"NHS number must be 10 digits; you entered {count}"


@pytest.mark.parametrize(
    "raw",
    [
        "999000001A",
        "A990000018",
        "999.000.0018",
        "999/000/0018",
        "999_000_0018",
        "+9990000018",
        "９９９００００018",  # full-width digits are digits to Python, but not to us
        "999000001８",
    ],
)
def test_letters_and_other_characters_are_refused(raw):
    with pytest.raises(InvalidNhsNumber) as caught:
        normalise(raw)
    assert str(caught.value) == ONLY_NUMBERS
    assert not is_valid(raw)


@pytest.mark.parametrize("raw", ["", "   ", " - - ", None])
def test_an_empty_number_asks_for_the_nhs_number(raw):
    with pytest.raises(InvalidNhsNumber) as caught:
        normalise(raw)
    assert str(caught.value) == "Enter the person's NHS number"


@pytest.mark.parametrize(
    "raw",
    [
        "9990000017",  # correct check digit is 8
        "9990000019",
        "9990000010",
        "9998765430",  # correct check digit is 9
        "9999999990",
        "999 000 0016",
    ],
)
def test_a_wrong_check_digit_is_refused(raw):
    with pytest.raises(InvalidNhsNumber) as caught:
        normalise(raw)
    assert str(caught.value) == CHECK_DIGIT_MISMATCH
    assert not is_valid(raw)


def test_swapping_two_digits_is_caught_by_the_check_digit():
    # The point of Modulus 11: a transposition changes the check digit.
    assert is_valid("9998765439")
    assert not is_valid("9998764539")


# 999 000 000: 9*10 + 9*9 + 9*8 = 243, 243 mod 11 = 1, 11 - 1 = 10.
# 999 123 456: 243 + 1*7 + 2*6 + 3*5 + 4*4 + 5*3 + 6*2 = 320, 320 mod 11 = 1, check 10.
@pytest.mark.parametrize("first_nine", ["999000000", "999123456"])
def test_nine_digits_whose_check_would_be_ten_have_no_valid_number(first_nine):
    assert check_digit(first_nine) is None
    for last in "0123456789":
        with pytest.raises(InvalidNhsNumber) as caught:
            normalise(first_nine + last)
        assert str(caught.value) == CHECK_DIGIT_MISMATCH


# 999 000 005: 243 + 5*2 = 253 = 23 * 11, remainder 0, so 11 - 0 = 11, which becomes 0.
# 999 999 998: 9*(10+9+8+7+6+5+4+3) + 8*2 = 468 + 16 = 484 = 44 * 11, remainder 0.
@pytest.mark.parametrize("first_nine", ["999000005", "999999998"])
def test_a_remainder_of_zero_gives_check_digit_zero(first_nine):
    assert check_digit(first_nine) == 0
    assert normalise(first_nine + "0") == first_nine + "0"
    with pytest.raises(InvalidNhsNumber):
        normalise(first_nine + "1")


@pytest.mark.parametrize(
    ("first_nine", "digit"),
    [("999000001", 8), ("999000002", 6), ("999000003", 4), ("999000013", 1), ("999876543", 9)],
)
def test_check_digit_follows_modulus_eleven(first_nine, digit):
    assert check_digit(first_nine) == digit
