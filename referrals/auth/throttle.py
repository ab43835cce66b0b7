"""Sign-in throttling, kept in the database so every worker shares it.

Two limits over a sliding window of LOGIN_FAILURE_WINDOW_MINUTES:

- one account from one client address: LOGIN_MAX_FAILURES failures since that address
  last signed in to it lock that pair, and only that pair. The real user at another
  address can still sign in, so guessing cannot lock a member of staff out;
- one client address across every account: LOGIN_ADDRESS_MAX_FAILURES failures lock the
  address, which stops someone trying a few passwords against many accounts. A success
  does not reset it, or one account of the attacker's own would.

An attempt refused by a lock is not stored: counted as a failure, it would keep the lock
on past the time the message promises. Unknown email addresses lock exactly like real
ones, so the replies say nothing about which accounts exist.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from referrals.errors import DomainError
from referrals.extensions import db
from referrals.models import LoginAttempt


class SignInLocked(DomainError):
    def __init__(self, message: str, minutes: int):
        self.minutes = minutes
        super().__init__(
            f"{message} Wait {minutes} minute{'s' if minutes != 1 else ''} and try again, "
            "or ask your administrator to help."
        )


class AccountLocked(SignInLocked):
    def __init__(self, minutes: int):
        super().__init__("There have been too many attempts to sign in to this account "
                         "from your network.", minutes)


class AddressLocked(SignInLocked):
    def __init__(self, minutes: int):
        super().__init__("There have been too many attempts to sign in from your network.",
                         minutes)


def check(email: str, ip: str, now: datetime) -> None:
    """Raise AddressLocked or AccountLocked if sign-in from `ip` to `email` must wait."""
    config = current_app.config
    window = timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"])
    address_limit = config["LOGIN_ADDRESS_MAX_FAILURES"]
    address_failures = _failures(LoginAttempt.ip == ip, since=now - window, limit=address_limit)
    if len(address_failures) >= address_limit:
        raise AddressLocked(_minutes_until(address_failures[-1] + window, now))

    account_limit = config["LOGIN_MAX_FAILURES"]
    pair = (LoginAttempt.email == email, LoginAttempt.ip == ip)
    since = now - window
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(*pair, LoginAttempt.succeeded.is_(True)))
    if last_success is not None and last_success > since:
        since = last_success
    failures = _failures(*pair, since=since, limit=account_limit)
    if len(failures) >= account_limit:
        raise AccountLocked(_minutes_until(failures[-1] + window, now))


def record(email: str, ip: str, *, succeeded: bool, now: datetime) -> None:
    """Store one attempt (flushed; the caller commits, on failure too)."""
    db.session.add(LoginAttempt(email=email, ip=ip, at=now, succeeded=succeeded))
    db.session.flush()


def _failures(*where, since: datetime, limit: int) -> list[datetime]:
    """The newest `limit` failed attempts matching `where` after `since`, newest first."""
    return list(db.session.scalars(
        select(LoginAttempt.at)
        .where(*where, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
        .order_by(LoginAttempt.at.desc())
        .limit(limit)
    ))


def _minutes_until(unlock_at: datetime, now: datetime) -> int:
    return max(1, -(-int((unlock_at - now).total_seconds()) // 60))
