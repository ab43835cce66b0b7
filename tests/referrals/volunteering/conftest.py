"""Fixtures for volunteer matching: the casework tests' hub, a person who needs a
volunteer, and a builder of volunteers (approved with an account unless told)."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from referrals.models import (
    PostcodePlace,
    ReferralStatus,
    Role,
    Volunteer,
    VolunteerStatus,
)
from tests.referrals.caseload import conftest as casework

hub = casework.hub
HOME = ("LS1 4AP", 53.7960, -1.5470)  # the builders' postcode for every person
TODAY = date(2026, 3, 10)
# Checks recorded a month ago: current on TODAY and on the real today alike.
CHECKED_ON = date.today() - timedelta(days=30)
_n = itertools.count(1)


@pytest.fixture
def referral(db, make, hub):
    db.session.merge(PostcodePlace(postcode=HOME[0], latitude=HOME[1], longitude=HOME[2]))
    return make.referral(hub.practice, connector=hub.connector,
                         status=ReferralStatus.IN_PROGRESS,
                         person={"given_name": "Ada", "family_name": "Lovelace",
                                 "phone": "07700 900123"})


class Volunteers:
    def __init__(self, db, make):
        self.db, self.make = db, make

    def __call__(self, team, name="Dave Wilson", *, offers=("befriending_calls",),
                 km_north: float | None = 1.0, availability=("mon-morning",),
                 travel_km=None, status=VolunteerStatus.APPROVED, account=True,
                 checked_on: date | None = CHECKED_ON, dbs_on: date | None = CHECKED_ON
                 ) -> Volunteer:
        given, _, family = name.partition(" ")
        user = self.make.user(Role.VOLUNTEER, name=name) if account else None
        volunteer = Volunteer(
            team_id=team.id, user=user, given_name=given, family_name=family,
            email=user.email if user else f"v{next(_n)}@test.example", postcode="LS1 1AA",
            latitude=None if km_north is None else HOME[1] + km_north / 111.2,
            longitude=None if km_north is None else HOME[2],
            offers=list(offers), availability=list(availability), travel_km=travel_km,
            consent_to_contact=True, status=status, references_checked_on=checked_on,
            dbs_checked_on=dbs_on)
        self.db.session.add(volunteer)
        self.db.session.flush()
        return volunteer


@pytest.fixture
def volunteers(db, make) -> Volunteers:
    return Volunteers(db, make)
