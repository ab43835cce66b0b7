"""Signing in and out through the real form; throttling against an explicit clock."""
from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from referrals.auth import service, throttle
from referrals.config import ProductionConfig
from referrals.models import LoginAttempt, Role

PASSWORD = "correct horse battery"
WRONG = "not the password"
GENERIC = "Enter a correct email address and password"
LOCKED = "too many attempts to sign in"
T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def error_summary(response) -> str:
    """The text of the page's error summary, as a person would read it."""
    match = re.search(
        r'class="[^"]*nhsuk-error-summary__list[^"]*">(.*?)</ul>',
        response.get_data(as_text=True),
        re.DOTALL,
    )
    assert match, "the page has no error summary"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def sign_in(client, email, password=PASSWORD, *, remember=False, **kwargs):
    data = {"email": email, "password": password, **({"remember": "y"} if remember else {})}
    return client.submit("/login", data, **kwargs)


def sign_out(client, page="/referrals"):
    return client.submit("/logout", {}, page=page)


def signed_in(client) -> bool:
    """Can this client reach a page that needs a signed-in user?"""
    return client.get("/referrals").status_code != 302


def set_cookies(response) -> dict[str, str]:
    return {
        header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")
    }


@pytest.fixture
def user(make, db):
    user = make.user(Role.REFERRER, password=PASSWORD)
    db.session.commit()
    return user


# --- signing in -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "home"),
    [
        (Role.REFERRER, "/referrals"),
        (Role.MANAGER, "/referrals"),
        (Role.CONNECTOR, "/caseload"),
        (Role.COORDINATOR, "/hub"),
        (Role.ADMIN, "/admin/users"),
    ],
)
def test_signing_in_takes_each_role_to_its_work(client, make, db, role, home):
    account = make.user(role, password=PASSWORD)
    db.session.commit()

    response = sign_in(client, account.email, follow_redirects=True)

    assert response.status_code == 200
    assert response.request.path == home


def test_email_address_is_matched_whatever_its_case_or_spacing(client, user):
    response = sign_in(client, f"  {user.email.upper()} ")

    assert response.status_code == 302
    assert signed_in(client)


def test_wrong_password_and_unknown_email_get_the_same_generic_message(client, user):
    wrong_password = sign_in(client, user.email, WRONG)
    unknown_email = sign_in(client, "nobody-here@test.example", PASSWORD)

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert error_summary(wrong_password) == error_summary(unknown_email) == GENERIC
    assert not signed_in(client)


def test_inactive_user_cannot_sign_in_and_is_told_nothing_more(client, user, db):
    user.active = False
    db.session.commit()

    response = sign_in(client, user.email, PASSWORD)

    assert response.status_code == 401
    assert error_summary(response) == GENERIC
    assert not signed_in(client)


def test_deactivating_a_signed_in_user_ends_their_access(client, user, db):
    assert sign_in(client, user.email).status_code == 302
    db.session.get(type(user), user.id).active = False
    db.session.commit()

    response = client.get("/referrals")

    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"


def test_an_over_long_email_is_a_form_error_not_a_server_error(client, db):
    response = sign_in(client, "a" * 300 + "@test.example", WRONG)

    assert response.status_code == 422  # an error answer (issue 14: post/redirect/get)
    assert "at most 254 characters" in error_summary(response)
    assert not signed_in(client)


# --- throttling through the form ---------------------------------------------------


def test_five_failures_lock_the_account_even_against_the_right_password(client, user):
    for _ in range(5):
        assert sign_in(client, user.email, WRONG).status_code == 401

    response = sign_in(client, user.email, PASSWORD)

    assert response.status_code == 401
    assert LOCKED in error_summary(response)
    assert not signed_in(client)


def test_unknown_email_locks_exactly_like_a_real_account(client, user):
    """No account enumeration: the same replies, in the same order, either way."""

    def replies(email):
        attempts = [sign_in(client, email, WRONG) for _ in range(5)]
        attempts.append(sign_in(client, email, PASSWORD))
        # Minutes to wait may differ by a tick; everything else must match.
        return [(r.status_code, re.sub(r"\d+", "N", error_summary(r))) for r in attempts]

    real = replies(user.email)
    unknown = replies("nobody-here@test.example")

    assert unknown == real
    assert LOCKED in real[-1][1]


def test_a_successful_sign_in_resets_the_failure_count(client, user):
    for _ in range(4):
        sign_in(client, user.email, WRONG)
    assert sign_in(client, user.email).status_code == 302
    assert sign_out(client).status_code == 302

    for _ in range(4):
        sign_in(client, user.email, WRONG)
    response = sign_in(client, user.email)

    assert response.status_code == 302
    assert signed_in(client)


def test_every_attempt_is_recorded_by_email(client, user, db):
    sign_in(client, user.email, WRONG)
    sign_in(client, user.email)

    outcomes = db.session.scalars(
        select(LoginAttempt.succeeded)
        .where(LoginAttempt.email == user.email)
        .order_by(LoginAttempt.id)
    ).all()
    assert outcomes == [False, True]


# --- throttling against the clock ---------------------------------------------------


