"""Safeguarding concerns: a volunteer (about a person in one of their matches) or a partner
(about a person handed over to their organisation) tells the hub they are worried.

Every active coordinator of the team is told in the app at once; when none of them has
signed in today (local time), the hub's own address (HUB_EMAIL) is emailed too, so a
concern raised on a day nobody is watching the app still reaches a person. Audited.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from sqlalchemy import func, select

from referrals import access, audit
from referrals.accounts import outbox
from referrals.errors import CaseworkInvalid, NotPermitted
from referrals.extensions import db
from referrals.models import (
    Connection,
    LoginAttempt,
    Referral,
    SafeguardingConcern,
    User,
    VolunteerMatch,
    utcnow,
)
from referrals.notifications.service import notify

MAX_CONCERN = 5000


def raise_concern(*, actor: User, concern: str, immediate_danger: bool = False,
                  contact_phone: str = "", match: VolunteerMatch | None = None,
                  connection: Connection | None = None,
                  now: datetime | None = None) -> SafeguardingConcern:
    """Store the concern, tell every coordinator of the team, and email the hub when no
    coordinator has signed in today. Exactly one of `match` and `connection`."""
    if (match is None) == (connection is None):
        raise NotPermitted("A concern is about one match or one handover.")
    if match is not None and not access.may_raise_concern_about_match(actor, match):
        raise NotPermitted("You can raise a concern only about a person you support.")
    if connection is not None and not access.may_raise_concern_about_connection(actor,
                                                                                connection):
        raise NotPermitted("You can raise a concern only about a person handed over to you.")
    concern = (concern or "").strip()
    errors = {}
    if not concern:
        errors["concern"] = "Enter what you are worried about"
    elif len(concern) > MAX_CONCERN:
        errors["concern"] = f"Your concern must be {MAX_CONCERN} characters or fewer"
    if len((contact_phone or "").strip()) > 30:
        errors["contact_phone"] = "Enter a phone number of 30 characters or fewer"
    if errors:
        raise CaseworkInvalid(errors)
    now = now or utcnow()
    if match is not None:
        team_id, referral_id = match.request.team_id, match.request.referral_id
    else:
        referral = db.session.get(Referral, connection.referral_id)
        team_id, referral_id = referral.team_id, referral.id
    raised = SafeguardingConcern(
        team_id=team_id, match_id=match.id if match else None,
        connection_id=connection.id if connection else None, referral_id=referral_id,
        concern=concern, immediate_danger=bool(immediate_danger),
        contact_phone=(contact_phone or "").strip(), raised_by_id=actor.id, raised_at=now)
    db.session.add(raised)
    db.session.flush()
    link = url_for("volunteering.concern", concern_id=raised.id)
    title = ("URGENT safeguarding concern" if immediate_danger
             else "Safeguarding concern") + f" raised by {actor.name}"
    coordinators = list(db.session.scalars(
        select(User).where(access.concern_recipients(team_id))))
    for coordinator in coordinators:
        notify(coordinator, "safeguarding-concern", title, "Open it to read and act.", link,
               now=now)
    hub_email = current_app.config["HUB_EMAIL"]
    if hub_email and not _any_signed_in_today(coordinators, now):
        base = current_app.config["PUBLIC_URL"].rstrip("/")
        outbox.write(to=hub_email, subject=title, body=(
            f"{actor.name} ({actor.role.label.lower()}) raised a safeguarding concern and no "
            f"coordinator of the team has signed in today.\n\n"
            f"Read it in Kindly{': ' + base + link if base else ' (Safeguarding concerns)'}.\n"
        ), now=now)
        raised.hub_emailed = True
    db.session.flush()
    audit.record("safeguarding-concern", actor=actor, entity_type="safeguarding_concern",
                 entity_id=raised.id, patient_id=_patient_id(referral_id),
                 detail={"match_id": raised.match_id, "connection_id": raised.connection_id,
                         "hub_emailed": raised.hub_emailed,
                         "coordinators_told": len(coordinators)})
    return raised


def _patient_id(referral_id: int | None) -> int | None:
    if referral_id is None:
        return None
    return db.session.scalar(select(Referral.patient_id).where(Referral.id == referral_id))


def _any_signed_in_today(users: list[User], now: datetime) -> bool:
    """Has any of `users` signed in since midnight, local time?"""
    if not users:
        return False
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    midnight = datetime.combine(now.astimezone(zone).date(), time(), tzinfo=zone)
    return db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            func.lower(LoginAttempt.email).in_([u.email.lower() for u in users]),
            LoginAttempt.succeeded.is_(True), LoginAttempt.at >= midnight)) > 0



RECENT_DAYS = 30


def recent(user: User, *, now: datetime | None = None) -> list[SafeguardingConcern]:
    """The concerns of the last RECENT_DAYS days `user` may read, newest first."""
    since = (now or utcnow()) - timedelta(days=RECENT_DAYS)
    return list(db.session.scalars(
        access.scope_concerns(select(SafeguardingConcern), user)
        .where(SafeguardingConcern.raised_at >= since)
        .order_by(SafeguardingConcern.raised_at.desc(), SafeguardingConcern.id.desc())))
