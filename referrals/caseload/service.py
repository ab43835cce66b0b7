"""Casework rules: accepting and rejecting, contacts, follow-ups and closing a referral.

Every function takes an explicit `actor`, first locks the referral (revisions.begin),
checks it may act (NotPermitted), moves status only through workflow.py, writes its
audit event, moves the referral's version on (the FHIR Task's lastModified changes) and
flushes; the caller commits. A change of state (accept, reject, close) takes the
`expected_version` it was made from and refuses it (StaleReferral) if the referral has
moved on; an addition (a contact, a follow-up) never conflicts with a colleague's.
"""
from __future__ import annotations

from datetime import date, datetime

from referrals import access, audit, revisions, workflow
from referrals.access import Action
from referrals.errors import CaseworkInvalid
from referrals.extensions import db
from referrals.intake.limits import MAX_LENGTHS, too_long_message
from referrals.intake.service import risks_error
from referrals.models import (
    Contact,
    ContactChannel,
    ContactOutcome,
    FollowUp,
    FollowUpStatus,
    Referral,
    ReferralStatus,
    User,
    utcnow,
)

S = ReferralStatus
DEFAULT_MAX_CONTACT_ATTEMPTS = 3
MAX_DURATION_MINUTES = 600
# How the person's referral may be closed from the workspace, and the move each makes.
CLOSINGS = {
    "declined": S.DECLINED,
    "completed": S.COMPLETED,
    "unable_to_contact": S.UNABLE_TO_CONTACT,
}


def _note(text: str | None) -> str:
    return (text or "").strip()


# --- the triage queue -------------------------------------------------------------


def accept_referral(referral: Referral, *, actor: User, expected_version: int | None = None,
                    now: datetime | None = None) -> None:
    """Accept a received referral; an unassigned one becomes the actor's own."""
    revisions.begin(referral, expected_version)
    access.require(actor, Action.ACCEPT, referral)
    now = now or utcnow()
    if referral.connector_id is None:
        workflow.record_assignment(referral, actor, actor=actor, reason="accepted from the queue",
                                   now=now)
    workflow.transition(referral, S.ACCEPTED, actor=actor, now=now)
    audit.record_referral("accept", referral, actor=actor)
    db.session.flush()


def reject_referral(
    referral: Referral, *, actor: User, reason: str, expected_version: int | None = None,
    now: datetime | None = None
) -> None:
    """Reject a received referral as not suitable; the reason is required."""
    revisions.begin(referral, expected_version)
    access.require(actor, Action.REJECT, referral)
    if not _note(reason):
        raise CaseworkInvalid({"reason": "Say why this referral is not suitable"})
    workflow.transition(referral, S.REJECTED, actor=actor, reason=_note(reason), now=now)
    audit.record_referral("reject", referral, actor=actor)
    db.session.flush()


# --- contacts --------------------------------------------------------------------


def failed_attempts(referral: Referral) -> int:
    """Attempts that did not reach the person, counted only until someone is reached."""
    if referral.first_contact_at is not None:
        return 0
    return sum(1 for contact in referral.contacts if not contact.outcome.reached)


def max_attempts(referral: Referral) -> int:
    team = referral.team
    return team.max_contact_attempts if team is not None else DEFAULT_MAX_CONTACT_ATTEMPTS


def offers_unable_to_contact(referral: Referral) -> bool:
    """After the team's number of failed attempts, with nobody reached, offer the closing."""
    return (
        referral.first_contact_at is None
        and workflow.can_move(referral, S.UNABLE_TO_CONTACT)
        and failed_attempts(referral) >= max_attempts(referral)
    )


def record_contact(
    referral: Referral,
    *,
    actor: User,
    at: datetime | None,
    method: ContactChannel | None,
    outcome: ContactOutcome | None,
    duration_minutes: int | None = None,
    notes: str = "",
    now: datetime | None = None,
) -> Contact:
    """Log one contact or attempt.

    The first contact that reaches the person stops the first-contact clock and moves an
    accepted referral to in progress. Raises CaseworkInvalid for a contact in the future,
    a missing method or outcome, or a duration outside 0–600 minutes.
    """
    revisions.begin(referral)
    access.require(actor, Action.RECORD_CONTACT, referral)
    now = now or utcnow()
    errors = {}
    if at is None:
        errors["contact_date"] = "Enter the date of the contact"
    elif at > now:
        errors["contact_date"] = "The contact cannot be in the future"
    if method is None:
        errors["method"] = "Select how you contacted them"
    if outcome is None:
        errors["outcome"] = "Select what happened"
    if duration_minutes is not None and not 0 <= duration_minutes <= MAX_DURATION_MINUTES:
        errors["duration"] = f"Duration must be between 0 and {MAX_DURATION_MINUTES} minutes"
    if errors:
        raise CaseworkInvalid(errors)
    contact = Contact(
        at=at, method=method, outcome=outcome,
        duration_minutes=duration_minutes, notes=_note(notes), recorded_by=actor,
        recorded_at=now,
    )
    referral.contacts.append(contact)  # the collection adds it to the session
    if outcome.reached and referral.first_contact_at is None:
        referral.first_contact_at = at
    if outcome.reached and referral.status is S.ACCEPTED:
        workflow.transition(referral, S.IN_PROGRESS, actor=actor, reason="First contact made",
                            now=now)
    revisions.touch(referral, f"Contact recorded ({method.label.lower()}, "
                              f"{outcome.label.lower()})", actor=actor, now=now)
    db.session.flush()
    audit.record_referral("record-contact", referral, actor=actor, contact_id=contact.id,
                          outcome=outcome.value)
    return contact


