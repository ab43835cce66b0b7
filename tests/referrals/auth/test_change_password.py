"""The "Change your password" page: reachable from every page's header, errors next to
their fields, and the same rules as everywhere else. (That it ends the other sessions
is in test_sessions.py, where every request has a fresh app context.)"""
from __future__ import annotations

import html
import re

import pytest
from werkzeug.security import check_password_hash

from referrals.models import Role, User

PASSWORD = "correct horse battery"
NEW = "a brand new passphrase"
URL = "/account/password"


def field_errors(response) -> dict[str, str]:
    """Each field's error message, by the id of the input it belongs to."""
    page = response.get_data(as_text=True)
    errors = {}
    for match in re.finditer(r'<span class="nhsuk-error-message" id="(\w+)-error"\s*>\s*'
                             r'<span class="nhsuk-u-visually-hidden">Error: </span>(.*?)</span>',
                             page, re.DOTALL):
        errors[match.group(1)] = " ".join(html.unescape(match.group(2)).split())
    return errors


def summary_links(response) -> list[str]:
    page = response.get_data(as_text=True)
    summary = re.search(r'nhsuk-error-summary__list[^>]*>(.*?)</ul>', page, re.DOTALL)
    return re.findall(r'href="#([\w-]+)"', summary.group(1)) if summary else []


def change(client, current=PASSWORD, new=NEW, again=None, **kwargs):
    return client.submit(URL, {"current_password": current, "new_password": new,
                               "confirm_password": new if again is None else again}, **kwargs)


def stored_password_is(db, user, password) -> bool:
    db.session.expire_all()
    return check_password_hash(db.session.get(User, user.id).password_hash, password)


@pytest.mark.parametrize("role", list(Role))
def test_every_signed_in_user_finds_the_page_in_the_header(client, login_as, role):
    login_as(role)

    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    header = home.split("</header>")[0]

    assert f'href="{URL}"' in header and "Change password" in header
    page = client.get(URL)
    assert page.status_code == 200
    assert "Change your password" in page.get_data(as_text=True)


def test_the_header_link_is_on_other_pages_too(client, login_as):
    login_as(Role.REFERRER)

    for page in ("/referrals", "/referrals/new", "/notifications", "/letters", URL):
        header = client.get(page).get_data(as_text=True).split("</header>")[0]
        assert f'href="{URL}"' in header, page


def test_changing_the_password_takes_you_home_with_a_message(client, login_as, db):
    user = login_as(Role.REFERRER)

    response = change(client, follow_redirects=True)

    assert response.status_code == 200
    assert response.request.path == "/referrals"
    assert "Your password has been changed" in response.get_data(as_text=True)
    assert stored_password_is(db, user, NEW)


def test_a_wrong_current_password_is_shown_next_to_that_field(client, login_as, db):
    user = login_as(Role.REFERRER)

    response = change(client, current="not my password")

    assert response.status_code == 422
    assert field_errors(response) == {"current_password": "Your current password is not right"}
    assert summary_links(response) == ["current_password"]
    assert stored_password_is(db, user, PASSWORD)


@pytest.mark.parametrize(("new", "message"), [
    (" " * 10, "Password must be 10 characters or more"),
    ("Password123", "one of the most common passwords"),
    ("Summer2024!!", "common password with numbers or symbols added"),
    (PASSWORD, "different from your current one"),
])
def test_a_new_password_that_breaks_a_rule_is_shown_next_to_that_field(
        client, login_as, db, new, message):
    user = login_as(Role.CONNECTOR)

    response = change(client, new=new)

    assert response.status_code == 422
    errors = field_errors(response)
    assert list(errors) == ["new_password"] and message in errors["new_password"]
    assert stored_password_is(db, user, PASSWORD)


def test_the_two_new_passwords_must_match(client, login_as, db):
    user = login_as(Role.REFERRER)

    response = change(client, again=NEW + "!")

    assert response.status_code == 422
    assert field_errors(response) == {"confirm_password": "The new passwords do not match"}
    assert stored_password_is(db, user, PASSWORD)


def test_an_empty_form_says_what_each_field_needs(client, login_as):
    login_as(Role.REFERRER)

    response = change(client, current="", new="", again="")

    assert response.status_code == 422
    assert field_errors(response) == {
        "current_password": "Enter your current password",
        "new_password": "Enter a new password",
        "confirm_password": "Enter your new password again",
    }
    assert summary_links(response) == ["current_password", "new_password", "confirm_password"]


def test_guessing_the_current_password_here_is_throttled_like_signing_in(client, login_as, db):
    user = login_as(Role.REFERRER)
    for _ in range(5):
        assert change(client, current="a wrong guess").status_code == 422

    response = change(client)  # the right current password, too late

    assert response.status_code == 422
    assert "too many attempts to sign in" in field_errors(response)["current_password"]
    assert stored_password_is(db, user, PASSWORD)


def test_changing_the_password_needs_the_csrf_token(client, login_as, db):
    user = login_as(Role.REFERRER)

    response = client.post(URL, data={"current_password": PASSWORD, "new_password": NEW,
                                      "confirm_password": NEW})

    assert response.status_code == 400
    assert stored_password_is(db, user, PASSWORD)


def test_the_page_needs_a_signed_in_user(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert "/login" in response.location


def test_no_password_typed_is_ever_sent_back_in_the_page(client, login_as):
    login_as(Role.REFERRER)

    response = change(client, current="my-secret-current", new="my-secret-new",
                      again="my-secret-other")

    assert response.status_code == 422
    assert "my-secret" not in response.get_data(as_text=True)


def test_the_sign_in_page_does_not_send_the_password_back_either(client, db):
    response = client.submit("/login", {"email": "someone@test.example",
                                        "password": "my-secret-guess"})

    assert response.status_code == 401
    assert "my-secret-guess" not in response.get_data(as_text=True)
