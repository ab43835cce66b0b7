"""Password rules: real characters counted, common passwords refused, wherever a password
is set (the service, create-user, seed-demo, the change-password page)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from referrals.auth import passwords, service
from referrals.models import Role, User

TOO_SHORT = "Password must be 10 characters or more"
COMMON = "one of the most common passwords"
PADDED = "common password with numbers or symbols added"


@pytest.mark.parametrize("password", [
    " " * 10,                      # ten spaces passed the old rule
    " " * 30,
    "\t\n \u00a0\u2003" * 4,        # any kind of whitespace, including non-breaking
    "   abcdefgh   ",              # eight real characters inside the spaces
    "a         b",                 # a run of spaces counts once: three characters
    "e\u0301" * 9,                 # nine accented e's, written with combining accents
    "\U0001f600" * 9,              # nine emoji (36 bytes in UTF-8)
])
def test_a_password_needs_ten_real_characters(password):
    assert passwords.problem(password).startswith(TOO_SHORT)
    with pytest.raises(passwords.WeakPassword, match=TOO_SHORT):
        passwords.check(password)


@pytest.mark.parametrize("password", [
    "é" * 10,                      # ten characters, twenty bytes
    "e\u0301" * 10,                # the same, decomposed: still ten characters
    "\U0001f600" * 10,
    "名前は秘密です名前は秘密",
    "  kindly-demo  ",
    "correct horse battery",
])
def test_characters_are_counted_not_bytes(password):
    assert passwords.problem(password) is None


def test_a_password_has_an_upper_length():
    assert passwords.problem("x" * 200) is None
    assert passwords.problem("x" * 201) == "Password must be 200 characters or fewer"


@pytest.mark.parametrize("password", [
    "qwertyuiop", "QWERTYUIOP", "Password123", "1q2w3e4r5t", "password1234",
    "  Password123  ", "pass word 123",
])
def test_common_passwords_are_refused_whatever_their_case(password):
    assert COMMON in passwords.problem(password)


@pytest.mark.parametrize("password", ["Summer2024!!", "dragon1234567", "!!sunshine!!", "Monkey_2025"])
def test_a_common_password_with_digits_or_symbols_added_is_refused(password):
    assert PADDED in passwords.problem(password)


@pytest.mark.parametrize("password", ["monkey-business-77", "sunshine over the bay",
                                      "tea-with-grandma-4"])
def test_longer_phrases_built_from_common_words_are_fine(password):
    assert passwords.problem(password) is None


def test_the_reject_list_holds_thousands_of_common_passwords_and_says_where_from():
    common = passwords.common_passwords()
    header = passwords.COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()[:4]

    assert len(common) > 5000
    assert {"123456", "password", "qwerty", "iloveyou", "password123"} <= common
    assert all(entry == entry.casefold() and entry.strip() == entry for entry in common)
    assert any("public domain" in line for line in header)


def test_the_demo_password_is_not_on_the_list():
    assert passwords.problem("kindly-demo") is None


def test_creating_a_user_applies_the_rules(make, db):
    with pytest.raises(service.AccountInvalid, match=TOO_SHORT) as caught:
        make.user(Role.REFERRER, password=" " * 12)
    assert caught.value.field == "password"
    with pytest.raises(service.AccountInvalid, match=COMMON):
        make.user(Role.REFERRER, password="Password123")


def test_create_user_refuses_ten_spaces_with_a_clear_message(app, db, make):
    make.practice(ods_code="B82005")
    result = app.test_cli_runner().invoke(args=[
        "create-user", "--email", "new@test.example", "--name", "New", "--role", "referrer",
        "--practice", "B82005", "--password", " " * 10])

    assert result.exit_code != 0
    assert TOO_SHORT in result.output
    assert "Traceback" not in result.output
    assert db.session.scalar(select(User.id).where(User.email == "new@test.example")) is None


def test_seed_demo_refuses_a_weak_password_before_building_anything(app, db):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--password", "qwertyuiop"])

    assert result.exit_code == 2
    assert COMMON in result.output and "--password" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
