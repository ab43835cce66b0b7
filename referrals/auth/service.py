"""Accounts and authentication. No request, no flash: callers pass what they know."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from referrals import audit, database
from referrals.accounts import tokens
from referrals.auth import passwords, remember, throttle
from referrals.errors import DomainError
from referrals.extensions import db
from referrals.models import DirectoryOrganisation, Practice, Role, Team, User, utcnow
from referrals.models.user import new_session_token

# Compared against when the email is unknown, so a miss costs as long as a hit: one
# per hash method, made with the method real passwords are hashed with.
_DUMMY_HASHES: dict[str, str] = {}


class InvalidCredentials(DomainError):
    def __init__(self):
        super().__init__("Enter a correct email address and password")


class AccountInvalid(DomainError):
    """The account cannot be made or changed as asked; `field` names the form field."""

    def __init__(self, message: str, *, field: str = ""):
        self.field = field
        super().__init__(message)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_hash_method())


# A stored hash no password matches: an invited account before its first password, or
# one whose password was reset. No "$", so werkzeug refuses it without hashing.
UNUSABLE_PREFIX = "!"


def unusable_password() -> str:
    return UNUSABLE_PREFIX + secrets.token_hex(16)


def awaiting_password(user: User) -> bool:
    """Invited, or reset by someone else, and no password chosen since."""
    return user.password_hash.startswith(UNUSABLE_PREFIX)


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


def _dummy_hash() -> str:
    method = _hash_method()
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not-a-real-password", method=method)
    return _DUMMY_HASHES[method]


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _check_password(email: str, password: str) -> tuple[str, bool]:
    """The account's password hash (a dummy's for an unknown email, so a miss costs as
    long as a hit) and whether `password` matches it.

    The hash is slow on purpose (scrypt: tens of milliseconds of CPU), so it is checked
    after a read that holds up no writer and before the sign-in's write transaction
    begins: on SQLite that transaction holds the database's write lock, and 30 people
    signing in at once queued every page behind their hashes.
    """
    with database.read_only(db.session):
        stored = db.session.scalar(select(User.password_hash).where(User.email == email))
    if not stored or stored.startswith(UNUSABLE_PREFIX):
        # No password yet (invited) or one an administrator reset: as slow as a miss.
        check_password_hash(_dummy_hash(), password or "")
        return stored or "", False
    return stored, check_password_hash(stored, password or "")


def authenticate(email: str, password: str, *, ip: str = "", now: datetime | None = None) -> User:
    """Return the active user these credentials belong to, recording the attempt.

    Raises throttle.SignInLocked while this address, or this account from this address,
    is locked (without checking the password, so guessing stops), otherwise
    InvalidCredentials with one message whatever was wrong. Flushes the attempt; the
    caller commits even on failure.

    The lock and the password are checked before the sign-in's write transaction begins
    (see _check_password); the caller must have no transaction open to benefit.
    """
    now = now or utcnow()
    email = normalise_email(email)
    with database.read_only(db.session):
        throttle.check(email, ip, now)
    stored, matches = _check_password(email, password)
    user = db.session.scalars(select(User).where(User.email == email)).first()
    # The hash checked must still be the account's: a password changed meanwhile wins.
    ok = matches and user is not None and user.active and user.password_hash == stored
    throttle.record(email, ip, succeeded=ok, now=now)
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
    organisation: DirectoryOrganisation | None = None,
) -> User:
    """Create a staff account, checking that it belongs where its role needs it to and
    that its password meets the rules (referrals/auth/passwords.py)."""
    role = Role(role)
    email = normalise_email(email)
    if "@" not in email:
        raise AccountInvalid(f"{email!r} is not an email address", field="email")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountInvalid(f"There is already an account for {email}", field="email")
    if (weak := passwords.problem(password)) is not None:
        raise AccountInvalid(weak, field="password")
    if role.belongs_to_practice and practice is None:
        raise AccountInvalid(f"A {role.label.lower()} must belong to a practice")
    if role.belongs_to_team and team is None:
        raise AccountInvalid(f"A {role.label.lower()} must belong to a connector team")
    if role.belongs_to_organisation and organisation is None:
        raise AccountInvalid(f"A {role.label.lower()} must belong to a directory organisation")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password),
        practice=practice if role.belongs_to_practice else None,
        team=team if role.belongs_to_team else None,
        organisation=organisation if role.belongs_to_organisation else None,
        capacity=capacity if role.holds_caseload else None,
        phone=phone,
    )
    db.session.add(user)
    db.session.flush()
    return user


def change_password(user: User, *, current_password: str, new_password: str, ip: str = "",
                    now: datetime | None = None) -> None:
    """Set `user`'s new password and end every session and remember-me token they have;
    the caller signs the browser that asked back in (referrals/auth/sessions.py).

    A wrong current password is recorded as a failed sign-in from `ip`, so this form
    cannot be used to guess it faster than the sign-in page; the caller commits then too.
    """
    now = now or utcnow()
    throttle.check(user.email, ip, now)
    if not check_password_hash(user.password_hash, current_password or ""):
        throttle.record(user.email, ip, succeeded=False, now=now)
        raise AccountInvalid("Your current password is not right", field="current_password")
    if (weak := passwords.problem(new_password)) is not None:
        raise AccountInvalid(weak, field="new_password")
    if check_password_hash(user.password_hash, new_password):
        raise AccountInvalid("Choose a password different from your current one",
                             field="new_password")
    user.password_hash = hash_password(new_password)
    end_sessions(user)
    audit.record("change password", actor=user, entity_type="user", entity_id=user.id)
    db.session.flush()


def end_sessions(user: User) -> None:
    """Sign `user` out everywhere: every session cookie and remember-me token stops
    working on its next request, whichever worker serves it."""
    user.session_token = new_session_token()
    remember.forget_all(user)
    db.session.flush()


def sign_out(user: User) -> None:
    """Signing out ends every session of the user, not only this browser's: a cookie
    copied before it must not work after it."""
    end_sessions(user)


def deactivate_user(user: User, *, actor: User | None, actor_label: str = "") -> bool:
    """Stop `user` signing in and end every session and remember-me token they have.

    Returns False when they were already inactive. Nobody may deactivate themselves:
    the last administrator would lock everyone out of the account pages.
    """
    if actor is not None and actor.id == user.id:
        raise AccountInvalid("You cannot deactivate your own account")
    if not user.active:
        return False
    user.active = False
    end_sessions(user)
    # Emailed links to set a password die too, or reactivating would revive them.
    tokens.forget_all(user)
    audit.record("deactivate", actor=actor, actor_label=actor_label, entity_type="user",
                 entity_id=user.id)
    db.session.flush()
    return True


def reactivate_user(user: User, *, actor: User | None, actor_label: str = "") -> bool:
    """Let `user` sign in again. Sessions from before deactivation stay ended: their
    session token was replaced then, and is replaced again now. Returns False when they
    were already active."""
    if user.active:
        return False
    user.active = True
    end_sessions(user)
    audit.record("reactivate", actor=actor, actor_label=actor_label, entity_type="user",
                 entity_id=user.id)
    db.session.flush()
    return True


def set_identifiable_exports(user: User, allowed: bool, *, actor: User | None,
                             actor_label: str = "") -> bool:
    """Give `user` (or take away) row-level report exports with names and NHS numbers.
    Returns False when nothing changed. Audited either way it changes."""
    if user.identifiable_exports == allowed:
        return False
    user.identifiable_exports = allowed
    audit.record("grant" if allowed else "revoke", actor=actor, actor_label=actor_label,
                 entity_type="user", entity_id=user.id,
                 detail={"permission": "identifiable-exports"})
    db.session.flush()
    return True


def find_user(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == normalise_email(email))).first()
