"""UK postcode normalisation: shape only, upper case, one space before the inward code."""
from __future__ import annotations

import pytest

from referrals.postcode import normalise_postcode


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("M1 1AE", "M1 1AE"),  # A9 9AA
        ("B33 8TH", "B33 8TH"),  # A99 9AA
        ("CR2 6XH", "CR2 6XH"),  # AA9 9AA
        ("DN55 1PT", "DN55 1PT"),  # AA99 9AA
        ("W1A 0AX", "W1A 0AX"),  # A9A 9AA
        ("EC1A 1BB", "EC1A 1BB"),  # AA9A 9AA
        ("LS1 4AP", "LS1 4AP"),
        ("GIR 0AA", "GIR 0AA"),  # Girobank's, the one non-standard shape
    ],
)
def test_every_uk_postcode_format_is_accepted(raw, normalised):
    assert normalise_postcode(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("ls1 4ap", "LS1 4AP"),
        ("ec1a 1bb", "EC1A 1BB"),
        ("Sw1A 2aA", "SW1A 2AA"),
    ],
)
def test_lower_and_mixed_case_are_upper_cased(raw, normalised):
    assert normalise_postcode(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("LS14AP", "LS1 4AP"),
        ("m11ae", "M1 1AE"),
        ("EC1A1BB", "EC1A 1BB"),
        ("DN551PT", "DN55 1PT"),
        ("  ls1   4ap  ", "LS1 4AP"),
        ("L S 1 4 A P", "LS1 4AP"),
        ("LS1\t4AP", "LS1 4AP"),
    ],
)
def test_spacing_is_normalised_to_one_space_before_the_inward_code(raw, normalised):
    assert normalise_postcode(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        None,
        "LS1",  # outward code only
        "4AP",  # inward code only
        "LS1 4A",  # inward code too short
        "LS1 4APP",  # inward code too long
        "LS123 4AP",  # district too long
        "1LS 4AP",  # starts with a digit
        "LSS 4AP",  # no district number
        "LS1 AAP",  # inward code must start with a digit
        "LS1 44P",  # inward unit is two letters
        "QA1 4AP",  # Q is never a first letter
        "VA1 4AP",  # nor V
        "XA1 4AP",  # nor X
        "AI1 4AP",  # I is never a second letter
        "LS1 4CA",  # C, I, K, M, O, V never appear in the inward unit
        "LS1 4AI",
        "W1I 0AX",  # I is not allowed as the A9A letter
        "LS1-4AP",  # hyphens are not part of a postcode
        "LS1 4AP X",
        "not a postcode",
    ],
)
def test_anything_that_is_not_postcode_shaped_is_refused(raw):
    assert normalise_postcode(raw) is None
