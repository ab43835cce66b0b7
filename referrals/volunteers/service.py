"""Volunteers (issue 15): "how can you help?" sign-ups, DBS renewals, and who may be
matched; and how every change to a volunteer is version-checked.

Services take an explicit actor, raise domain errors, audit and flush; the caller
commits once. A change to a volunteer names the version it started from: the view loads
the row with `for_change()` (its lock), and `begin_change()` refuses a stale version, so
of two coordinators deciding at once exactly one wins. A coordinator's checks and
decision are in decisions.py; what a volunteer changes of their own record in own.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from sqlalchemy import Select, and_, select

from referrals import audit, geo, signals
from referrals.auth import service as auth
from referrals.errors import DomainError
from referrals.extensions import db
from referrals.models import (
    Team,
    Volunteer,
    VolunteerOffer,
    VolunteerStatus,
    utcnow,
)
from referrals.postcode import normalise_postcode

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


# A write that lost at the database (its UPDATE found a newer version): said alike.
RACED = ("Someone else changed this record at the same moment, so your change was not "
         "saved. Check the page, then try again.")


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


def nearest_team(postcode: str, teams: list[Team]) -> Team | None:
    """The hub with a practice nearest `postcode`; None when the postcode (or every
    practice) cannot be placed on the map."""
    here = geo.locate(postcode)
    if here is None:
        return None
    distances = [(geo.haversine_km(here.latitude, here.longitude, p.latitude, p.longitude),
                  team.id, team) for team in teams for practice in team.practices
                 if (p := geo.locate(practice.postcode)) is not None]
    return min(distances, default=(None, None, None))[2]


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


def years_before(day: date, years: int) -> date:
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
    return Volunteer.dbs_checked_on > years_before(today, renew_years())


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


def renewal_job(*, now: datetime) -> int:
    """The scheduled job (`volunteer-renewals`): lapse_expired(), committed."""
    lapsed = lapse_expired(now=now)
    db.session.commit()
    return lapsed


RENEWALS_JOB = "Scheduled job: volunteer renewals"


def lapse_expired(*, now: datetime) -> int:
    """Every approved volunteer whose DBS check has run out becomes lapsed (audited), so
    nobody matches them until a new check is recorded, and matching settles their running
    matches (signals.volunteer_stepped_back). Returns how many lapsed."""
    today = now.date()
    due = db.session.scalars(
        select(Volunteer).where(Volunteer.status == VolunteerStatus.APPROVED,
                                ~_dbs_current_on(today) | Volunteer.dbs_checked_on.is_(None))
        .with_for_update().order_by(Volunteer.id)).all()
    for volunteer in due:
        volunteer.status, volunteer.status_reason = VolunteerStatus.LAPSED, DBS_EXPIRED
        volunteer.decided_by, volunteer.decided_at = None, now
        touch(volunteer)
        audit.record("lapse", actor=None, actor_label=RENEWALS_JOB,
                     entity_type="volunteer", entity_id=volunteer.id,
                     detail={"dbs_checked_on": str(volunteer.dbs_checked_on)})
        db.session.flush()
        signals.volunteer_stepped_back.send(volunteer, actor=None, actor_label=RENEWALS_JOB,
                                            now=now)
    db.session.flush()
    return len(due)


# --- changing a volunteer: one winner -----------------------------------------------


def for_change(query: Select) -> Select:
    """`query` over Volunteer, taking the row lock and re-reading it: for a request about
    to change the volunteer."""
    return query.with_for_update(of=Volunteer).execution_options(populate_existing=True)


def begin_change(volunteer: Volunteer, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != volunteer.version:
        raise StaleVolunteer(volunteer)


def touch(volunteer: Volunteer) -> None:
    volunteer.version = (volunteer.version or 1) + 1
