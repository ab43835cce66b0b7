"""What a volunteer does with their own record (issue 15): keep what they offer, when
they are free and how to reach them current, step back for a break or for good, come
back, and download what Kindly holds about them. Services flush and audit; callers
commit."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from referrals import audit, geo, signals
from referrals.extensions import db
from referrals.models import (
    SafeguardingConcern,
    User,
    Volunteer,
    VolunteerCheckIn,
    VolunteerHours,
    VolunteerMatch,
    VolunteerOffer,
    VolunteerStatus,
    utcnow,
)
from referrals.postcode import normalise_postcode
from referrals.volunteers.service import (
    DBS_EXPIRED,
    MAX_REASON,
    OFFERS,
    SLOTS,
    VolunteerInvalid,
    begin_change,
    dbs_current,
    touch,
)

BREAK, LEAVE = "break", "leave"
STEP_BACK_STATUS = {BREAK: VolunteerStatus.LAPSED, LEAVE: VolunteerStatus.LEFT}
# Who may change their offers and step back: anyone still with the hub.
ACTIVE = frozenset({VolunteerStatus.APPLIED, VolunteerStatus.APPROVED, VolunteerStatus.LAPSED})


def update_details(volunteer: Volunteer, *, actor: User, offers: list[str], skills: str,
                   availability: list[str], availability_note: str, phone: str,
                   postcode: str, travel_km: float | None,
                   expected_version: int | None = None) -> None:
    """The volunteer's own offers, availability and contact details (the form words the
    errors first; these are the rules whoever sends it)."""
    begin_change(volunteer, expected_version)
    errors = {}
    if not offers or not set(offers) <= set(OFFERS):
        errors["offers"] = "Select at least one way you could help"
    if VolunteerOffer.SKILLS in offers and not skills.strip():
        errors["skills"] = "Tell us which skills you could share"
    if not availability or not set(availability) <= set(SLOTS):
        errors["availability"] = "Select at least one time you are usually free"
    if (code := normalise_postcode(postcode)) is None:
        errors["postcode"] = "Enter a real postcode, like KB1 1AA"
    if volunteer.status not in ACTIVE:
        errors["offers"] = "You have left, so your details can no longer change"
    if errors:
        raise VolunteerInvalid(errors)
    if code != volunteer.postcode:
        place = geo.locate(code)
        volunteer.latitude = place.latitude if place else None
        volunteer.longitude = place.longitude if place else None
    volunteer.postcode = code
    volunteer.offers = [o for o in OFFERS if o in offers]
    volunteer.skills = skills.strip() if VolunteerOffer.SKILLS in offers else ""
    volunteer.availability = [s for s in SLOTS if s in availability]
    volunteer.availability_note, volunteer.phone = availability_note.strip(), phone.strip()
    volunteer.travel_km = travel_km
    volunteer.last_active_at = utcnow()
    touch(volunteer)
    audit.record("update", actor=actor, entity_type="volunteer", entity_id=volunteer.id,
                 detail={"by": "the volunteer"})
    db.session.flush()


def step_back(volunteer: Volunteer, *, actor: User, kind: str, reason: str,
              expected_version: int | None = None, now: datetime | None = None) -> None:
    """"I need a break" (lapsed: not matched until they come back) or "I want to leave"
    (left), with their reason. Their matches keep their history; matching settles the
    running ones (signals.volunteer_stepped_back)."""
    begin_change(volunteer, expected_version)
    reason = (reason or "").strip()
    errors = {}
    if kind not in STEP_BACK_STATUS:
        errors["kind"] = "Select whether you need a break or want to leave"
    if len(reason) > MAX_REASON:
        errors["reason"] = f"Your reason must be {MAX_REASON} characters or fewer"
    if volunteer.status not in ACTIVE:
        errors["kind"] = "You have already left"
    if errors:
        raise VolunteerInvalid(errors)
    now = now or utcnow()
    volunteer.status = STEP_BACK_STATUS[kind]
    volunteer.status_reason = ("Taking a break" if kind == BREAK else "Left") + (
        f": {reason}" if reason else "")
    volunteer.decided_by, volunteer.decided_at, volunteer.last_active_at = actor, now, now
    touch(volunteer)
    audit.record("step back", actor=actor, entity_type="volunteer", entity_id=volunteer.id,
                 detail={"kind": kind})
    db.session.flush()
    signals.volunteer_stepped_back.send(volunteer, actor=actor, actor_label="", now=now)


def on_a_break(volunteer: Volunteer) -> bool:
    return volunteer.status is VolunteerStatus.LAPSED and volunteer.status_reason != DBS_EXPIRED


def come_back(volunteer: Volunteer, *, actor: User, today: date,
              expected_version: int | None = None) -> VolunteerStatus:
    """End a break: approved again if their checks still stand; otherwise lapsed until
    the coordinator records a new DBS check. Returns the status they are now in."""
    begin_change(volunteer, expected_version)
    if not on_a_break(volunteer):
        raise VolunteerInvalid({"kind": "You are not taking a break"})
    if volunteer.references_checked_on and dbs_current(volunteer, today):
        volunteer.status, volunteer.status_reason = VolunteerStatus.APPROVED, ""
    else:
        volunteer.status_reason = DBS_EXPIRED
    volunteer.last_active_at = utcnow()
    touch(volunteer)
    audit.record("come back", actor=actor, entity_type="volunteer", entity_id=volunteer.id,
                 detail={"status": volunteer.status.value})
    db.session.flush()
    return volunteer.status


def export(volunteer: Volunteer, *, actor: User) -> dict:
    """Everything Kindly holds about the volunteer, for them to download: their record,
    their matches (the need only: never anything about the person's health), the hours
    they logged, their matches' check-ins (dates; the hub records them, so the hub's notes
    stay with the hub, and only words the volunteer wrote are theirs to take) and the
    safeguarding concerns they raised (their own words, and where each went). Audited."""
    matches = db.session.scalars(select(VolunteerMatch).where(
        VolunteerMatch.volunteer_id == volunteer.id).order_by(VolunteerMatch.id)).all()
    hours = db.session.scalars(select(VolunteerHours).where(
        VolunteerHours.volunteer_id == volunteer.id).order_by(VolunteerHours.on)).all()
    check_ins = db.session.scalars(select(VolunteerCheckIn).where(
        VolunteerCheckIn.match_id.in_([m.id for m in matches]))
        .order_by(VolunteerCheckIn.recorded_at, VolunteerCheckIn.id)).all()
    # A volunteer's concerns are those their account raised (a record without one has none).
    concerns = db.session.scalars(select(SafeguardingConcern).where(
        SafeguardingConcern.raised_by_id == volunteer.user_id,
        SafeguardingConcern.raised_by_id.is_not(None))
        .order_by(SafeguardingConcern.raised_at, SafeguardingConcern.id)).all()
    audit.record("download", actor=actor, entity_type="volunteer", entity_id=volunteer.id)
    db.session.flush()
    return {
        "volunteer": {
            "given_name": volunteer.given_name, "family_name": volunteer.family_name,
            "email": volunteer.email, "phone": volunteer.phone, "postcode": volunteer.postcode,
            "hub": volunteer.team.name,
            "offers": [VolunteerOffer(o).label for o in volunteer.offers],
            "skills": volunteer.skills,
            "availability": list(volunteer.availability),
            "availability_note": volunteer.availability_note,
            "travel_km": volunteer.travel_km,
            "consent_to_contact": volunteer.consent_to_contact,
            "status": volunteer.status.label, "status_reason": volunteer.status_reason,
            "references_checked_on": _day(volunteer.references_checked_on),
            "dbs_checked_on": _day(volunteer.dbs_checked_on),
            "community_champion_districts": list(volunteer.champion_districts),
            "signed_up_at": volunteer.created_at.isoformat(),
        },
        "matches": [{
            "need": m.request.need.label, "status": m.status.label,
            "proposed_at": m.proposed_at.isoformat(),
            "responded_at": m.responded_at.isoformat() if m.responded_at else None,
            "next_check_in_on": _day(m.next_check_in_on),
            "ended_at": m.ended_at.isoformat() if m.ended_at else None,
            "end_reason": m.end_reason,
        } for m in matches],
        "hours": [{"on": _day(h.on), "hours": h.hours, "note": h.note} for h in hours],
        "check_ins": [_check_in(c, volunteer) for c in check_ins],
        "safeguarding_concerns": [{
            "raised_at": c.raised_at.isoformat(),
            "status": "Sent to the hub's coordinators" + (
                ", and emailed to the hub" if c.hub_emailed else ""),
            "immediate_danger": c.immediate_danger, "concern": c.concern,
            "contact_phone": c.contact_phone,
        } for c in concerns],
    }


def _check_in(check_in: VolunteerCheckIn, volunteer: Volunteer) -> dict:
    mine = volunteer.user_id is not None and check_in.recorded_by_id == volunteer.user_id
    shown = {"need": check_in.match.request.need.label,
             "recorded_at": check_in.recorded_at.isoformat(),
             "next_check_in_on": _day(check_in.next_check_in_on),
             "recorded_by": "You" if mine else "The hub"}
    if mine:
        shown["note"] = check_in.note
    return shown


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None
