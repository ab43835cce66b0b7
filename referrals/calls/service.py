"""The hub's phone line (issue 15, point 4).

A coordinator or connector logs each call as it ends. A call becomes one of three things
(CallOutcome): a self-referral (through the intake service, like every referral), a
volunteer request (which the matching pages list and match), or information given. The
log holds personal details, so every read and write is audited, and retention deletes it
after CALL_LOG_RETENTION_DAYS (referrals.retention). Services flush; the caller commits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update

from referrals import access, audit, geo, workdays
from referrals.errors import DomainError
from referrals.extensions import db
from referrals.intake import service as intake
from referrals.models import (
    CallOutcome,
    ConsentMethod,
    HubCall,
    Referral,
    User,
    VolunteerOffer,
    VolunteerRequest,
    utcnow,
)
from referrals.postcode import normalise_postcode

MAX_NAME = 200
MAX_TEXT = 2000
# "mon-morning" … "sun-evening", as Volunteer.availability and VolunteerRequest.when.
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PARTS_OF_DAY = ("morning", "afternoon", "evening")
WHEN_CHOICES = tuple(f"{d}-{p}" for d in DAYS for p in PARTS_OF_DAY)
_PHONE = re.compile(r"^[0-9 +()\-]{6,30}$", re.ASCII)
PER_PAGE = 25


class CallInvalid(DomainError):
    """The call broke one or more rules; `errors` maps a form field to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(errors.values()))


@dataclass
class CallDetails:
    caller_name: str = ""
    caller_phone: str = ""
    for_someone_else: bool = False
    their_agreement: bool = False
    person_name: str = ""
    need: str = ""
    urgent: bool = False
    outcome: CallOutcome | None = None
    information_given: str = ""
    # A volunteer request: what kind of help, when, and where the person is.
    request_need: VolunteerOffer | None = None
    when: list[str] = field(default_factory=list)
    postcode: str = ""
    # What the volunteer reads (the request's notes); the caller's words in `need` are
    # the hub's only (referrals.sharing: HubCall.need) and never copied there.
    volunteer_note: str = ""


def problems(d: CallDetails) -> dict[str, str]:
    """Every rule the call breaks, by form field; empty when it may be saved."""
    errors: dict[str, str] = {}
    if not d.caller_name.strip():
        errors["caller_name"] = "Enter the caller's name"
    elif len(d.caller_name.strip()) > MAX_NAME:
        errors["caller_name"] = f"Caller's name must be {MAX_NAME} characters or fewer"
    phone = d.caller_phone.strip()
    if phone and not _PHONE.match(phone):
        errors["caller_phone"] = "Enter a phone number, like 01632 960 001 or 07700 900 982"
    if d.for_someone_else and not d.person_name.strip():
        errors["person_name"] = "Enter the name of the person they are calling for"
    elif len(d.person_name.strip()) > MAX_NAME:
        errors["person_name"] = f"Person's name must be {MAX_NAME} characters or fewer"
    if not d.need.strip():
        errors["need"] = "Enter what they need"
    elif len(d.need) > MAX_TEXT:
        errors["need"] = f"What they need must be {MAX_TEXT} characters or fewer"
    if d.outcome is None:
        errors["outcome"] = "Select what the call became"
    elif d.for_someone_else and not d.their_agreement \
            and d.outcome is not CallOutcome.INFORMATION:
        # Nothing is set in motion for someone who has not agreed to it.
        errors["outcome"] = ("They are calling for someone who has not agreed, so you can "
                             "only give information. Select 'Information given', or ask "
                             "the person to call, or to agree")
    if d.outcome is CallOutcome.INFORMATION:
        if not d.information_given.strip():
            errors["information_given"] = "Enter what information you gave"
        elif len(d.information_given) > MAX_TEXT:
            errors["information_given"] = (
                f"Information given must be {MAX_TEXT} characters or fewer")
    if d.outcome is CallOutcome.VOLUNTEER_REQUEST:
        if d.request_need is None:
            errors["request_need"] = "Select what kind of help a volunteer should give"
        if not d.postcode.strip():
            errors["postcode"] = "Enter the postcode of the person who needs help"
        elif normalise_postcode(d.postcode) is None:
            errors["postcode"] = "Enter a full UK postcode, like KB1 2AB"
        if not phone:
            errors["caller_phone"] = "Enter a phone number, so a volunteer can be arranged"
        if any(w not in WHEN_CHOICES for w in d.when):
            errors["when"] = "Select times from the list"
        if len(d.volunteer_note.strip()) > MAX_TEXT:
            errors["volunteer_note"] = (
                f"The note for the volunteer must be {MAX_TEXT} characters or fewer")
    return errors


def record_call(d: CallDetails, *, actor: User, now: datetime | None = None) -> HubCall:
    """Log a call for the actor's team, and make the volunteer request it became (a
    self-referral needs the person's details first: `make_self_referral`). Raises
    CallInvalid naming every broken rule; NotPermitted for anyone who does not take calls.
    Flushes; the caller commits."""
    access.require_call_taker(actor)
    if errors := problems(d):
        raise CallInvalid(errors)
    now = now or utcnow()
    person = (d.person_name if d.for_someone_else else d.person_name or d.caller_name).strip()
    call = HubCall(
        team_id=actor.team_id, taken_by_id=actor.id, received_at=now,
        caller_name=d.caller_name.strip(), caller_phone=d.caller_phone.strip(),
        for_someone_else=d.for_someone_else,
        their_agreement=d.for_someone_else and d.their_agreement,
        person_name=person, need=d.need.strip(), urgent=d.urgent, outcome=d.outcome,
        information_given=(d.information_given.strip()
                           if d.outcome is CallOutcome.INFORMATION else ""),
    )
    db.session.add(call)
    if d.outcome is CallOutcome.VOLUNTEER_REQUEST:
        call.request = _volunteer_request(d, person, actor=actor, now=now)
    db.session.flush()
    audit.record("create", actor=actor, entity_type="hub_call", entity_id=call.id,
                 detail={"outcome": call.outcome.value, "urgent": call.urgent,
                         **({"request_id": call.request_id} if call.request_id else {})})
    return call


