"""Sessions that can be ended: cookies copied before sign-out, a password change or
deactivation are refused after it, and remember-me cookies are used once.

Every request here runs in a fresh app context on a committed database (conftest.py),
so a cookie either signs the browser in by itself or it does not.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from referrals.auth import remember
from referrals.extensions import db
from referrals.models import AuditEvent, RememberToken, Role, User, utcnow
from tests.referrals.auth.conftest import REMEMBER

SESSION = "session"
NEW_PASSWORD = "a brand new passphrase"


def copy_of(browser, *names):
    """The values of these cookies, as someone copying them out of the browser would."""
    values = {name: browser.cookie_value(name) for name in names}
    assert all(values.values()), values
    return values


def change_password(browser, account, new=NEW_PASSWORD):
    return browser.submit("/account/password", {
        "current_password": account.password, "new_password": new, "confirm_password": new})


def as_admin(web):
    admin = web.user(Role.ADMIN)
    browser = web.browser()
    assert browser.sign_in(admin).status_code == 302
    return browser


# --- the harness itself ----------------------------------------------------------------


def test_a_browser_without_cookies_is_not_signed_in_by_another_browsers_sign_in(web):
    account = web.user()
    first = web.browser()
    assert first.sign_in(account).status_code == 302
    assert first.signed_in()

    assert not web.browser().signed_in()


def test_a_copied_session_cookie_alone_signs_a_browser_in(web):
    """Without this the tests below could pass by refusing every copied cookie."""
    account = web.user()
    first = web.browser()
    first.sign_in(account)

    assert web.browser_with(**copy_of(first, SESSION)).signed_in()


# --- signing out -------------------------------------------------------------------------


def test_a_session_cookie_copied_before_sign_out_is_refused_after_it(web):
    account = web.user()
    browser = web.browser()
    browser.sign_in(account)
    copied = copy_of(browser, SESSION)

    assert browser.sign_out().status_code == 302

    assert not browser.signed_in()
    assert not web.browser_with(**copied).signed_in()


def test_a_remember_me_cookie_copied_before_sign_out_is_refused_after_it(web):
    account = web.user()
    browser = web.browser()
    browser.sign_in(account, remember=True)
    copied = copy_of(browser, REMEMBER)  # it works alone: see the remember-me tests

    browser.sign_out()

    assert browser.cookie(REMEMBER) is None  # the browser is told to forget it
    assert not web.browser_with(**copied).signed_in()


def test_signing_out_ends_the_users_sessions_on_every_device(web):
    account = web.user()
    desk, laptop = web.browser(), web.browser()
    desk.sign_in(account)
    laptop.sign_in(account, remember=True)

    desk.sign_out()

    assert not laptop.signed_in()
    assert not web.browser_with(**copy_of(laptop, REMEMBER)).signed_in()
    assert desk.sign_in(account).status_code == 302  # signing in again works
    assert desk.signed_in()


# --- changing your password ----------------------------------------------------------------


def test_a_password_change_ends_every_other_session_and_keeps_this_one(web):
    account = web.user()
    desk, laptop, phone = web.browser(), web.browser(), web.browser()
    desk.sign_in(account)
    laptop.sign_in(account)
    phone.sign_in(account, remember=True)
    copied_remember = copy_of(phone, REMEMBER)

    response = change_password(desk, account)

    assert response.status_code == 302, response.get_data(as_text=True)
    assert desk.signed_in()
    assert not laptop.signed_in()
    assert not web.browser_with(**copied_remember).signed_in()
    assert web.browser().sign_in(account).status_code == 401  # the old password
    assert web.browser().sign_in(account, password=NEW_PASSWORD).status_code == 302


def test_a_password_change_keeps_this_browser_remembered_until_the_same_time(web):
    account = web.user()
    browser = web.browser()
    browser.sign_in(account, remember=True)
    before = browser.cookie(REMEMBER)

    change_password(browser, account)

    after = browser.cookie(REMEMBER)
    assert after is not None and after.value != before.value
    assert after.expires == before.expires
    assert not web.browser_with(**{REMEMBER: before.value}).signed_in()
    assert web.browser_with(**{REMEMBER: after.value}).signed_in()


def test_a_password_change_is_audited(web):
    account = web.user()
    browser = web.browser()
    browser.sign_in(account)

    change_password(browser, account)

    with web.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "change password")).one()
        assert (event.entity_type, event.entity_id, event.actor_id) == ("user", account.id,
                                                                           account.id)
        assert event.ip  # the address the change came from


# --- deactivation ------------------------------------------------------------------------


def deactivate(web, admin_browser, account, action="deactivate"):
    return admin_browser.submit(f"/admin/users/{account.id}/{action}", {}, page="/admin/users")


def test_deactivation_ends_every_session_and_remember_me_cookie(web):
    account = web.user()
    desk, laptop = web.browser(), web.browser()
    desk.sign_in(account)
    laptop.sign_in(account, remember=True)
    copied = {**copy_of(desk, SESSION), **copy_of(laptop, REMEMBER)}
    admin = as_admin(web)

    assert deactivate(web, admin, account).status_code == 302

    assert not desk.signed_in()
    assert not web.browser_with(**copied).signed_in()
    assert desk.sign_in(account).status_code == 401


def test_reactivation_does_not_bring_old_cookies_back(web):
    account = web.user()
    desk, laptop = web.browser(), web.browser()
    desk.sign_in(account)
    laptop.sign_in(account, remember=True)
    session_cookie, remember_cookie = copy_of(desk, SESSION), copy_of(laptop, REMEMBER)
    admin = as_admin(web)

    deactivate(web, admin, account)
    assert deactivate(web, admin, account, "reactivate").status_code == 302

    assert not web.browser_with(**session_cookie).signed_in()
    assert not web.browser_with(**remember_cookie).signed_in()
    assert not desk.signed_in() and not laptop.signed_in()
    fresh = web.browser()
    assert fresh.sign_in(account).status_code == 302
    assert fresh.signed_in()


def test_deactivation_from_the_command_line_ends_sessions_too(web):
    account = web.user()
    browser = web.browser()
    browser.sign_in(account, remember=True)
    copied = copy_of(browser, SESSION, REMEMBER)
    runner = web.app.test_cli_runner()

    # `flask --app wsgi …` pushes an app context for its commands; the runner does not.
    for command in (["deactivate-user", account.email],
                    ["reactivate-user", account.email.upper()]):
        with web.session():
            result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output

    assert not web.browser_with(**copied).signed_in()
    assert not web.browser_with(**{SESSION: copied[SESSION]}).signed_in()
    assert not web.browser_with(**{REMEMBER: copied[REMEMBER]}).signed_in()
    with web.session() as session:
        actions = session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_type == "user", AuditEvent.entity_id == account.id)
            .order_by(AuditEvent.id)).all()
        assert actions == ["deactivate", "reactivate"]


# --- remember me ------------------------------------------------------------------------------


def test_a_remember_me_cookie_signs_in_a_browser_that_lost_its_session(web):
    account = web.user()
    browser = web.browser()
    browser.sign_in(account, remember=True)

    assert web.browser_with(**copy_of(browser, REMEMBER)).signed_in()


def test_a_used_remember_me_cookie_is_replaced_and_refused_afterwards(web):
    account = web.user()
    first = web.browser()
    first.sign_in(account, remember=True)
    old = copy_of(first, REMEMBER)

    returning = web.browser_with(**old)  # the browser was closed and opened again
    assert returning.signed_in()
    new = returning.cookie_value(REMEMBER)

    assert new and new != old[REMEMBER]
    assert not web.browser_with(**old).signed_in()
    assert web.browser_with(**{REMEMBER: new}).signed_in()


def test_a_remember_me_cookie_lasts_seven_days_from_sign_in_however_often_it_is_used(web):
    account = web.user()
    browser = web.browser()
    browser.sign_in(account, remember=True)
    issued = browser.cookie(REMEMBER)
    week = datetime.now(UTC) + timedelta(days=7)
    assert abs((issued.expires - week).total_seconds()) < 60

    value = issued.value
    for _ in range(3):
        returning = web.browser_with(**{REMEMBER: value})
        assert returning.signed_in()
        rotated = returning.cookie(REMEMBER)
        assert rotated.value != value
        assert rotated.expires == issued.expires  # rotation never extends it
        value = rotated.value


def test_an_expired_remember_me_token_is_refused_even_if_the_browser_still_sends_it(web):
    account = web.user()
    browser = web.browser()
    browser.sign_in(account, remember=True)
    with web.session() as session:
        session.execute(update(RememberToken).values(
            expires_at=utcnow() - timedelta(seconds=1)))

    assert not web.browser_with(**copy_of(browser, REMEMBER)).signed_in()


def test_a_tampered_remember_me_cookie_is_refused(web):
    account = web.user()
    browser = web.browser()
    browser.sign_in(account, remember=True)
    selector, _, secret = browser.cookie_value(REMEMBER).partition(":")

    forged = f"{selector}:{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}"
    assert not web.browser_with(**{REMEMBER: forged}).signed_in()
    assert not web.browser_with(**{REMEMBER: f"{account.id}"}).signed_in()


@pytest.mark.parametrize("raw", [
    "", ":", "abc", "a" * 24 + ":", "a" * 24 + ":" + "b" * 43 + ":extra",
    '"' + "a" * 24 + ":\\000" + "b" * 42 + '"',  # a quoted NUL, which PostgreSQL refuses
    '"' + "a" * 23 + "\\000:" + "b" * 43 + '"',
    "%C3%A9" * 24 + ":" + "b" * 43, "a" * 3000,
])
def test_a_malformed_remember_me_cookie_is_ignored_not_an_error(web, raw):
    # Sent as the raw header, exactly as a hostile client could send it.
    client = web.browser(use_cookies=False)
    response = client.get("/notifications", headers={"Cookie": f"{REMEMBER}={raw}"})

    assert response.status_code == 302


def test_only_a_hash_of_the_remember_me_secret_is_stored(web):
    account = web.user()
    browser = web.browser()
    browser.sign_in(account, remember=True)
    selector, _, secret = browser.cookie_value(REMEMBER).partition(":")

    with web.session() as session:
        token = session.scalars(select(RememberToken)).one()
        assert token.selector == selector and token.user_id == account.id
        assert secret not in token.secret_hash


def test_remember_me_cookie_is_http_only_and_same_site(web):
    account = web.user()
    browser = web.browser()
    response = browser.sign_in(account, remember=True)

    header = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith(f"{REMEMBER}="))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Expires=" in header


def test_a_session_from_before_session_tokens_is_refused(web, committed_app):
    """A cookie that names only the user id (as before this change) signs nobody in."""
    account = web.user()
    browser = web.browser()
    browser.sign_in(account)
    with committed_app.test_request_context():
        serializer = committed_app.session_interface.get_signing_serializer(committed_app)
        old_style = serializer.dumps({"_user_id": str(account.id), "_fresh": True})

    assert not web.browser_with(**{SESSION: old_style}).signed_in()


def test_two_requests_using_one_remember_me_token_at_once_sign_in_only_one(web):
    account = web.user()
    apps = [web.app, web.app]
    for _ in range(5):
        with web.session() as session:
            value = remember.issue(session.get(User, account.id),
                                   expires_at=utcnow() + timedelta(days=7), now=utcnow())
        barrier = threading.Barrier(len(apps))

        def use(app, value=value, barrier=barrier):
            with app.app_context():
                try:
                    barrier.wait()
                    result = remember.redeem(value, now=utcnow())
                    db.session.commit()
                    return result is not None
                finally:
                    db.session.remove()

        with ThreadPoolExecutor(len(apps)) as pool:
            outcomes = list(pool.map(use, apps))
        assert sorted(outcomes) == [False, True]


@pytest.mark.parametrize("path", ["/referrals", "/notifications"])
def test_a_browser_with_only_a_stale_session_cookie_is_sent_to_sign_in(web, path):
    account = web.user()
    browser = web.browser()
    browser.sign_in(account)
    copied = copy_of(browser, SESSION)
    browser.sign_out()

    response = web.browser_with(**copied).get(path)

    assert response.status_code == 302
    assert "/login" in response.location
