"""Which browser is signed in as whom: Flask-Login's loader and the remember-me cookie.

A session cookie holds `<user id>:<session token>` (User.get_id); the loader accepts it
only while the token is still the user's, so changing the token (sign-out, password
change, deactivation) ends every session on its next request. "Keep me signed in" is
our own cookie of the same name Flask-Login would use (so its sign-out and session
protection still delete it), holding a one-use token from referrals/auth/remember.py:
a browser that comes back without a session is signed in by it, and it is replaced.
"""
from __future__ import annotations

import hmac
import re
from datetime import datetime

from flask import Flask, current_app, g, request, session
from flask_login import COOKIE_NAME, current_user, login_user, logout_user

from referrals.auth import remember
from referrals.extensions import db, login_manager
from referrals.models import User, utcnow

_SESSION_ID = re.compile(r"([0-9]{1,10}):([A-Za-z0-9_-]+)")
_MAX_ID = 2**31 - 1  # PostgreSQL's integer: a bigger id would be an error, not a miss


def init_app(app: Flask) -> None:
    login_manager.user_loader(load_user)
    app.before_request(_sign_in_remembered)
    app.after_request(_write_remember_cookie)


def load_user(session_id: str) -> User | None:
    """The user a session belongs to, while that session has not been ended."""
    match = _SESSION_ID.fullmatch(session_id or "")
    if match is None or int(match[1]) > _MAX_ID:
        return None  # e.g. a session from before session tokens: sign in again
    user = db.session.get(User, int(match[1]))
    if user is None or not user.active or not user.session_token:
        return None
    return user if hmac.compare_digest(user.session_token, match[2]) else None


def sign_in(user: User, *, remember_me: bool, now: datetime | None = None) -> None:
    """Start a session for `user` in this browser; with `remember_me`, also issue a token
    good for REMEMBER_COOKIE_DURATION (the caller commits)."""
    now = now or utcnow()
    login_user(user)
    if remember_me:
        expires_at = now + current_app.config["REMEMBER_COOKIE_DURATION"]
        _set_cookie_later(remember.issue(user, expires_at=expires_at, now=now), expires_at)


def sign_out() -> None:
    """End this browser's session; Flask-Login deletes the remember-me cookie."""
    logout_user()


def remembered_until(user: User, now: datetime | None = None) -> datetime | None:
    """When this browser's remember-me token for `user` expires, if it has a valid one."""
    token = remember.find(request.cookies.get(_cookie_name()), now=now or utcnow())
    return token.expires_at if token is not None and token.user_id == user.id else None


def stay_signed_in(user: User, *, remember_until: datetime | None,
                   now: datetime | None = None) -> None:
    """After `user`'s sessions were ended, keep this browser signed in, and remembered
    until the same moment as before if it was (the caller commits)."""
    login_user(user)
    if remember_until is not None:
        token = remember.issue(user, expires_at=remember_until, now=now or utcnow())
        _set_cookie_later(token, remember_until)


def _sign_in_remembered() -> None:
    """A browser with no live session but a remember-me cookie: use the token once, sign
    in, and send its replacement. Runs before the view so the view starts signed in and
    the token's use is committed on its own, before any of the view's work."""
    value = request.cookies.get(_cookie_name())
    if not value or request.endpoint == "static" or current_user.is_authenticated:
        return
    redeemed = remember.redeem(value, now=utcnow())
    if redeemed is None:
        # Leave the cookie alone: a refused token may be one that a request running at
        # the same moment has just replaced, and deleting it here could delete the new one.
        return
    user, new_value, expires_at = redeemed
    db.session.commit()
    login_user(user, fresh=False)
    _set_cookie_later(new_value, expires_at)


def _set_cookie_later(value: str, expires_at: datetime) -> None:
    g.kindly_remember_cookie = (value, expires_at)
    # Flask-Login's strong session protection asks to delete the cookie whenever a
    # session without its mark arrives (even an anonymous one holding only a CSRF token);
    # we are replacing the cookie in this very response, so that request is stale.
    session.pop("_remember", None)


def _write_remember_cookie(response):
    pending = g.pop("kindly_remember_cookie", None)
    if pending is not None:
        value, expires_at = pending
        config = current_app.config
        response.set_cookie(
            _cookie_name(), value, expires=expires_at,
            path=config.get("REMEMBER_COOKIE_PATH", "/"),
            domain=config.get("REMEMBER_COOKIE_DOMAIN"),
            secure=config.get("REMEMBER_COOKIE_SECURE", False),
            httponly=config.get("REMEMBER_COOKIE_HTTPONLY", True),
            samesite=config.get("REMEMBER_COOKIE_SAMESITE"),
        )
    return response


def _cookie_name() -> str:
    return current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
