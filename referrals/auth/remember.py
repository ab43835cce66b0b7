"""Remember-me tokens: one row per "keep me signed in" cookie, each good for one use.

The cookie holds `<selector>:<secret>`. The selector finds the row; only a SHA-256 of the
secret is stored, and compared in constant time, so a copy of the table signs nobody in.
A token is good until its expiry (fixed when the box was ticked), while its user is
active and still has the session token it was issued under: changing that (sign-out,
password change, deactivation) ends every token at once, even one being used that
moment. Using a token deletes it and issues a replacement with the same expiry. No
request, no cookies here: referrals/auth/sessions.py does those. Callers commit.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from sqlalchemy import delete, select

from referrals.extensions import db
from referrals.models import RememberToken, User

# What issue() writes: two URL-safe base64 strings (24 and 43 characters).
_COOKIE = re.compile(r"([A-Za-z0-9_-]{16,32}):([A-Za-z0-9_-]{32,64})")


def issue(user: User, *, expires_at: datetime, now: datetime) -> str:
    """A new token for `user`, valid until `expires_at`; returns the cookie value."""
    # Expired tokens are of no use to anyone; clearing them here keeps the table small.
    db.session.execute(delete(RememberToken).where(
        RememberToken.user_id == user.id, RememberToken.expires_at <= now))
    selector, secret = secrets.token_urlsafe(18), secrets.token_urlsafe(32)
    db.session.add(RememberToken(
        user_id=user.id, selector=selector, secret_hash=_digest(secret),
        session_token=user.session_token, created_at=now,
        expires_at=expires_at.replace(microsecond=0)))
    db.session.flush()
    return f"{selector}:{secret}"


def find(value: str | None, *, now: datetime) -> RememberToken | None:
    """The valid token this cookie value stands for, or None."""
    match = _COOKIE.fullmatch(value or "")
    if match is None:
        return None  # not one of ours; never sent to the database (it may hold a NUL)
    selector, secret = match.groups()
    token = db.session.scalars(
        select(RememberToken).where(RememberToken.selector == selector)).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _digest(secret)):
        return None
    user = token.user
    if (token.expires_at <= now or not user.active or not user.session_token
            or not hmac.compare_digest(token.session_token, user.session_token)):
        return None
    return token


def redeem(value: str | None, *, now: datetime) -> tuple[User, str, datetime] | None:
    """Use a token: delete it and issue its replacement with the same expiry.

    Returns the user, the new cookie value and the expiry, or None when the token is not
    valid. Of two requests using one token at once, exactly one gets the replacement:
    the delete is conditional on the row still being there.
    """
    token = find(value, now=now)
    if token is None:
        return None
    user, expires_at = token.user, token.expires_at
    deleted = db.session.execute(delete(RememberToken).where(RememberToken.id == token.id))
    if deleted.rowcount != 1:
        return None
    return user, issue(user, expires_at=expires_at, now=now), expires_at


def forget_all(user: User) -> None:
    """Delete every token of `user` (they are already dead once the session token changed)."""
    db.session.execute(delete(RememberToken).where(RememberToken.user_id == user.id))
    db.session.flush()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
