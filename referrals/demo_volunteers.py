"""The demo town's volunteers (issue 15): Dave Wilson, approved, with the demo account
volunteer@kindly.example; and sign-ups in every state for the coordinator's list — two
awaiting checks, one due to renew soon, one lapsed, one declined."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from referrals import geo
from referrals.auth import service as auth
from referrals.extensions import db
from referrals.models import Role, Team, User, Volunteer, VolunteerStatus

DEMO_ACCOUNT = "volunteer@kindly.example"
COORDINATOR = "coordinator@kindly.example"  # who checked and decided, in the demo

# (given, family, postcode, offers, availability, status, references days ago,
#  DBS days ago, reason)
SIGN_UPS = [
    ("Dave", "Wilson", "KB1 4BT", ["befriending_calls"],
     ["mon-morning", "wed-morning", "wed-afternoon", "fri-morning"], VolunteerStatus.APPROVED,
     60, 50, "References and DBS satisfactory. Experienced befriender."),
    ("Carol", "Fenwick", "KB2 1EX", ["lifts", "shopping"],
     ["tue-morning", "thu-morning"], VolunteerStatus.APPROVED, 1100, 3 * 365 - 20,
     "References and DBS satisfactory."),
    ("Yusuf", "Karim", "KB3 2NS", ["walking_buddy", "group_helper"],
     ["sat-morning", "sun-afternoon"], VolunteerStatus.APPLIED, None, None, ""),
    ("Grace", "Obi", "KB1 6DQ", ["skills"], ["thu-evening"], VolunteerStatus.APPLIED, 5, None,
     ""),
    ("Ron", "Blake", "KB2 7LU", ["lifts"], ["mon-afternoon"], VolunteerStatus.LAPSED, 1500,
     3 * 365 + 30, "Their DBS check needs renewing."),
    ("Tina", "Marsh", "KB3 8RY", ["befriending_calls"], ["wed-evening"],
     VolunteerStatus.DECLINED, 10, None, "One reference was not satisfactory."),
]


def build(team: Team, accounts: list[User], *, now: datetime,
          progress: Callable[[str], None] = lambda _: None) -> None:
    """Add the volunteers; the demo account (made with the staff) becomes Dave's. Flushes."""
    today = now.date()
    coordinator = next(a for a in accounts if a.email == COORDINATOR)
    dave_account = next(a for a in accounts if a.email == DEMO_ACCOUNT)
    dave_account.team = team
    for n, (given, family, postcode, offers, free, status, refs, dbs, reason) in \
            enumerate(SIGN_UPS):
        place = geo.locate(postcode)
        volunteer = Volunteer(
            team=team, given_name=given, family_name=family,
            email=DEMO_ACCOUNT if n == 0 else f"{given.lower()}.{family.lower()}@example.com",
            phone=f"07700 900{600 + n:03d}", postcode=postcode,
            latitude=place.latitude if place else None,
            longitude=place.longitude if place else None, offers=offers,
            skills="Computer help and form filling" if "skills" in offers else "",
            availability=free, travel_km=8.0, consent_to_contact=True, status=status,
            status_reason=reason, references_checked_on=_ago(today, refs),
            references_checked_by=coordinator if refs is not None else None,
            dbs_checked_on=_ago(today, dbs),
            dbs_checked_by=coordinator if dbs is not None else None,
            created_at=now - timedelta(days=max(refs or 0, dbs or 0) + 7))
        if status is not VolunteerStatus.APPLIED:
            volunteer.decided_by, volunteer.decided_at = coordinator, now - timedelta(days=30)
        if n == 0:
            volunteer.user = dave_account
        elif status in (VolunteerStatus.APPROVED, VolunteerStatus.LAPSED):
            # Approved once, so they have an account; the demo never sends its invitation.
            volunteer.user = User(email=volunteer.email, name=volunteer.name,
                                  role=Role.VOLUNTEER, team=team,
                                  password_hash=auth.unusable_password())
        db.session.add(volunteer)
    db.session.flush()
    progress(f"Added {len(SIGN_UPS)} volunteers, one with the account {DEMO_ACCOUNT}.")


def _ago(today: date, days: int | None) -> date | None:
    return None if days is None else today - timedelta(days=days)
