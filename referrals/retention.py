"""Retention (issue 15): volunteer records and the phone line's call log are not kept
for ever. A scheduled job removes them after a configurable time of inactivity
(VOLUNTEER_RETENTION_DAYS, CALL_LOG_RETENTION_DAYS) and audits each run with its counts
and ids.

A volunteer's clock is Volunteer.last_active_at (touched when they sign in, and by the
services that change their record). A volunteer with a proposed or running match is
active, whatever the clock says. Once past the time, a volunteer with no history is
deleted; one whose matches or hours are part of other people's history keeps that
history, but their personal details are removed from it and their account is closed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, exists, select, update

from referrals import access, audit
from referrals.auth import service as auth_service
from referrals.extensions import db
from referrals.models import (
    ChampionSuggestion,
    HubCall,
    MatchStatus,
    User,
    Volunteer,
    VolunteerHours,
    VolunteerMatch,
    VolunteerStatus,
    utcnow,
)

ACTOR_LABEL = "Retention job"
REMOVED = "Removed"
RUNNING = (MatchStatus.PROPOSED, MatchStatus.ACCEPTED)


@dataclass
class RetentionRun:
    calls_deleted: list[int] = field(default_factory=list)
    volunteers_deleted: list[int] = field(default_factory=list)
    volunteers_anonymised: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (len(self.calls_deleted) + len(self.volunteers_deleted)
                + len(self.volunteers_anonymised))


def purge(*, now: datetime, volunteer_days: int, call_days: int) -> RetentionRun:
    """Delete calls received more than `call_days` ago and volunteers inactive for more
    than `volunteer_days` (as above), and audit the run. Flushes; the caller commits."""
    run = RetentionRun()
    call_cutoff = now - timedelta(days=call_days)
    run.calls_deleted = list(db.session.scalars(
        select(HubCall.id).where(HubCall.received_at < call_cutoff).order_by(HubCall.id)))
    if run.calls_deleted:
        db.session.execute(delete(HubCall).where(HubCall.id.in_(run.calls_deleted)))

    running = exists().where(VolunteerMatch.volunteer_id == Volunteer.id,
                             VolunteerMatch.status.in_(RUNNING))
    expired = list(db.session.scalars(
        select(Volunteer).where(Volunteer.last_active_at < now - timedelta(days=volunteer_days),
                                Volunteer.given_name != REMOVED, ~running)
        .order_by(Volunteer.id)))
    for volunteer in expired:
        _close_account(volunteer)
        if _has_history(volunteer):
            _anonymise(volunteer, now)
            run.volunteers_anonymised.append(volunteer.id)
        else:
            db.session.execute(update(ChampionSuggestion)
                               .where(ChampionSuggestion.volunteer_id == volunteer.id)
                               .values(volunteer_id=None))
            db.session.delete(volunteer)
            run.volunteers_deleted.append(volunteer.id)
    db.session.flush()
    audit.record("delete", actor=None, actor_label=ACTOR_LABEL, entity_type="retention",
                 detail={"calls_deleted": len(run.calls_deleted),
                         "call_ids": run.calls_deleted,
                         "volunteers_deleted": len(run.volunteers_deleted),
                         "volunteer_ids_deleted": run.volunteers_deleted,
                         "volunteers_anonymised": len(run.volunteers_anonymised),
                         "volunteer_ids_anonymised": run.volunteers_anonymised,
                         "volunteer_days": volunteer_days, "call_days": call_days})
    return run


def _has_history(volunteer: Volunteer) -> bool:
    return bool(db.session.scalar(select(
        exists().where(VolunteerMatch.volunteer_id == volunteer.id)
        | exists().where(VolunteerHours.volunteer_id == volunteer.id))))


def _close_account(volunteer: Volunteer) -> None:
    """The volunteer's account stops working and forgets who it was; the row stays, as
    the audit trail names it."""
    user = volunteer.user
    if user is None:
        return
    auth_service.deactivate_user(user, actor=None, actor_label=ACTOR_LABEL)
    user.name = "Removed volunteer"
    user.email = f"removed-volunteer-{user.id}@invalid.example"
    volunteer.user_id = None


def _anonymise(volunteer: Volunteer, now: datetime) -> None:
    """Keep the matches and hours (other people's history), without the volunteer's
    personal details."""
    volunteer.given_name, volunteer.family_name = REMOVED, ""
    volunteer.email = volunteer.phone = volunteer.postcode = ""
    volunteer.latitude = volunteer.longitude = volunteer.travel_km = None
    volunteer.offers, volunteer.skills = [], ""
    volunteer.availability, volunteer.availability_note = [], ""
    volunteer.champion_districts = []
    volunteer.consent_to_contact = False
    volunteer.status, volunteer.status_reason = VolunteerStatus.LEFT, "Removed after inactivity"
    volunteer.version += 1


def run_job(*, now: datetime) -> int:
    """The scheduled job: one purge with the configured times, committed."""
    config = current_app.config
    run = purge(now=now, volunteer_days=int(config["VOLUNTEER_RETENTION_DAYS"]),
                call_days=int(config["CALL_LOG_RETENTION_DAYS"]))
    db.session.commit()
    return run.total


def touch_volunteer(sender, user: User, **extra) -> None:
    """A volunteer signing in is active: their retention clock starts again (committed
    with the sign-in)."""
    if not access.holds_volunteer_record(user):
        return
    db.session.execute(update(Volunteer).where(Volunteer.user_id == user.id)
                       .values(last_active_at=utcnow()))
