"""Volunteers (issue 15): "how can you help?" sign-ups, a coordinator's checks and
decision, DBS renewals, and who may be matched.

Services take an explicit actor, raise domain errors, audit and flush; the caller
commits once. A change to a volunteer names the version it started from: the view loads
the row with `for_change()` (its lock), and `begin_change()` refuses a stale version, so of two
coordinators deciding at once exactly one wins. What a volunteer changes of their own
record is in referrals/volunteers/own.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import Select, and_, select

from referrals import audit, geo
from referrals.accounts import outbox, tokens
from referrals.accounts.service import SET_PASSWORD_PATH
from referrals.auth import service as auth
from referrals.errors import DomainError
from referrals.extensions import db
from referrals.models import (
    Role,
    Team,
    TokenPurpose,
    User,
    Volunteer,
    VolunteerOffer,
    VolunteerStatus,
    utcnow,
)
from referrals.postcode import normalise_postcode
from referrals.presentation import local_time

DAYS = (("mon", "Monday"), ("tue", "Tuesday"), ("wed", "Wednesday"), ("thu", "Thursday"),
        ("fri", "Friday"), ("sat", "Saturday"), ("sun", "Sunday"))
TIMES = (("morning", "Morning"), ("afternoon", "Afternoon"), ("evening", "Evening"))
SLOTS = tuple(f"{day}-{time}" for day, _ in DAYS for time, _ in TIMES)
SLOT_LABELS = {f"{day}-{time}": f"{day_label} {time_label.lower()}"
               for day, day_label in DAYS for time, time_label in TIMES}
OFFERS = tuple(offer.value for offer in VolunteerOffer)
# The status_reason the renewal job writes: recording a new DBS check re-approves only a
# volunteer who lapsed for this, never one taking a break.
DBS_EXPIRED = "Their DBS check needs renewing."
# Who may still be reviewed, decided on, and (once approved) matched.
DECIDABLE = frozenset({VolunteerStatus.APPLIED, VolunteerStatus.APPROVED,
                       VolunteerStatus.LAPSED, VolunteerStatus.DECLINED})
MAX_REASON = 1000
MAX_NAME = 200


class VolunteerInvalid(DomainError):
    """`errors` maps a form field name to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(errors.values()))


class StaleVolunteer(DomainError):
    def __init__(self, volunteer: Volunteer):
        self.volunteer = volunteer
        super().__init__(
            f"Someone else changed {volunteer.name}'s record since you opened it: they are "
            f"now {volunteer.status.label.lower()}. Check the page, then try again.")


@dataclass
class VolunteerDetails:
    """What a person tells the hub about themselves ("how can you help?")."""

    given_name: str
    family_name: str
    email: str
    phone: str
    postcode: str
    offers: list[str] = field(default_factory=list)
    skills: str = ""
    availability: list[str] = field(default_factory=list)
    availability_note: str = ""
    travel_km: float | None = None
    consent: bool = False


def check_details(details: VolunteerDetails) -> dict[str, str]:
    """The rules every sign-up keeps, whoever sends it (the forms word them first)."""
    errors = {}
    if not details.given_name.strip():
        errors["given_name"] = "Enter your first name"
    if "@" not in details.email or " " in details.email.strip() or len(details.email) > 254:
        errors["email"] = "Enter an email address in the correct format, like name@example.com"
    if normalise_postcode(details.postcode) is None:
        errors["postcode"] = "Enter a real postcode, like KB1 1AA"
    if not details.offers or not set(details.offers) <= set(OFFERS):
        errors["offers"] = "Select at least one way you could help"
    if VolunteerOffer.SKILLS in details.offers and not details.skills.strip():
        errors["skills"] = "Tell us which skills you could share"
    if not details.availability or not set(details.availability) <= set(SLOTS):
        errors["availability"] = "Select at least one time you are usually free"
    if not details.consent:
        errors["consent"] = "Tick the box to agree that the hub may contact you"
    return errors


def teams_taking_volunteers() -> list[Team]:
    """The hubs a person may offer to help: those serving at least one practice."""
    return list(db.session.scalars(
        select(Team).where(Team.practices.any()).order_by(Team.name)))


def sign_up(details: VolunteerDetails, *, team: Team, origin: str = "",
            now: datetime | None = None) -> Volunteer:
    """Store a public sign-up for `team`'s coordinators to review, placed on the map so
    matching can measure distance (an unknown postcode keeps no place, never an error).
    Audited with the client's keyed `origin`, which the sign-up rate limit counts."""
    if errors := check_details(details):
        raise VolunteerInvalid(errors)
    now = now or utcnow()
    postcode = normalise_postcode(details.postcode)
    place = geo.locate(postcode)
    volunteer = Volunteer(
        team=team, given_name=details.given_name.strip(),
        family_name=details.family_name.strip(), email=auth.normalise_email(details.email),
        phone=details.phone.strip(), postcode=postcode,
        latitude=place.latitude if place else None, longitude=place.longitude if place else None,
        offers=[o for o in OFFERS if o in details.offers],
        skills=details.skills.strip() if VolunteerOffer.SKILLS in details.offers else "",
        availability=[s for s in SLOTS if s in details.availability],
        availability_note=details.availability_note.strip(), travel_km=details.travel_km,
        consent_to_contact=True, status=VolunteerStatus.APPLIED, last_active_at=now,
        created_at=now)
    db.session.add(volunteer)
    db.session.flush()
    audit.record("create", actor=None, actor_label="Volunteer sign-up (public site)",
                 entity_type="volunteer", entity_id=volunteer.id, origin=origin or None,
                 detail={"team_id": team.id})
    return volunteer