HERE, ELSEWHERE = "203.0.113.7", "198.51.100.20"


def authenticate(email, password, minutes, seconds=0, *, ip=HERE):
    at = T0 + timedelta(minutes=minutes, seconds=seconds)
    return service.authenticate(email, password, ip=ip, now=at)


def fail_five_times(email, minutes=(0, 1, 2, 3, 4), *, ip=HERE):
    for minute in minutes:
        with pytest.raises(service.InvalidCredentials):
            authenticate(email, WRONG, minute, ip=ip)


def test_lock_lasts_until_the_window_after_the_fifth_failure_ends(user):
    fail_five_times(user.email)  # at 0..4 minutes

    with pytest.raises(throttle.AccountLocked, match="Wait 10 minutes"):
        authenticate(user.email, PASSWORD, 5)
    with pytest.raises(throttle.AccountLocked, match="Wait 1 minute and"):
        authenticate(user.email, PASSWORD, 14, 59)

    # The oldest failure has left the 15-minute window: four remain, so the right
    # password works, as the message promised.
    assert authenticate(user.email, PASSWORD, 15, 1).id == user.id


def test_trying_again_while_locked_does_not_extend_the_lock(user):
    fail_five_times(user.email)
    for minute in (5, 8, 12, 14):
        with pytest.raises(throttle.AccountLocked):
            authenticate(user.email, PASSWORD, minute)

    assert authenticate(user.email, PASSWORD, 15, 1).id == user.id


def test_failures_spread_over_more_than_the_window_do_not_lock(user):
    fail_five_times(user.email, minutes=(0, 4, 8, 12, 16))

    assert authenticate(user.email, PASSWORD, 17).id == user.id


def test_unknown_email_lock_expires_the_same_way(db):
    email = "nobody-here@test.example"
    fail_five_times(email)

    with pytest.raises(throttle.AccountLocked):
        authenticate(email, WRONG, 5)
    with pytest.raises(service.InvalidCredentials):
        authenticate(email, WRONG, 15, 1)


# --- throttling per address ----------------------------------------------------------


def test_a_stranger_guessing_cannot_lock_the_real_user_out(user):
    fail_five_times(user.email, ip=HERE)

    with pytest.raises(throttle.AccountLocked):
        authenticate(user.email, PASSWORD, 5, ip=HERE)
    # The member of staff, signing in from their own practice, is not affected.
    assert authenticate(user.email, PASSWORD, 5, ip=ELSEWHERE).id == user.id


def test_the_real_users_success_elsewhere_does_not_unlock_the_guessing_address(user):
    fail_five_times(user.email, ip=HERE)
    assert authenticate(user.email, PASSWORD, 5, ip=ELSEWHERE).id == user.id

    with pytest.raises(throttle.AccountLocked):
        authenticate(user.email, PASSWORD, 6, ip=HERE)


def test_failures_from_different_addresses_do_not_add_up_for_one_account(user):
    for minute, ip in enumerate(["203.0.113.1", "203.0.113.2", "203.0.113.3",
                                 "203.0.113.4", "203.0.113.5"]):
        with pytest.raises(service.InvalidCredentials):
            authenticate(user.email, WRONG, minute, ip=ip)

    assert authenticate(user.email, PASSWORD, 5, ip="203.0.113.1").id == user.id


def spray(accounts, *, ip=HERE, start=0):
    """One wrong password against each account, one attempt every ten seconds."""
    for n, email in enumerate(accounts):
        with pytest.raises(service.InvalidCredentials):
            authenticate(email, WRONG, 0, (start + n) * 10, ip=ip)


def test_one_address_trying_many_accounts_is_stopped(app, user):
    limit = app.config["LOGIN_ADDRESS_MAX_FAILURES"]
    spray([f"staff{n}@test.example" for n in range(limit)])  # 30 accounts in 5 minutes

    with pytest.raises(throttle.AddressLocked, match="from your network. Wait 10 minutes"):
        authenticate(user.email, PASSWORD, 5)
    assert authenticate(user.email, PASSWORD, 5, ip=ELSEWHERE).id == user.id


def test_an_address_lock_ends_when_the_window_has_passed(app, user):
    limit = app.config["LOGIN_ADDRESS_MAX_FAILURES"]
    spray([f"staff{n}@test.example" for n in range(limit)])  # the first at 0:00

    with pytest.raises(throttle.AddressLocked, match="Wait 1 minute and"):
        authenticate(user.email, PASSWORD, 14, 59)
    assert authenticate(user.email, PASSWORD, 15, 1).id == user.id


def test_signing_in_to_an_account_of_ones_own_does_not_reset_the_address_limit(
        app, user, make, db):
    own = make.user(Role.REFERRER, password=PASSWORD)
    limit = app.config["LOGIN_ADDRESS_MAX_FAILURES"]
    spray([f"staff{n}@test.example" for n in range(limit - 1)])
    assert authenticate(own.email, PASSWORD, 5).id == own.id
    spray(["one-more@test.example"], start=31)

    with pytest.raises(throttle.AddressLocked):
        authenticate(user.email, PASSWORD, 6)


