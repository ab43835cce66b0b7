"""Volunteer requests and matches: asking for a volunteer, ranking and proposing, the
volunteer's answer, check-ins, hours, and ending safely.

Services take an explicit `actor`, refuse what access.py does not allow (NotPermitted),
raise CaseworkInvalid per form field, audit, flush, and never commit. A change to a match
names the version it started from: of two at once, the second gets StaleMatch, told what
it now is. A match is never deleted: ending it keeps its whole history."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import func, select

from referrals import access, audit, geo, revisions
from referrals.accounts import outbox
from referrals.errors import CaseworkInvalid, DomainError, NotPermitted
from referrals.extensions import db
from referrals.models import (
    CheckInRating,
    MatchStatus,
    Referral,
    User,
    Volunteer,
    VolunteerCheckIn,
    VolunteerHours,
    VolunteerMatch,
    VolunteerOffer,
    VolunteerRequest,
    VolunteerStatus,
    utcnow,
)
from referrals.notifications.service import notify
from referrals.scheduler import local_day
from referrals.volunteering import ranking
from referrals.volunteers import service as volunteers

FIRST_CHECK_IN = timedelta(weeks=2)
MAX_NOTE = 2000
MAX_HOURS = 24
RUNNING = (MatchStatus.PROPOSED, MatchStatus.ACCEPTED)


class StaleMatch(DomainError):
    """The match changed after the version a change started from; `match` is its state now."""

    def __init__(self, match: VolunteerMatch):
        self.match = match
        super().__init__(f"Someone else changed this match since you opened it: it is now "
                         f"{match.status.label.lower()}.")


# --- requests -----------------------------------------------------------------------


def create_request(referral: Referral, *, need: str | None, when: list[str], notes: str,
                   actor: User, now: datetime | None = None) -> VolunteerRequest:
    """Record that the referral's person needs a volunteer. Where they live is taken from
    their postcode now, for ranking by distance."""
    revisions.lock(referral)
    if not access.may_ask_for_volunteer(actor, referral):
        raise NotPermitted("Only the connector holding this referral, or a coordinator of "
                           "its team, can ask for a volunteer while it is active.")
    errors = {}
    if need not in {o.value for o in VolunteerOffer}:
        errors["need"] = "Select what the person needs a volunteer for"
    if any(slot not in ranking.SLOTS for slot in when):
        errors["when"] = "Select days and times from the list"
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTE:
        errors["notes"] = f"Notes must be {MAX_NOTE} characters or fewer"
    if errors:
        raise CaseworkInvalid(errors)
    now = now or utcnow()
    place = geo.locate(referral.patient.postcode)
    request = VolunteerRequest(
        team_id=referral.team_id, referral=referral, need=VolunteerOffer(need),
        postcode=referral.patient.postcode,
        latitude=place.latitude if place else None, longitude=place.longitude if place else None,
        when=[slot for slot in ranking.SLOTS if slot in when], notes=notes, status="open",
        created_by_id=actor.id, created_at=now)
    db.session.add(request)
    revisions.touch(referral, f"Volunteer asked for: {request.need.label.lower()}",
                    actor=actor, now=now)
    db.session.flush()
    audit.record_referral("volunteer-request", referral, actor=actor, request_id=request.id,
                          need=request.need.value)
    return request


def open_requests(user: User) -> list[VolunteerRequest]:
    """The requests `user` works that still need a volunteer, oldest first."""
    return list(db.session.scalars(
        access.scope_volunteer_requests(select(VolunteerRequest), user)
        .where(VolunteerRequest.status == "open")
        .order_by(VolunteerRequest.created_at, VolunteerRequest.id)))


def requests_for(referral: Referral) -> list[VolunteerRequest]:
    return list(db.session.scalars(
        select(VolunteerRequest).where(VolunteerRequest.referral_id == referral.id)
        .order_by(VolunteerRequest.created_at.desc(), VolunteerRequest.id.desc())))


def matches_for(request: VolunteerRequest) -> list[VolunteerMatch]:
    return list(db.session.scalars(
        select(VolunteerMatch).where(VolunteerMatch.request_id == request.id)
        .order_by(VolunteerMatch.proposed_at.desc(), VolunteerMatch.id.desc())))


def first_name(request: VolunteerRequest) -> str:
    """Who the person is, to a volunteer: their first name and nothing more."""
    return request.referral.patient.given_name if request.referral else request.given_name


def contact_phone(request: VolunteerRequest) -> str:
    return request.referral.patient.phone if request.referral else request.phone


def rough_area(request: VolunteerRequest) -> str:
    """The postcode district ("LS6"): near enough to plan, not an address."""
    return geo.outward_code(request.postcode) if request.postcode else ""


def close_request(request: VolunteerRequest, *, reason: str, actor: User,
                  expected_version: int | None = None) -> None:
    """The person no longer needs a volunteer: close the request (with why). Refused while
    a proposal waits or a match runs: end that first, so its volunteer is told."""
    if not access.may_work_request(actor, request):
        raise NotPermitted("You cannot close this request.")
    db.session.execute(select(VolunteerRequest.id).where(VolunteerRequest.id == request.id)
                       .with_for_update())
    revisions.reread(request)
    if expected_version is not None and expected_version != request.version:
        raise CaseworkInvalid({"reason": "Someone else changed this request since you opened "
                                         "it: check it, then close it again"})
    reason = (reason or "").strip()
    errors = {}
    if request.status == "closed":
        errors["reason"] = "This request is already closed"
    elif any(m.status in RUNNING for m in matches_for(request)):
        errors["reason"] = "End the proposal or match first, so the volunteer is told"
    elif not reason:
        errors["reason"] = "Enter why the request is closing"
    elif len(reason) > MAX_NOTE:
        errors["reason"] = f"The reason must be {MAX_NOTE} characters or fewer"
    if errors:
        raise CaseworkInvalid(errors)
    request.status = "closed"
    request.notes = f"{request.notes}\n\nClosed: {reason}".strip()
    request.version += 1
    db.session.flush()
    audit_request(request, "volunteer-request-closed", actor)


# --- ranking and proposing ------------------------------------------------------------


def rank_volunteers(request: VolunteerRequest, *, today: date | None = None
                    ) -> tuple[list[ranking.Ranked], list[ranking.Excluded]]:
    """The team's volunteers who may be matched `today` (the volunteers part's rule:
    approved, references done, DBS check current), with an active account, offering the
    request's need, explained, best first; and those left out with why (already declined
    this request, already proposed, too far)."""
    today = today or local_day(utcnow())
    volunteers_now = list(db.session.scalars(
        volunteers.matchable_volunteers(request.team_id, today=today)
        .where(access.matchable_volunteers(request.team_id))))
    running = dict(db.session.execute(
        select(VolunteerMatch.volunteer_id, func.count())
        .where(VolunteerMatch.status == MatchStatus.ACCEPTED)
        .group_by(VolunteerMatch.volunteer_id)).all())
    left_out = {}
    for match in matches_for(request):
        if match.status is MatchStatus.DECLINED:
            left_out.setdefault(match.volunteer_id, "declined this request")
        elif match.status in RUNNING:
            left_out[match.volunteer_id] = f"already {match.status.label.lower()} for it"
    home = (request.latitude, request.longitude) if request.latitude is not None else None
    facts = [ranking.VolunteerFacts(
        v.id, v.name, frozenset(v.offers), (v.latitude, v.longitude)
        if v.latitude is not None and v.longitude is not None else None,
        frozenset(v.availability), v.travel_km, running.get(v.id, 0)) for v in volunteers_now]
    wanted = ranking.RequestFacts(request.need.value, request.need.label, home,
                                  frozenset(request.when))
    return ranking.rank(wanted, facts, left_out=left_out)


def propose(request: VolunteerRequest, volunteer: Volunteer, *, actor: User,
            now: datetime | None = None) -> VolunteerMatch:
    """Propose `volunteer` for the request: a PROPOSED match with the ranking's score and
    explanation; the volunteer is told in the app and by email, with a link to answer.
    A volunteer who is not approved (applied, declined, lapsed, left), whose checks do not
    stand today, offers something else, or is left out of the ranking is refused."""
    now = now or utcnow()
    today = local_day(now)
    if not access.may_work_request(actor, request):
        raise NotPermitted("You cannot propose volunteers for this request.")
    if request.status != "open":
        raise CaseworkInvalid({"volunteer": "This request is no longer open"})
    if volunteer.status is not VolunteerStatus.APPROVED or volunteer.user is None \
            or not volunteer.user.active or volunteer.team_id != request.team_id:
        why = (volunteer.status.label.lower() if volunteer.status is not VolunteerStatus.APPROVED
               else "without an active account" if volunteer.team_id == request.team_id
               else "in another team")
        raise CaseworkInvalid({"volunteer": f"{volunteer.name} cannot be matched: they are "
                                            f"{why}"})
    if not volunteers.is_matchable(volunteer, today):
        raise CaseworkInvalid({"volunteer": f"{volunteer.name} cannot be matched: "
                                            f"{checks_missing(volunteer)}"})
    ranked, excluded = rank_volunteers(request, today=today)
    left = next((e for e in excluded if e.volunteer_id == volunteer.id), None)
    if left is not None:
        raise CaseworkInvalid({"volunteer": f"{volunteer.name} cannot be proposed: {left.reason}"})
    found = next((r for r in ranked if r.volunteer_id == volunteer.id), None)
    if found is None:
        raise CaseworkInvalid({"volunteer": f"{volunteer.name} does not offer "
                                            f"{request.need.label.lower()}"})
    match = VolunteerMatch(volunteer=volunteer, request=request, status=MatchStatus.PROPOSED,
                           score=found.score, explanation=found.explanation,
                           proposed_by_id=actor.id, proposed_at=now)
    db.session.add(match)
    db.session.flush()
    link = url_for("volunteering.match", match_id=match.id)
    title = f"Can you help {first_name(request)}? {request.need.label}"
    notify(volunteer.user, "volunteer-match", title,
           "A connector would like to match you. Open it to accept or decline.", link, now=now)
    # An email leaves Kindly: what is asked, never who (referrals.sharing: EMAIL).
    outbox.write(to=volunteer.user.email, subject=f"Can you help? {request.need.label}",
                 body=_email_body(
                     f"Hello {volunteer.given_name},\n\nA connector at the hub would like to "
                     f"match you with someone: {request.need.label.lower()}.", link), now=now)
    audit_request(request, "volunteer-match-proposed", actor, match_id=match.id,
           volunteer_id=volunteer.id)
    return match


def checks_missing(volunteer: Volunteer) -> str:
    """Why an approved volunteer may not be matched (volunteers.is_matchable said no)."""
    if volunteer.references_checked_on is None:
        return "their references have not been checked"
    return ("their DBS check needs renewing" if volunteer.dbs_checked_on is not None
            else "their DBS check has not been recorded")


def _email_body(text: str, link: str) -> str:
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    where = (f"Sign in to answer: {base}{link}" if base
             else "Sign in to Kindly and open Your matches to answer.")
    return f"{text}\n\n{where}\n"


def audit_request(request: VolunteerRequest, action: str, actor: User | None,
                  **detail) -> None:
    """Every change to a person's match is on their record's trail (or the request's)."""
    if request.referral is not None:
        audit.record_referral(action, request.referral, actor=actor, request_id=request.id,
                              **detail)
    else:
        audit.record(action, actor=actor, entity_type="volunteer_request",
                     entity_id=request.id, detail=detail)


# --- changing a match: one winner -------------------------------------------------------


def lock_match(match: VolunteerMatch, expected_version: int | None) -> None:
    """Take the match's row lock and read it afresh; refuse a change from an old version.
    The volunteer's row first (shared), in a decision's order: it locks the volunteer,
    then the matches it ends; the other order deadlocks on PostgreSQL (a race test)."""
    _lock_volunteer(match.volunteer_id, shared=True)
    db.session.execute(select(VolunteerMatch.id).where(VolunteerMatch.id == match.id)
                       .with_for_update())
    revisions.reread(match.volunteer)
    revisions.reread(match)
    if expected_version is not None and expected_version != match.version:
        raise StaleMatch(match)


def _lock_volunteer(volunteer_id: int, *, shared: bool) -> None:
    db.session.execute(select(Volunteer.id).where(Volunteer.id == volunteer_id)
                       .with_for_update(read=shared, key_share=shared))


def answer(match: VolunteerMatch, *, accept: bool, note: str = "", actor: User,
           today: date, expected_version: int | None = None,
           now: datetime | None = None) -> None:
    """The volunteer accepts (the first check-in falls due two weeks later) or declines
    (with a reason) a proposed match; whoever proposed it is told."""
    lock_match(match, expected_version)
    if not access.is_own_match(actor, match):
        raise NotPermitted("Only the volunteer in this match can answer it.")
    if match.status is not MatchStatus.PROPOSED:
        raise StaleMatch(match)
    note = (note or "").strip()
    if not accept and not note:
        raise CaseworkInvalid({"note": "Enter why you cannot take this on"})
    if len(note) > MAX_NOTE:
        raise CaseworkInvalid({"note": f"The reason must be {MAX_NOTE} characters or fewer"})
    if accept and not volunteers.is_matchable(match.volunteer, today):
        raise CaseworkInvalid({"answer": "You cannot accept this until the hub has renewed "
                                         "your checks. They will be in touch"})
    now = now or utcnow()
    match.status = MatchStatus.ACCEPTED if accept else MatchStatus.DECLINED
    match.responded_at = now
    match.response_note = note
    if accept:
        match.next_check_in_on = today + FIRST_CHECK_IN
        match.request.status = "matched"
        match.request.version += 1
    match.version += 1
    db.session.flush()
    if match.proposed_by is not None:
        verb = "accepted" if accept else "declined"
        notify(match.proposed_by, f"volunteer-match-{verb}",
               f"{match.volunteer.name} {verb} the match with {first_name(match.request)}",
               note, url_for("volunteering.request_detail", request_id=match.request_id),
               now=now)
    audit_request(match.request, f"volunteer-match-{'accepted' if accept else 'declined'}", actor,
           match_id=match.id)


def end_match(match: VolunteerMatch, *, reason: str, actor: User,
              expected_version: int | None = None, now: datetime | None = None) -> None:
    """End (or withdraw) a proposed or running match, with the reason; the other side is
    told. The match and everything logged on it stay."""
    lock_match(match, expected_version)
    if not access.may_end_match(actor, match):
        raise NotPermitted("You cannot end this match.")
    if match.status not in RUNNING:
        raise StaleMatch(match)
    reason = (reason or "").strip()
    if not reason:
        raise CaseworkInvalid({"reason": "Enter why the match is ending"})
    if len(reason) > MAX_NOTE:
        raise CaseworkInvalid({"reason": f"The reason must be {MAX_NOTE} characters or fewer"})
    now = now or utcnow()
    close_match(match, reason=reason, ended_by=actor, now=now)
    title = f"Match ended: {match.volunteer.name} and {first_name(match.request)}"
    if access.is_own_match(actor, match):
        for user in hub_side(match):
            notify(user, "volunteer-match-ended", title, reason,
                   url_for("volunteering.request_detail", request_id=match.request_id), now=now)
    else:
        link = url_for("volunteering.match", match_id=match.id)
        notify(match.volunteer.user, "volunteer-match-ended", title, reason, link, now=now)
        # The reason and the person's name stay behind sign-in (referrals.sharing: EMAIL).
        outbox.write(to=match.volunteer.user.email,
                     subject=f"Match ended: {match.request.need.label.lower()}",
                     body=_email_body(
                         f"Hello {match.volunteer.given_name},\n\nThe hub has ended one of "
                         "your matches. Sign in to read why.", link), now=now)
    audit_request(match.request, "volunteer-match-ended", actor, match_id=match.id)


def close_match(match: VolunteerMatch, *, reason: str, ended_by: User | None,
                now: datetime) -> None:
    """End a proposed or running match (locked by the caller): who, when and why are
    kept with everything logged on it. A running match's request opens again."""
    was_running = match.status is MatchStatus.ACCEPTED
    match.status = MatchStatus.ENDED
    match.ended_at = now
    match.ended_by_id = ended_by.id if ended_by is not None else None
    match.end_reason = reason
    match.next_check_in_on = None
    if was_running:
        match.request.status = "open"  # the person may still want someone: the hub decides
        match.request.version += 1
    match.version += 1
    db.session.flush()


def hub_side(match: VolunteerMatch) -> list[User]:
    """Who hears from the volunteer's side: the referral's connector, else the proposer."""
    referral = match.request.referral
    users = [u for u in (referral.connector if referral else None, match.proposed_by)
             if u is not None and u.active]
    return list({u.id: u for u in users}.values())


# --- check-ins and hours --------------------------------------------------------------


def record_check_in(match: VolunteerMatch, *, rating: str | None, note: str,
                    next_on: date | None, actor: User, today: date,
                    expected_version: int | None = None,
                    now: datetime | None = None) -> VolunteerCheckIn:
    """How a running match is going; sets the next check-in (two weeks on if not given)."""
    lock_match(match, expected_version)
    if not access.may_work_request(actor, match.request):
        raise NotPermitted("You cannot check in on this match.")
    if match.status is not MatchStatus.ACCEPTED:
        raise StaleMatch(match)
    errors = {}
    if rating not in {r.value for r in CheckInRating}:
        errors["rating"] = "Select how the match is going"
    if next_on is not None and next_on <= today:
        errors["next_on"] = "The next check-in must be in the future"
    if len((note or "").strip()) > MAX_NOTE:
        errors["note"] = f"The note must be {MAX_NOTE} characters or fewer"
    if errors:
        raise CaseworkInvalid(errors)
    now = now or utcnow()
    check_in = VolunteerCheckIn(match_id=match.id, rating=CheckInRating(rating),
                                note=(note or "").strip(),
                                next_check_in_on=next_on or today + FIRST_CHECK_IN,
                                recorded_by_id=actor.id, recorded_at=now)
    db.session.add(check_in)
    match.next_check_in_on = check_in.next_check_in_on
    match.version += 1
    db.session.flush()
    audit_request(match.request, "volunteer-check-in", actor, match_id=match.id, rating=rating)
    return check_in


def check_ins_for(match: VolunteerMatch) -> list[VolunteerCheckIn]:
    return list(db.session.scalars(
        select(VolunteerCheckIn).where(VolunteerCheckIn.match_id == match.id)
        .order_by(VolunteerCheckIn.recorded_at.desc(), VolunteerCheckIn.id.desc())))


def overdue_check_ins(user: User, today: date) -> list[VolunteerMatch]:
    """Running matches of the requests `user` works whose check-in is due or past."""
    requests = access.scope_volunteer_requests(select(VolunteerRequest.id), user)
    return list(db.session.scalars(
        select(VolunteerMatch).where(VolunteerMatch.status == MatchStatus.ACCEPTED,
                                     VolunteerMatch.next_check_in_on <= today,
                                     VolunteerMatch.request_id.in_(requests))
        .order_by(VolunteerMatch.next_check_in_on, VolunteerMatch.id)))


def log_hours(match: VolunteerMatch, *, on: date | None, hours: float | None, note: str,
              actor: User, today: date) -> VolunteerHours:
    """The volunteer logs time given on their accepted (or since ended) match."""
    if not access.is_own_match(actor, match):
        raise NotPermitted("Only the volunteer in this match can log hours on it.")
    _lock_volunteer(match.volunteer_id, shared=False)  # before the match: see lock_match
    errors = {}
    if match.status not in (MatchStatus.ACCEPTED, MatchStatus.ENDED) or match.responded_at is None:
        errors["hours"] = "You can log hours only on a match you have accepted"
    if on is None:
        errors.setdefault("on", "Enter the date you gave the time")
    elif on > today:
        errors.setdefault("on", "The date must be today or in the past")
    if hours is None or not 0 < hours <= MAX_HOURS:
        errors.setdefault("hours", f"Enter the hours as a number from 0.25 to {MAX_HOURS}")
    note = (note or "").strip()
    if len(note) > 500:
        errors["note"] = "The note must be 500 characters or fewer"
    if errors:
        raise CaseworkInvalid(errors)
    entry = VolunteerHours(volunteer_id=match.volunteer_id, match_id=match.id, on=on,
                           hours=round(hours, 2), note=note)
    db.session.add(entry)
    match.volunteer.last_active_at = utcnow()
    db.session.flush()
    audit_request(match.request, "volunteer-hours", actor, match_id=match.id)
    return entry


def hours_for(match: VolunteerMatch) -> list[VolunteerHours]:
    return list(db.session.scalars(
        select(VolunteerHours).where(VolunteerHours.match_id == match.id)
        .order_by(VolunteerHours.on.desc(), VolunteerHours.id.desc())))


# --- the volunteer's side ---------------------------------------------------------------


@dataclass(frozen=True)
class MatchForVolunteer:
    """All a volunteer sees of a match: never health information, reasons, risks or an
    NHS number, only who, what, when, roughly where, and how to reach them."""

    match: VolunteerMatch
    first_name: str
    need: str
    when: str
    area: str
    phone: str  # only once they have accepted
    notes: str


def for_volunteer(match: VolunteerMatch) -> MatchForVolunteer:
    request = match.request
    accepted = match.status is MatchStatus.ACCEPTED
    return MatchForVolunteer(
        match, first_name(request), request.need.label,
        ranking.slot_words(request.when) or "Any time that suits you both",
        rough_area(request), contact_phone(request) if accepted else "",
        # The connector's note on the request is written for the volunteer (the form says).
        request.notes)


def own_matches(user: User) -> list[VolunteerMatch]:
    return list(db.session.scalars(
        access.scope_own_matches(select(VolunteerMatch), user)
        .order_by(VolunteerMatch.proposed_at.desc(), VolunteerMatch.id.desc())))
