"""Accounts and authentication. No request, no flash: callers pass what they know."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from referrals.errors import DomainError
from referrals.extensions import db
from referrals.models import LoginAttempt, Practice, Role, Team, User, utcnow

# Compared against when the email is unknown, so a miss costs as long as a hit.
_DUMMY_HASH = generate_password_hash("not-a-real-password")
MIN_PASSWORD_LENGTH = 10


class InvalidCredentials(DomainError):
    def __init__(self):
        super().__init__("Enter a correct email address and password")


class AccountLocked(DomainError):
    def __init__(self, minutes: int):
        super().__init__(
            "There have been too many attempts to sign in to this account. "
            f"Wait {minutes} minute{'s' if minutes != 1 else ''} and try again, "
            "or ask your administrator to help."
        )


class AccountInvalid(DomainError):
    pass


def hash_password(password: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def recent_failures(email: str, now: datetime) -> list[datetime]:
    """Failed attempts inside the window, since the last success; newest first."""
    window = timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
        )
    )
    since = now - window
    if last_success is not None and last_success > since:
        since = last_success
    return list(
        db.session.scalars(
            select(LoginAttempt.at)
            .where(
                LoginAttempt.email == email,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at > since,
            )
            .order_by(LoginAttempt.at.desc())
        )
    )


def authenticate(email: str, password: str, *, ip: str = "", now: datetime | None = None) -> User:
    """Return the active user these credentials belong to, recording the attempt.

    Raises AccountLocked after LOGIN_MAX_FAILURES failures within the window
    (without checking the password, so guessing stops), otherwise
    InvalidCredentials with one message whatever was wrong. Flushes the
    attempt; the caller commits even on failure. An attempt refused by the
    lock is not stored: counted as a failure, it would keep the account
    locked past the time the message promises.
    """
    now = now or utcnow()
    email = normalise_email(email)
    config = current_app.config
    failures = recent_failures(email, now)
    if len(failures) >= config["LOGIN_MAX_FAILURES"]:
        unlock_at = failures[config["LOGIN_MAX_FAILURES"] - 1] + timedelta(
            minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"]
        )
        raise AccountLocked(max(1, -(-int((unlock_at - now).total_seconds()) // 60)))

    user = db.session.scalars(select(User).where(User.email == email)).first()
    stored = user.password_hash if user is not None else _DUMMY_HASH
    ok = check_password_hash(stored, password or "") and user is not None and user.active
    db.session.add(LoginAttempt(email=email, at=now, succeeded=ok, ip=ip))
    db.session.flush()
    if not ok:
        raise InvalidCredentials()
    return user


def create_user(
    *,
    email: str,
    name: str,
    role: Role,
    password: str,
    practice: Practice | None = None,
    team: Team | None = None,
    capacity: int | None = None,
    phone: str = "",
) -> User:
    """Create a staff account, checking that it belongs where its role needs it to."""
    role = Role(role)
    email = normalise_email(email)
    if "@" not in email:
        raise AccountInvalid(f"{email!r} is not an email address")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountInvalid(f"There is already an account for {email}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountInvalid(f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters")
    if role.belongs_to_practice and practice is None:
        raise AccountInvalid(f"A {role.label.lower()} must belong to a practice")
    if role.belongs_to_team and team is None:
        raise AccountInvalid(f"A {role.label.lower()} must belong to a connector team")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password),
        practice=practice if role.belongs_to_practice else None,
        team=team if role.belongs_to_team else None,
        capacity=capacity if role.holds_caseload else None,
        phone=phone,
    )
    db.session.add(user)
    db.session.flush()
    return user