# --- renewals ------------------------------------------------------------------------


def renew_years() -> int:
    return int(current_app.config["VOLUNTEER_DBS_RENEW_YEARS"])


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def dbs_renew_on(volunteer: Volunteer) -> date | None:
    """The day the volunteer's DBS check stops counting; None before one is recorded."""
    if volunteer.dbs_checked_on is None:
        return None
    checked, years = volunteer.dbs_checked_on, renew_years()
    try:
        return checked.replace(year=checked.year + years)
    except ValueError:
        return checked.replace(year=checked.year + years, month=3, day=1)


def dbs_current(volunteer: Volunteer, today: date) -> bool:
    renew_on = dbs_renew_on(volunteer)
    return renew_on is not None and today < renew_on


def _dbs_current_on(today: date):
    return Volunteer.dbs_checked_on > _years_before(today, renew_years())


def matchable(today: date):
    """The condition a volunteer meets to be matched: approved, references done and a DBS
    check still current (so an expired check counts even before the renewal job runs)."""
    return and_(Volunteer.status == VolunteerStatus.APPROVED,
                Volunteer.references_checked_on.is_not(None), _dbs_current_on(today))


def matchable_volunteers(team_id: int, *, today: date) -> Select:
    """Issue 15 (matching calls this): the team's volunteers who may be matched today,
    as a select over Volunteer to narrow further (by offer, distance…). A declined,
    lapsed or left volunteer, or one whose check expired, is never among them."""
    return select(Volunteer).where(Volunteer.team_id == team_id, matchable(today)) \
        .order_by(Volunteer.family_name, Volunteer.given_name, Volunteer.id)


def is_matchable(volunteer: Volunteer, today: date) -> bool:
    """One volunteer, as matchable_volunteers() decides (for a proposal or an answer)."""
    return (volunteer.status is VolunteerStatus.APPROVED
            and volunteer.references_checked_on is not None and dbs_current(volunteer, today))


def renewal_days(volunteer: Volunteer, today: date) -> int | None:
    """Days until the DBS check needs renewing (negative: overdue); None if not approved
    or lapsed, or no check is recorded."""
    if volunteer.status not in (VolunteerStatus.APPROVED, VolunteerStatus.LAPSED):
        return None
    renew_on = dbs_renew_on(volunteer)
    return None if renew_on is None else (renew_on - today).days


def lapse_expired(*, now: datetime) -> int:
    """The scheduled job: every approved volunteer whose DBS check has run out becomes
    lapsed (audited), so nobody matches them until a new check is recorded. Commits;
    returns how many lapsed."""
    today = now.date()
    due = db.session.scalars(
        select(Volunteer).where(Volunteer.status == VolunteerStatus.APPROVED,
                                ~_dbs_current_on(today) | Volunteer.dbs_checked_on.is_(None))
        .with_for_update().order_by(Volunteer.id)).all()
    for volunteer in due:
        volunteer.status, volunteer.status_reason = VolunteerStatus.LAPSED, DBS_EXPIRED
        volunteer.decided_by, volunteer.decided_at = None, now
        touch(volunteer)
        audit.record("lapse", actor=None, actor_label="Scheduled job: volunteer renewals",
                     entity_type="volunteer", entity_id=volunteer.id,
                     detail={"dbs_checked_on": str(volunteer.dbs_checked_on)})
    db.session.commit()
    return len(due)


# --- a coordinator's checks and decision ---------------------------------------------


def for_change(query: Select) -> Select:
    """`query` over Volunteer, taking the row lock and re-reading it: for a request about
    to change the volunteer."""
    return query.with_for_update(of=Volunteer).execution_options(populate_existing=True)


def begin_change(volunteer: Volunteer, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != volunteer.version:
        raise StaleVolunteer(volunteer)


def touch(volunteer: Volunteer) -> None:
    volunteer.version = (volunteer.version or 1) + 1


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
            and dbs_on <= _years_before(today, renew_years()):
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
    """Decline `volunteer`, with the reason: they are never matched, and an account they
    had stops working."""
    begin_change(volunteer, expected_version)
    reason = _reason(reason, "declining")
    if volunteer.status not in DECIDABLE:
        raise VolunteerInvalid({"decision": f"{volunteer.name} has left already"})
    if volunteer.status is VolunteerStatus.DECLINED:
        raise VolunteerInvalid({"decision": f"{volunteer.name} is already declined"})
    if volunteer.user is not None and volunteer.user.active:
        auth.deactivate_user(volunteer.user, actor=actor)
    volunteer.status, volunteer.status_reason = VolunteerStatus.DECLINED, reason
    volunteer.decided_by, volunteer.decided_at = actor, now or utcnow()
    touch(volunteer)
    audit.record("decline", actor=actor, entity_type="volunteer", entity_id=volunteer.id)
    db.session.flush()


def _reason(reason: str, doing: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise VolunteerInvalid({"reason": f"Enter the reason for {doing}"})
    if len(reason) > MAX_REASON:
        raise VolunteerInvalid({"reason": f"The reason must be {MAX_REASON} characters or fewer"})
    return reason


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
