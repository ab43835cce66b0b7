"""Ethnic category on the practice's referral form: optional, grouped, "Prefer not to say"
stored as Z, not answered as 99, and a later blank answer never wipes a known one."""
from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import select

from referrals import ethnicity, workflow
from referrals.errors import IntakeInvalid
from referrals.intake.service import create_referral
from referrals.models import Referral, ReferralStatus

S = ReferralStatus


@pytest.fixture
def practice(make):
    return make.practice()


def stored(db, number: str) -> str:
    referral = db.session.scalars(
        select(Referral).join(Referral.patient).where(Referral.patient.has(nhs_number=number))
    ).one()
    return referral.patient.ethnic_category


def test_the_form_asks_it_optionally_in_its_groups(client, referrer, page):
    form = page(client.get("/referrals/new"))
    first = form.by_id("ethnic_category")
    assert (first.get("name"), first.get("value")) == ("ethnic_category", "A")
    assert form.label_for("ethnic_category")[1:] == ["White", "Ethnic group (optional)"]
    assert form.label_for("ethnic_category-N")[1:] == [
        "Black, Black British, Caribbean or African", "Ethnic group (optional)"]
    assert form.label_for("ethnic_category-Z") == ["Prefer not to say", "Ethnic group (optional)"]
    offered = [e.get("value") for e in form.findall(".//input[@name='ethnic_category']")]
    assert offered == [*"ABCDEFGHJKLMNPRS", "Z"]
    assert form.checked("ethnic_category") == []


@pytest.mark.parametrize(("answer", "code"), [("B", "B"), ("Z", "Z"), (None, "99"), ("", "99")])
def test_the_answer_is_stored_as_its_code_and_no_answer_as_99(
    client, referrer, valid_form, db, answer, code
):
    data = valid_form(ethnic_category=answer)
    assert client.submit("/referrals/new", data).status_code == 302
    assert stored(db, data["nhs_number"]) == code


def test_an_unknown_code_is_an_error_next_to_the_field(client, referrer, valid_form, page, db):
    data = valid_form(ethnic_category="Q")
    response = client.submit("/referrals/new", data)
    assert response.status_code == 422
    form = page(response)
    assert form.error_for("ethnic_category") == "Unknown ethnic category 'Q': choose one from the list"
    assert form.summary_links()["#ethnic_category"] == form.error_for("ethnic_category")
    assert db.session.scalars(select(Referral)).first() is None


def test_a_failed_submit_keeps_the_answer_chosen(client, referrer, valid_form, page):
    form = page(client.submit("/referrals/new", valid_form(ethnic_category="K", consent=None)))
    assert form.response.status_code == 422
    assert form.checked("ethnic_category") == ["K"]


def test_a_later_referral_left_blank_keeps_the_known_code(db, make, practice):
    first = make.referral(practice, person={"ethnic_category": "H"})
    number = first.patient.nhs_number
    workflow.transition(first, S.CANCELLED, actor=None, reason="test")
    again = create_referral(make.intake(practice, person={"nhs_number": number}), actor=None)
    assert again.patient is first.patient and first.patient.ethnic_category == "H"
    workflow.transition(again, S.CANCELLED, actor=None, reason="test")
    said = create_referral(make.intake(practice, person={"nhs_number": number,
                                                         "ethnic_category": "Z"}), actor=None)
    assert said.patient.ethnic_category == "Z"  # asked again, and preferred not to say


@pytest.mark.parametrize("code", ["99", "I", "a", "ZZ"])
def test_the_service_refuses_codes_that_are_not_answers(make, practice, code):
    with pytest.raises(IntakeInvalid) as caught:
        create_referral(make.intake(practice, person={"ethnic_category": code}), actor=None)
    assert set(caught.value.errors) == {"ethnic_category"}


def test_describe_says_it_in_words():
    assert ethnicity.describe("B") == "White: Irish"
    assert ethnicity.describe("Z") == "Prefer not to say"
    assert ethnicity.describe("99") == "Not asked"


def test_allocate_gives_census_proportions_deterministically():
    people = ethnicity.allocate(1000, random.Random(7))
    counts = Counter(people)
    assert len(people) == 1000
    assert counts["99"] == 70 and counts["Z"] == 30
    assert 665 <= counts["A"] <= 675  # 74.4% of the 90% who answered
    asian = sum(counts[c] for c in "HJKL")
    black = sum(counts[c] for c in "MNP")
    mixed = sum(counts[c] for c in "DEFG")
    for count, pct in ((asian, 8.5), (black, 4.0), (mixed, 2.9)):
        assert abs(count - 900 * pct / 100.1) <= 2  # each code rounds on its own
    assert people == ethnicity.allocate(1000, random.Random(7))
    assert people != ethnicity.allocate(1000, random.Random(8))
    assert len(ethnicity.allocate(40, random.Random(1))) == 40