def test_a_locked_address_is_told_so_on_the_sign_in_page(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_MAX_FAILURES", 8)  # fewer requests
    for n in range(8):
        assert sign_in(client, f"staff{n}@test.example", WRONG).status_code == 401

    response = sign_in(client, user.email, PASSWORD)

    assert response.status_code == 401
    assert error_summary(response).startswith(
        "There have been too many attempts to sign in from your network. Wait 15 minutes")
    assert not signed_in(client)


def test_the_sign_in_page_locks_per_address(client, user):
    """Through the form: the browser that guessed is locked, another is not."""
    stranger = {"REMOTE_ADDR": HERE}
    for _ in range(5):
        assert sign_in(client, user.email, WRONG, environ_base=stranger).status_code == 401
    assert LOCKED in error_summary(sign_in(client, user.email, environ_base=stranger))

    response = sign_in(client, user.email, environ_base={"REMOTE_ADDR": ELSEWHERE})

    assert response.status_code == 302


def test_attempts_are_kept_with_their_address(client, user, db):
    sign_in(client, user.email, WRONG, environ_base={"REMOTE_ADDR": HERE})

    attempt = db.session.scalars(select(LoginAttempt).where(LoginAttempt.email == user.email)).one()
    assert (attempt.ip, attempt.succeeded) == (HERE, False)


# --- passwords -------------------------------------------------------------------


def test_passwords_are_stored_only_as_a_salted_hash(make, db):
    first = make.user(Role.REFERRER, password=PASSWORD)
    second = make.user(Role.REFERRER, password=PASSWORD)

    for account in (first, second):
        assert account.password_hash != PASSWORD
        assert PASSWORD not in account.password_hash
        assert check_password_hash(account.password_hash, PASSWORD)
    assert first.password_hash != second.password_hash  # salted


def test_outside_tests_passwords_are_hashed_with_scrypt(app, db, monkeypatch):
    # The test config uses a fast hash; production leaves the method unset.
    assert not hasattr(ProductionConfig, "PASSWORD_HASH_METHOD")
    monkeypatch.delitem(app.config, "PASSWORD_HASH_METHOD", raising=False)

    assert service.hash_password(PASSWORD).startswith("scrypt:")


def test_an_unknown_email_is_checked_against_a_hash_as_slow_as_a_real_one(app, db, monkeypatch):
    """No timing difference between a wrong password and an unknown address."""
    monkeypatch.delitem(app.config, "PASSWORD_HASH_METHOD", raising=False)
    assert service._dummy_hash().startswith("scrypt:")
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
    assert service._dummy_hash().startswith("pbkdf2:sha256:1000$")


# --- signing out -------------------------------------------------------------------


def test_logout_cannot_be_triggered_by_a_link(client, user):
    sign_in(client, user.email)

    assert client.get("/logout").status_code == 405
    assert signed_in(client)


def test_logout_without_the_csrf_token_is_refused(client, user):
    sign_in(client, user.email)

    assert client.post("/logout").status_code == 400
    assert signed_in(client)


def test_logout_ends_the_session(client, user):
    sign_in(client, user.email)

    response = sign_out(client)

    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"
    assert not signed_in(client)


# --- cookies -------------------------------------------------------------------------


def test_remember_me_is_off_by_default(client, user):
    page = client.get("/login").get_data(as_text=True)
    remember_box = re.search(r'<input[^>]*name="remember"[^>]*>', page, re.DOTALL)
    assert remember_box and "checked" not in remember_box.group(0)

    response = sign_in(client, user.email)

    assert response.status_code == 302
    assert "remember_token" not in set_cookies(response)


def test_remember_me_sets_an_http_only_cookie_only_when_asked(client, user):
    response = sign_in(client, user.email, remember=True)

    cookie = set_cookies(response).get("remember_token")
    assert cookie is not None
    assert "HttpOnly" in cookie


def test_session_cookie_is_http_only_and_same_site_lax(client, user):
    response = sign_in(client, user.email)

    cookie = set_cookies(response)["session"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


# --- where signing in leads ----------------------------------------------------------


def test_sign_in_returns_to_the_page_asked_for(client, user):
    response = sign_in_with_next(client, user, "/referrals/new")

    assert response.location == "/referrals/new"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "https:evil.example"]
)
def test_sign_in_ignores_a_next_address_on_another_site(client, user, target):
    response = sign_in_with_next(client, user, target)

    assert response.status_code == 302
    assert "evil.example" not in response.location
    assert client.get(response.location, follow_redirects=True).request.path == "/referrals"


def test_sign_in_never_sends_a_browser_to_a_backslashed_host(client, user):
    # Browsers read /\evil.example as //evil.example.
    response = sign_in_with_next(client, user, "/\\evil.example")

    assert response.status_code == 302
    location = urlsplit(response.location)
    assert not location.scheme and not location.netloc
    assert not response.location.startswith(("//", "/\\"))


def sign_in_with_next(client, user, target):
    url = "/login?next=" + quote(target, safe="")
    return client.submit(url, {"email": user.email, "password": PASSWORD})
