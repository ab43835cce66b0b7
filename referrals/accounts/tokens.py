"""Emailed links to set a password: an invitation, or a password reset.

The link holds a random secret; only its SHA-256 is stored, so a copy of the table sets
nobody's password. A link works once, until it expires, while its account is active,
and only while it is the newest of its account: issuing one deletes the older ones.
No request, no email here: referrals/accounts/service.py does those. Callers commit.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from referrals.extensions import db
from referrals.models import AccountToken, TokenPurpose, User

# What issue() writes: 43 URL-safe base64 characters. Anything else never reaches SQL.
_SECRET = re.compile(r"[A-Za-z0-9_-]{32,64}")


def issue(user: User, purpose: TokenPurpose, *, lifetime: timedelta, now: datetime,
          created_by: User | None = None) -> str:
    """A new link secret for `user`; every older unused link of theirs stops working."""
    forget_all(user)
    secret = secrets.token_urlsafe(32)
    db.session.add(AccountToken(
        user_id=user.id, purpose=purpose, token_hash=digest(secret), created_at=now,
        expires_at=now + lifetime, created_by_id=created_by.id if created_by else None))
    db.session.flush()
    return secret


def find(secret: str | None, *, now: datetime) -> AccountToken | None:
    """The unused, unexpired link this secret stands for, of an active account; or None."""
    if not _SECRET.fullmatch(secret or ""):
        return None
    # The lookup is by a hash of a 256-bit secret: nothing to learn from its timing.
    token = db.session.scalars(
        select(AccountToken).where(AccountToken.token_hash == digest(secret))).first()
    if token is None or token.used_at is not None or token.expires_at <= now \
            or not token.user.active:
        return None
    return token


def spend(token: AccountToken, *, now: datetime) -> bool:
    """Mark the link used. Of two requests using it at once, exactly one gets True: the
    update is conditional on it being unused still."""
    result = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def forget_all(user: User) -> None:
    """Every unused link of `user` stops working (e.g. on deactivation)."""
    db.session.execute(delete(AccountToken).where(AccountToken.user_id == user.id,
                                                  AccountToken.used_at.is_(None)))
    db.session.flush()