# --- follow-ups ------------------------------------------------------------------


def _check_due(due_on: date | None, today: date, field: str) -> dict[str, str]:
    if due_on is None:
        return {field: "Enter the date of the follow-up"}
    if due_on < today:
        return {field: "The follow-up date cannot be in the past"}
    return {}


def schedule_follow_up(
    referral: Referral,
    *,
    actor: User,
    due_on: date | None,
    method: ContactChannel | None,
    purpose: str,
    today: date,
    now: datetime | None = None,
    replaces: FollowUp | None = None,
) -> FollowUp:
    """Schedule the next contact (today or later), with method and purpose."""
    revisions.begin(referral)
    access.require(actor, Action.RECORD_CONTACT, referral)
    now = now or utcnow()
    errors = _check_due(due_on, today, "due_on")
    if method is None:
        errors["follow_up_method"] = "Select how you will contact them"
    if not _note(purpose):
        errors["purpose"] = "Say what the follow-up is for"
    elif len(_note(purpose)) > 300:
        errors["purpose"] = "Purpose must be 300 characters or fewer"
    if errors:
        raise CaseworkInvalid(errors)
    follow_up = FollowUp(
        due_on=due_on, method=method, purpose=_note(purpose),
        status=FollowUpStatus.SCHEDULED, replaces_id=replaces.id if replaces else None,
        created_by_id=actor.id, created_at=now,
    )
    referral.follow_ups.append(follow_up)  # the collection adds it to the session
    revisions.touch(referral, f"Follow-up {'rescheduled' if replaces else 'scheduled'} for "
                              f"{due_on:%-d %b %Y}", actor=actor, now=now)
    db.session.flush()
    audit.record_referral("schedule-follow-up", referral, actor=actor, follow_up_id=follow_up.id)
    return follow_up


def close_follow_up(
    referral: Referral,
    follow_up: FollowUp,
    *,
    actor: User,
    status: FollowUpStatus,
    note: str = "",
    now: datetime | None = None,
) -> FollowUp:
    """Mark a scheduled follow-up done or missed; a missed one needs a note.

    Under the referral's lock the follow-up is read afresh, so of two people marking it
    at once the second is told it is already done (or missed), not overwriting the first.
    """
    revisions.begin(referral)
    revisions.reread(follow_up)
    access.require(actor, Action.RECORD_CONTACT, referral)
    now = now or utcnow()
    _check_open(referral, follow_up)
    if status not in (FollowUpStatus.DONE, FollowUpStatus.MISSED):
        raise CaseworkInvalid({"outcome": "Select done, missed or rescheduled"})
    if status is FollowUpStatus.MISSED and not _note(note):
        raise CaseworkInvalid({"note": "Say what happened"})
    follow_up.status = status
    follow_up.closed_at = now
    follow_up.outcome_note = _note(note)
    revisions.touch(referral, f"Follow-up due {follow_up.due_on:%-d %b %Y} marked "
                              f"{status.label.lower()}", actor=actor, now=now)
    audit.record_referral(f"follow-up-{status.value}", referral, actor=actor,
                          follow_up_id=follow_up.id)
    db.session.flush()
    return follow_up


def reschedule_follow_up(
    referral: Referral,
    follow_up: FollowUp,
    *,
    actor: User,
    due_on: date | None,
    note: str = "",
    today: date,
    now: datetime | None = None,
) -> FollowUp:
    """Mark the follow-up rescheduled and schedule its replacement (same method and purpose)."""
    revisions.begin(referral)
    revisions.reread(follow_up)
    access.require(actor, Action.RECORD_CONTACT, referral)
    now = now or utcnow()
    _check_open(referral, follow_up)
    if errors := _check_due(due_on, today, "new_due_on"):
        raise CaseworkInvalid(errors)
    follow_up.status = FollowUpStatus.RESCHEDULED
    follow_up.closed_at = now
    follow_up.outcome_note = _note(note)
    return schedule_follow_up(
        referral, actor=actor, due_on=due_on, method=follow_up.method, purpose=follow_up.purpose,
        today=today, now=now, replaces=follow_up,
    )


