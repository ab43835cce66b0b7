"""Managing staff accounts, each within the manager's scope (referrals/access.py), and
setting a password from an emailed link. Services flush and audit; callers commit.

`base_url` is Kindly's address as people reach it (PUBLIC_URL, or the request's own),
so the links in emails are absolute.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from referrals import access, audit
from referrals.accounts import outbox, tokens
from referrals.auth import passwords
from referrals.auth import service as auth
from referrals.errors import DomainError, NotPermitted
from referrals.extensions import db
from referrals.models import (
    OPEN_STATUSES,
    DirectoryOrganisation,
    PasswordResetRequest,
    Practice,
    Referral,
    Role,
    Team,
    TokenPurpose,
    User,
    utcnow,
)
from referrals.presentation import local_time

SET_PASSWORD_PATH = "/set-password/"
AccountInvalid = auth.AccountInvalid


class LinkInvalid(DomainError):
    def __init__(self):
        super().__init__("This link has expired or has already been used. Ask for a new one.")


def invite_user(*, email: str, name: str, role: Role, practice: Practice | None,
                team: Team | None, actor: User, base_url: str,
                organisation: DirectoryOrganisation | None = None,
                now: datetime | None = None) -> User:
    """Make an account with no password and email its holder a link to set one.

    `actor` may only give a role they manage, at their own practice or in their own team
    (access.may_place). The account cannot sign in until the password is set.
    """
    now = now or utcnow()
    role = Role(role)
    name, email = (name or "").strip(), auth.normalise_email(email)
    if not name:
        raise AccountInvalid("Enter the person's full name", field="name")
    if len(name) > 120:
        raise AccountInvalid("Full name must be 120 characters or fewer", field="name")
    _check_placement(actor, role, practice, team, organisation)
    if "@" not in email or len(email) > 254 or " " in email:
        raise AccountInvalid("Enter an email address in the correct format, like "
                             "name@example.nhs.uk", field="email")
    if auth.find_user(email) is not None:
        raise AccountInvalid("There is already an account with this email address",
                             field="email")
    user = User(email=email, name=name, role=role, password_hash=auth.unusable_password(),
                practice=practice if role.belongs_to_practice else None,
                team=team if role.belongs_to_team else None,
                organisation=organisation if role.belongs_to_organisation else None)
    db.session.add(user)
    db.session.flush()
    lifetime = timedelta(days=current_app.config["INVITE_LINK_VALID_DAYS"])
    secret = tokens.issue(user, TokenPurpose.INVITE, lifetime=lifetime, now=now, created_by=actor)
    config = current_app.config
    outbox.write(to=email, subject=f"Your {config['SERVICE_NAME']} account", now=now, body=(
        f"Hello {name},\n\n{actor.name} has made you a {config['SERVICE_NAME']} account "
        f"({role.label}{_where(user)}).\n\nChoose your password to start using it:\n"
        f"{_link(base_url, secret)}\n\nThe link works once, until {_until(now + lifetime)}. "
        f"If it has expired, ask {actor.name} to send a new one.\n"))
    audit.record("invite", actor=actor, entity_type="user", entity_id=user.id,
                 detail={"role": role.value, "practice_id": user.practice_id,
                         "team_id": user.team_id, "organisation_id": user.organisation_id})
    return user


def change_placement(user: User, *, role: Role, practice: Practice | None, team: Team | None,
                     actor: User, organisation: DirectoryOrganisation | None = None) -> bool:
    """Give `user` a new role, practice or team. Returns False when nothing changed.

    Nobody changes their own; a connector holding open referrals keeps their role and
    team until those are reassigned, so no referral is left with someone who cannot see it.
    """
    _check_manages(actor, user)
    role = Role(role)
    if user.id == actor.id:
        raise AccountInvalid("You cannot change your own role, practice or team", field="role")
    _check_placement(actor, role, practice, team, organisation)
    practice = practice if role.belongs_to_practice else None
    team = team if role.belongs_to_team else None
    organisation = organisation if role.belongs_to_organisation else None
    before = {"role": user.role.value, "practice_id": user.practice_id, "team_id": user.team_id,
              "organisation_id": user.organisation_id}
    after = {"role": role.value, "practice_id": practice.id if practice else None,
             "team_id": team.id if team else None,
             "organisation_id": organisation.id if organisation else None}
    if before == after:
        return False
    if access.holds_caseload(user) and (held := _open_referrals_held(user)):
        raise AccountInvalid(f"{user.name} holds {held} open referral{'s' if held != 1 else ''}. "
                             "Reassign them before changing their role or team", field="role")
    user.role, user.practice, user.team = role, practice, team
    user.organisation = organisation
    if not role.holds_caseload:
        user.capacity = None
    audit.record("change role", actor=actor, entity_type="user", entity_id=user.id,
                 detail={"from": before, "to": after})
    db.session.flush()
    return True


def deactivate(user: User, *, actor: User) -> bool:
    """Stop `user` signing in: every session, remember-me cookie and emailed link ends."""
    _check_manages(actor, user)
    return auth.deactivate_user(user, actor=actor)


def reactivate(user: User, *, actor: User) -> bool:
    _check_manages(actor, user)
    return auth.reactivate_user(user, actor=actor)


def force_password_reset(user: User, *, actor: User, base_url: str,
                         now: datetime | None = None) -> None:
    """`user`'s password stops working and their sessions end; they are emailed a link
    to choose a new one (good as long as an invitation: they cannot sign in meanwhile)."""
    _check_manages(actor, user)
    if user.id == actor.id:
        raise AccountInvalid("Change your own password from the link at the top of the page")
    if not user.active:
        raise AccountInvalid(f"Reactivate {user.name}'s account before resetting its password")
    now = now or utcnow()
    user.password_hash = auth.unusable_password()
    auth.end_sessions(user)
    lifetime = timedelta(days=current_app.config["INVITE_LINK_VALID_DAYS"])
    secret = tokens.issue(user, TokenPurpose.RESET, lifetime=lifetime, now=now, created_by=actor)
    service = current_app.config["SERVICE_NAME"]
    outbox.write(to=user.email, subject=f"Choose a new {service} password", now=now, body=(
        f"Hello {user.name},\n\n{actor.name} has reset your {service} password, so your "
        f"old one no longer works. Choose a new one here:\n{_link(base_url, secret)}\n\n"
        f"The link works once, until {_until(now + lifetime)}.\n"))
    audit.record("force password reset", actor=actor, entity_type="user", entity_id=user.id)
    db.session.flush()


def request_password_reset(email: str, *, ip: str, base_url: str,
                           now: datetime | None = None) -> None:
    """"Forgot password": email a reset link if `email` is an active account's.

    The caller shows one answer whatever happened, so the work is alike either way: the
    request is recorded and audited, and the email is queued, never sent here. Past
    PASSWORD_RESET_MAX_PER_EMAIL requests for one address, or _PER_ADDRESS from one client,
    in the window, nothing is sent (and that is audited).
    """
    now = now or utcnow()
    email = auth.normalise_email(email)[:254]
    config = current_app.config
    since = now - timedelta(minutes=config["PASSWORD_RESET_WINDOW_MINUTES"])
    throttled = (_requests(PasswordResetRequest.email == email, since=since)
                 >= config["PASSWORD_RESET_MAX_PER_EMAIL"]
                 or _requests(PasswordResetRequest.ip == ip, since=since)
                 >= config["PASSWORD_RESET_MAX_PER_ADDRESS"])
    db.session.add(PasswordResetRequest(email=email, ip=ip[:45], at=now))
    user = auth.find_user(email)
    if throttled:
        audit.record("password reset throttled", actor=None, actor_label=email,
                     entity_type="user", entity_id=user.id if user else None)
    elif user is None or not user.active:
        audit.record("request password reset", actor=None, actor_label=email,
                     entity_type="user", detail={"sent": False})
    else:
        minutes = config["RESET_LINK_VALID_MINUTES"]
        secret = tokens.issue(user, TokenPurpose.RESET, lifetime=timedelta(minutes=minutes),
                              now=now)
        service = config["SERVICE_NAME"]
        outbox.write(to=user.email, subject=f"Reset your {service} password", now=now, body=(
            f"Hello {user.name},\n\nSomeone asked to reset your {service} password. If it "
            f"was you, choose a new one here:\n{_link(base_url, secret)}\n\nThe link works "
            f"once, for {minutes} minutes. If it was not you, ignore this email: your "
            "password stays as it is.\n"))
        audit.record("request password reset", actor=None, actor_label=email,
                     entity_type="user", entity_id=user.id, detail={"sent": True})
    db.session.flush()


def link_holder(secret: str | None, *, now: datetime | None = None) -> User:
    """The account a still-valid link is for; LinkInvalid otherwise."""
    token = tokens.find(secret, now=now or utcnow())
    if token is None:
        raise LinkInvalid()
    return token.user


def set_password_from_link(secret: str | None, new_password: str, *,
                           now: datetime | None = None) -> User:
    """Set the password of the link's account and use the link up; every session of
    the account ends (whoever held its old password is signed out)."""
    now = now or utcnow()
    token = tokens.find(secret, now=now)
    if token is None:
        raise LinkInvalid()
    if (weak := passwords.problem(new_password)) is not None:
        raise AccountInvalid(weak, field="new_password")
    if not tokens.spend(token, now=now):
        raise LinkInvalid()
    user = token.user
    user.password_hash = auth.hash_password(new_password)
    auth.end_sessions(user)
    audit.record("set password", actor=user, entity_type="user", entity_id=user.id,
                 detail={"link": token.purpose.value})
    db.session.flush()
    return user


def _check_manages(actor: User, user: User) -> None:
    if not access.may_manage(actor, user):
        raise NotPermitted("You cannot manage this account.")


def _check_placement(actor: User, role: Role, practice: Practice | None,
                     team: Team | None, organisation: DirectoryOrganisation | None = None) -> None:
    if role not in access.manageable_roles(actor):
        raise AccountInvalid("Choose a role you are allowed to give", field="role")
    if role.belongs_to_organisation:
        # Issue 15: a partner works for a directory organisation, not a practice or team.
        if organisation is None or organisation.retired_at is not None:
            raise AccountInvalid("Select the organisation this partner works for",
                                 field="organisation")
        if not access.may_place_in_organisation(actor, role):
            raise AccountInvalid("Choose a role you are allowed to give", field="role")
        return
    if role.belongs_to_practice and practice is None:
        raise AccountInvalid(f"Select the practice a {role.label.lower()} works at",
                             field="practice")
    if role.belongs_to_team and team is None:
        raise AccountInvalid(f"Select the team a {role.label.lower()} works in", field="team")
    if not access.may_place(actor, role, practice, team):
        raise AccountInvalid("You can only add people to your own practice or team",
                             field="practice" if role.belongs_to_practice else "team")


def _open_referrals_held(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Referral).where(
        Referral.connector_id == user.id, Referral.status.in_(sorted(OPEN_STATUSES)))) or 0


def _requests(*where, since: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(PasswordResetRequest)
                             .where(*where, PasswordResetRequest.at > since)) or 0


def _where(user: User) -> str:
    place = user.practice or user.team or user.organisation
    return f", {place.name}" if place is not None else ""


def _link(base_url: str, secret: str) -> str:
    return f"{base_url.rstrip('/')}{SET_PASSWORD_PATH}{secret}"


def _until(moment: datetime) -> str:
    return local_time(moment)
