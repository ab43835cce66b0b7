"""A coordinator's checks and decision on a volunteer (issue 15): references and a DBS
check recorded (dates and who, never a certificate), then approval — which makes the
volunteer's account and emails the set-password invitation — or declining, each with
the reason. Services flush and audit; the caller commits."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app

from referrals import audit, signals
from referrals.accounts import outbox, tokens
from referrals.accounts.service import SET_PASSWORD_PATH
from referrals.auth import service as auth
from referrals.extensions import db
from referrals.models import Role, TokenPurpose, User, Volunteer, VolunteerStatus, utcnow
from referrals.presentation import local_time
from referrals.volunteers.service import (
    DBS_EXPIRED,
    DECIDABLE,
    MAX_NAME,
    MAX_REASON,
    VolunteerInvalid,
    begin_change,
    dbs_current,
    renew_years,
    touch,
    years_before,
)


def record_checks(volunteer: Volunteer, *, actor: User, today: date,
                  references_on: date | None = None, references_by: str = "",
                  dbs_on: date | None = None, dbs_by: str = "",
                  expected_version: int | None = None) -> list[str]:
    """Record that references and/or a DBS check were done: when, and who checked (the
    coordinator, or the person named). No certificate number or image is ever taken. A
    volunteer who lapsed for an expired check is approved again by a current one.
    Returns what was recorded ("references", "DBS check", "approved again")."""
    begin_change(volunteer, expected_version)
    errors = {}
    if references_on is None and dbs_on is None:
        errors["references_on"] = "Enter the date the references were checked, or the DBS check"
    for name, day, label in (("references_on", references_on, "The references check"),
                             ("dbs_on", dbs_on, "The DBS check")):
        if day is not None and day > today:
            errors[name] = f"{label} date must be today or in the past"
    if dbs_on is not None and "dbs_on" not in errors \
            and dbs_on <= years_before(today, renew_years()):
        errors["dbs_on"] = (f"This DBS check is more than {renew_years()} years old: record "
                            "a new check")
    for name, text in (("references_by", references_by), ("dbs_by", dbs_by)):
        if len(text.strip()) > MAX_NAME:
            errors[name] = f"Who checked must be {MAX_NAME} characters or fewer"
    if volunteer.status is VolunteerStatus.LEFT:
        errors["references_on"] = f"{volunteer.name} has left: their record cannot change"
    if errors:
        raise VolunteerInvalid(errors)
    done = []
    if references_on is not None:
        volunteer.references_checked_on, volunteer.references_checked_by = references_on, actor
        volunteer.references_checked_by_name = references_by.strip()
        done.append("references")
    if dbs_on is not None:
        volunteer.dbs_checked_on, volunteer.dbs_checked_by = dbs_on, actor
        volunteer.dbs_checked_by_name = dbs_by.strip()
        done.append("DBS check")
    if (volunteer.status is VolunteerStatus.LAPSED and volunteer.status_reason == DBS_EXPIRED
            and volunteer.references_checked_on and dbs_current(volunteer, today)):
        volunteer.status, volunteer.status_reason = VolunteerStatus.APPROVED, ""
        volunteer.decided_by, volunteer.decided_at = actor, utcnow()
        done.append("approved again")
    touch(volunteer)
    audit.record("record checks", actor=actor, entity_type="volunteer", entity_id=volunteer.id,
                 detail={"recorded": done, "references_on": str(references_on or ""),
                         "dbs_on": str(dbs_on or "")})
    db.session.flush()
    return done


def missing_for_approval(volunteer: Volunteer, today: date) -> list[str]:
    """What must be done before `volunteer` can be approved, in words for the page."""
    missing = []
    if volunteer.references_checked_on is None:
        missing.append("Record that their references were checked")
    if volunteer.dbs_checked_on is None:
        missing.append("Record their DBS check")
    elif not dbs_current(volunteer, today):
        missing.append("Their DBS check has expired: record a new one")
    return missing


def approve(volunteer: Volunteer, *, actor: User, reason: str, today: date, base_url: str,
            expected_version: int | None = None, now: datetime | None = None) -> bool:
    """Approve `volunteer` (both checks done and current), with the reason. The first
    approval makes their VOLUNTEER account in the volunteer's team and emails the link to
    set a password (referrals/accounts: a token and the outbox). Returns True when an
    invitation was sent."""
    begin_change(volunteer, expected_version)
    reason = _reason(reason, "approving")
    if volunteer.status not in DECIDABLE:
        raise VolunteerInvalid({"decision": f"{volunteer.name} has left: they cannot be "
                                            "approved"})
    if volunteer.status is VolunteerStatus.APPROVED:
        raise VolunteerInvalid({"decision": f"{volunteer.name} is already approved"})
    if missing := missing_for_approval(volunteer, today):
        raise VolunteerInvalid({"decision": "Before approving: " + "; ".join(missing)})
    now = now or utcnow()
    invited = False
    if volunteer.user is None:
        if auth.find_user(volunteer.email) is not None:
            raise VolunteerInvalid({"decision": (
                f"There is already a Kindly account for {volunteer.email}. Ask an "
                "administrator to look at that account before approving")})
        volunteer.user = User(email=volunteer.email, name=volunteer.name, role=Role.VOLUNTEER,
                              password_hash=auth.unusable_password(), team=volunteer.team,
                              phone=volunteer.phone)
        db.session.flush()
        _invite(volunteer, actor=actor, base_url=base_url, now=now)
        invited = True
    elif not volunteer.user.active:
        auth.reactivate_user(volunteer.user, actor=actor)
    volunteer.status, volunteer.status_reason = VolunteerStatus.APPROVED, reason
    volunteer.decided_by, volunteer.decided_at = actor, now
    touch(volunteer)
    audit.record("approve", actor=actor, entity_type="volunteer", entity_id=volunteer.id,
                 detail={"invited": invited, "user_id": volunteer.user.id})
    db.session.flush()
    return invited


def decline(volunteer: Volunteer, *, actor: User, reason: str,
            expected_version: int | None = None, now: datetime | None = None) -> None:
    """Decline `volunteer`, with the reason: they are never matched, an account they
    had stops working, and matching ends their matches (signals.volunteer_stepped_back)."""
    begin_change(volunteer, expected_version)
    reason = _reason(reason, "declining")
    if volunteer.status not in DECIDABLE:
        raise VolunteerInvalid({"decision": f"{volunteer.name} has left already"})
    if volunteer.status is VolunteerStatus.DECLINED:
        raise VolunteerInvalid({"decision": f"{volunteer.name} is already declined"})
    if volunteer.user is not None and volunteer.user.active:
        auth.deactivate_user(volunteer.user, actor=actor)
    now = now or utcnow()
    volunteer.status, volunteer.status_reason = VolunteerStatus.DECLINED, reason
    volunteer.decided_by, volunteer.decided_at = actor, now
    touch(volunteer)
    audit.record("decline", actor=actor, entity_type="volunteer", entity_id=volunteer.id)
    db.session.flush()
    signals.volunteer_stepped_back.send(volunteer, actor=actor, actor_label="", now=now)


def _reason(reason: str, doing: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise VolunteerInvalid({"reason": f"Enter the reason for {doing}"})
    if len(reason) > MAX_REASON:
        raise VolunteerInvalid({"reason": f"The reason must be {MAX_REASON} characters or fewer"})
    return reason


def resend_invitation(volunteer: Volunteer, *, actor: User, base_url: str,
                      now: datetime | None = None) -> None:
    """Email an approved volunteer a new link to set their password (the last one expired
    or went astray); every older link stops working."""
    if volunteer.status is not VolunteerStatus.APPROVED or volunteer.user is None \
            or not volunteer.user.active:
        raise VolunteerInvalid({"invite": f"{volunteer.name} is not approved, so they have "
                                          "no account to set a password for"})
    _invite(volunteer, actor=actor, base_url=base_url, now=now or utcnow())
    db.session.flush()


def _invite(volunteer: Volunteer, *, actor: User, base_url: str, now: datetime) -> None:
    config = current_app.config
    lifetime = timedelta(days=config["INVITE_LINK_VALID_DAYS"])
    secret = tokens.issue(volunteer.user, TokenPurpose.INVITE, lifetime=lifetime, now=now,
                          created_by=actor)
    service = config["SERVICE_NAME"]
    link = f"{base_url.rstrip('/')}{SET_PASSWORD_PATH}{secret}"
    outbox.write(to=volunteer.email, subject=f"Welcome to {service}'s volunteers", now=now,
                 body=(f"Hello {volunteer.given_name},\n\nThank you for offering to help. "
                       f"{actor.name} at {volunteer.team.name} has approved you as a "
                       f"volunteer.\n\nChoose a password to see your volunteering page:\n"
                       f"{link}\n\nThe link works once, until {local_time(now + lifetime)}. "
                       f"If it has expired, ask {actor.name} to send a new one.\n"))
    audit.record("invite", actor=actor, entity_type="user", entity_id=volunteer.user.id,
                 detail={"role": Role.VOLUNTEER.value, "team_id": volunteer.team_id,
                         "volunteer_id": volunteer.id})