def _volunteer_request(d: CallDetails, person: str, *, actor: User,
                       now: datetime) -> VolunteerRequest:
    postcode = normalise_postcode(d.postcode) or ""
    place = geo.locate(postcode)
    request = VolunteerRequest(
        team_id=actor.team_id, need=d.request_need, given_name=person[:100],
        phone=d.caller_phone.strip(), postcode=postcode,
        latitude=place.latitude if place else None,
        longitude=place.longitude if place else None,
        when=[w for w in WHEN_CHOICES if w in d.when], notes=d.volunteer_note.strip(),
        status="open", created_by_id=actor.id, created_at=now)
    db.session.add(request)
    return request


def make_self_referral(call: HubCall, referral_intake: intake.IntakeRequest, *,
                       actor: User, now: datetime | None = None) -> Referral:
    """The self-referral a call became, made through the intake service with the person's
    agreement given by phone, and linked to the call. Raises IntakeInvalid or
    DuplicateOpenReferral as the intake service does; CallInvalid when the call cannot
    become a referral (another outcome, or one already made)."""
    access.require_call(actor, call)
    if call.outcome is not CallOutcome.SELF_REFERRAL:
        raise CallInvalid({"outcome": "This call did not become a self-referral"})
    if call.referral_id is not None:
        raise CallInvalid({"outcome": "This call's self-referral has already been made"})
    referral_intake.source = intake.SELF_REFERRAL
    if referral_intake.consent is not None:
        referral_intake.consent.method = ConsentMethod.VERBAL_PHONE
    referral = intake.create_referral(referral_intake, actor=actor,
                                      actor_label=f"Phone call to the hub ({actor.email})",
                                      now=now)
    # Checked against what the call was when this began: of two people making the
    # referral at once, the one whose update finds it still unmade wins; the other's
    # referral is rolled back with the error (the caller commits nothing).
    claimed = db.session.execute(
        update(HubCall).where(HubCall.id == call.id, HubCall.referral_id.is_(None))
        .values(referral_id=referral.id).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise CallInvalid({"outcome": "This call's self-referral has already been made"})
    db.session.refresh(call, ["referral_id"])
    audit.record("update", actor=actor, entity_type="hub_call", entity_id=call.id,
                 patient_id=referral.patient_id,
                 detail={"referral_id": referral.id, "reference": referral.reference})
    return referral


# --- reading the log -------------------------------------------------------------


@dataclass
class CallPage:
    rows: list[HubCall]
    page: int
    pages: int
    total: int


def search_calls(actor: User, *, from_day: date | None = None, to_day: date | None = None,
                 outcome: CallOutcome | None = None, page: int = 1,
                 per_page: int = PER_PAGE) -> CallPage:
    """One page of the calls `actor` may see, newest first, received between the two days
    (inclusive, Europe/London) and with this outcome when given. Audited as a list."""
    query = access.scope_calls(select(HubCall), actor)
    query = _between(query, from_day, to_day)
    if outcome is not None:
        query = query.where(HubCall.outcome == outcome)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = list(db.session.scalars(
        query.order_by(HubCall.received_at.desc(), HubCall.id.desc())
        .limit(per_page).offset((page - 1) * per_page)))
    audit.record("list", actor=actor, entity_type="hub_call",
                 detail={"page": "calls", "shown": [c.id for c in rows]})
    return CallPage(rows=rows, page=page, pages=pages, total=total)


def read_call(actor: User, call_id: int) -> HubCall | None:
    """The call if `actor` may see it (audited as read); None otherwise."""
    call = db.session.scalars(
        access.scope_calls(select(HubCall), actor).where(HubCall.id == call_id)).first()
    if call is not None:
        audit.record("read", actor=actor, entity_type="hub_call", entity_id=call.id)
    return call


def counts_by_outcome(team_id: int, *, from_day: date | None = None,
                      to_day: date | None = None) -> dict[CallOutcome, int]:
    """How many calls the team logged between the days, per outcome (every outcome, 0s
    included). Counts only: the report suppresses small ones as it shows them."""
    query = _between(select(HubCall.outcome, func.count()).where(HubCall.team_id == team_id),
                     from_day, to_day).group_by(HubCall.outcome)
    counts = dict.fromkeys(CallOutcome, 0)
    for outcome, n in db.session.execute(query):
        counts[CallOutcome(outcome)] = n
    return counts


def _between(query, from_day: date | None, to_day: date | None):
    if from_day is not None:
        query = query.where(HubCall.received_at >= _start_of(from_day))
    if to_day is not None:
        query = query.where(HubCall.received_at < _start_of(to_day + timedelta(days=1)))
    return query


def _start_of(day: date) -> datetime:
    """Midnight in Europe/London, as the UTC instant the log stores."""
    return datetime.combine(day, time(), tzinfo=workdays.UK).astimezone(UTC)
