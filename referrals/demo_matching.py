"""The demo's volunteer matching (issue 15): a person on Jo Bennett's caseload asked for a
weekly phone call, and Dave Wilson, an approved volunteer, is there to be matched.

Dave may already exist (the volunteers part of the demo signs him up and approves him):
he is looked up by email first and made here only when absent.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from referrals import geo
from referrals.auth.service import create_user
from referrals.extensions import db
from referrals.models import (
    Referral,
    ReferralStatus,
    Role,
    Team,
    User,
    Volunteer,
    VolunteerOffer,
    VolunteerRequest,
    VolunteerStatus,
)

VOLUNTEER_EMAIL = "volunteer@kindly.example"
CONNECTOR_EMAIL = "connector@kindly.example"
WEEKLY_CALL_NOTES = ("A friendly phone call once a week would help, ideally on a Monday "
                     "morning. Likes talking about gardening and the radio.")


def build(*, team: Team, password: str, now: datetime) -> list[User]:
    """Dave (if absent) and the weekly-call request. Returns the accounts it created."""
    created = []
    user = db.session.scalar(select(User).where(User.email == VOLUNTEER_EMAIL))
    if user is None:
        user = create_user(email=VOLUNTEER_EMAIL, name="Dave Wilson", role=Role.VOLUNTEER,
                           password=password)
        created.append(user)
    if db.session.scalar(select(Volunteer.id).where(Volunteer.user_id == user.id)) is None:
        place = geo.locate("KB1 4BT")
        db.session.add(Volunteer(
            team_id=team.id, user_id=user.id, given_name="Dave", family_name="Wilson",
            email=VOLUNTEER_EMAIL, phone="07700 900456", postcode="KB1 4BT",
            latitude=place.latitude if place else None,
            longitude=place.longitude if place else None,
            offers=[VolunteerOffer.BEFRIENDING_CALLS.value, VolunteerOffer.WALKING_BUDDY.value],
            availability=["mon-morning", "wed-afternoon", "thu-morning"],
            availability_note="Retired; free most mornings.", travel_km=5,
            consent_to_contact=True, status=VolunteerStatus.APPROVED,
            status_reason="References and DBS check done.", decided_at=now - timedelta(days=30),
            references_checked_on=(now - timedelta(days=35)).date(),
            dbs_checked_on=(now - timedelta(days=32)).date()))
    referral = db.session.scalar(
        select(Referral).join(User, Referral.connector_id == User.id)
        .where(User.email == CONNECTOR_EMAIL, Referral.status == ReferralStatus.IN_PROGRESS)
        .order_by(Referral.id))
    if referral is not None:
        place = geo.locate(referral.patient.postcode)
        db.session.add(VolunteerRequest(
            team_id=team.id, referral_id=referral.id, need=VolunteerOffer.BEFRIENDING_CALLS,
            postcode=referral.patient.postcode,
            latitude=place.latitude if place else None,
            longitude=place.longitude if place else None,
            when=["mon-morning", "thu-morning"], notes=WEEKLY_CALL_NOTES, status="open",
            created_by_id=referral.connector_id, created_at=now - timedelta(days=1)))
    db.session.flush()
    return created