def _check_open(referral: Referral, follow_up: FollowUp) -> None:
    if follow_up.referral_id != referral.id:
        raise CaseworkInvalid({"outcome": "That follow-up belongs to another referral"})
    if follow_up.status is not FollowUpStatus.SCHEDULED:
        raise CaseworkInvalid(
            {"outcome": f"This follow-up is already {follow_up.status.label.lower()}"}
        )


# --- risks -----------------------------------------------------------------------


def record_risks(
    referral: Referral,
    *,
    actor: User,
    risks: list[str],
    no_known_risks: bool,
    expected_version: int | None,
    now: datetime | None = None,
) -> None:
    """Record the risks to visitors that the referrer did not state (or that there are none).

    Only while they are not stated, and only against the version of the referral the
    connector was shown: a stale `expected_version` is refused (StaleReferral), so of two
    people recording at once exactly one wins and the other sees what changed.
    """
    revisions.begin(referral, expected_version)
    access.require(actor, Action.RECORD_RISKS, referral)
    if referral.risks_stated:
        raise CaseworkInvalid({"risks": "The risks have already been recorded"})
    listed = [risk.strip() for risk in risks if risk.strip()]
    message = risks_error(listed, no_known_risks, required=True)
    if message is None and len("\n".join(listed)) > MAX_LENGTHS["risks"]:
        message = too_long_message("risks")
    if message:
        raise CaseworkInvalid({"risks": message})
    referral.risks = listed
    referral.no_known_risks = bool(no_known_risks)
    revisions.touch(referral, "Known risks recorded" if listed else "No known risks recorded",
                    actor=actor, now=now)
    audit.record_referral("record-risks", referral, actor=actor, risks=len(listed),
                          no_known_risks=referral.no_known_risks)
    db.session.flush()


# --- closing ---------------------------------------------------------------------


def closings_offered(referral: Referral) -> list[str]:
    """The closings the workspace offers now (unable to contact only after N attempts)."""
    offered = []
    for name, status in CLOSINGS.items():
        if status is S.UNABLE_TO_CONTACT:
            if offers_unable_to_contact(referral):
                offered.append(name)
        elif workflow.can_move(referral, status):
            offered.append(name)
    return offered


def close_referral(
    referral: Referral, closing: str, *, actor: User, note: str, gp_actions: str = "",
    coded_only: bool = False, expected_version: int | None = None,
    now: datetime | None = None
) -> None:
    """Decline, complete, or close as unable to contact, with a required closing note.

    Unable to contact is refused until the team's number of failed attempts is reached.
    Open follow-ups are left as they are for the record. `gp_actions` (blank: none) and
    `coded_only` are set before the move, so the letter written as it closes has them.
    """
    revisions.begin(referral, expected_version)
    access.require(actor, Action.CLOSE, referral)
    if closing not in closings_offered(referral):
        raise CaseworkInvalid({"closing": "Select one of the options"})
    if not _note(note):
        raise CaseworkInvalid({"note": "Write a closing note"})
    referral.gp_actions = (gp_actions or "").strip()
    referral.coded_only = bool(coded_only)
    workflow.transition(referral, CLOSINGS[closing], actor=actor, reason=_note(note), now=now)
    audit.record_referral(f"close-{closing}", referral, actor=actor)
    db.session.flush()


# --- what goes back to the practice --------------------------------------------------


def set_coded_only(
    referral: Referral, *, actor: User, coded_only: bool, expected_version: int | None,
    now: datetime | None = None
) -> None:
    """Record the person's wish that only coded information go back to their practice
    (or that it may have their words again), as soon as they say so.

    Every output asks referrals.sharing, so the practice's pages and FHIR reads honour
    it at once; a letter already made stays as it was (produce a new version). Refuses
    a form rendered from an older version of the referral (StaleReferral): someone else
    changed it meanwhile.
    """
    revisions.begin(referral, expected_version)
    access.require(actor, Action.SET_SHARING, referral)
    now = now or utcnow()
    if referral.coded_only == bool(coded_only):
        return
    referral.coded_only = bool(coded_only)
    revisions.touch(referral, "Sharing: coded information only" if coded_only
                    else "Sharing: the practice may see what is written", actor=actor, now=now)
    audit.record_referral("set-sharing", referral, actor=actor, coded_only=bool(coded_only))
    db.session.flush()
